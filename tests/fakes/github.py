"""Fake GitHub on 127.0.0.1: the OAuth app flow of github.com and the REST API of api.github.com,
on one server (point both VOPIX_GITHUB_BASE_URL and VOPIX_GITHUB_API_BASE_URL at ``fake.url``).

Usage::

    with FakeGitHub(client_id="Iv1.abc", client_secret="s3cret") as fake:
        fake.add_repo("octo/hello", issues=[{"title": "Crash on start", "labels": ["bug"]}],
                      pulls=[{"title": "Fix the crash", "head": "fix"}])
        code = fake.authorize(redirect_uri="http://app/cb", scope="repo", state="xyz",
                              code_challenge=s256(verifier), code_challenge_method="S256")
        # or a browser opens {fake.url}/login/oauth/authorize?client_id=...&state=... and clicks
        # "Authorize" on the page headed "Authorize VOPIX": 302 to redirect_uri?code=...&state=...
        r = httpx.post(f"{fake.url}/login/oauth/access_token", headers={"Accept": "application/json"},
                       data={"client_id": "Iv1.abc", "client_secret": "s3cret", "code": code,
                             "redirect_uri": "http://app/cb", "code_verifier": verifier})
        token = r.json()["access_token"]                     # "gho_..."
        fake.add_token("github_pat_X", "octocat", scopes=None)   # a fine-grained PAT
        fake.rate_limit_next()                   # next API call: 403 "API rate limit exceeded"
        fake.rate_limit_next(secondary=True)     # next API call: 429 with Retry-After
        fake.requests[-1].headers["Authorization"]

What is modelled: users (one "signed in" on the consent page: ``fake.signed_in``), OAuth codes
(single use, 10 minutes, bound to client_id and redirect_uri, PKCE S256 when a challenge was
sent), tokens with classic scopes or none (fine-grained), repositories with issues, pull
requests and comments, GitHub's error bodies, paging with Link headers, primary and secondary
rate limits, the app token endpoints (check, revoke, revoke grant). Token-exchange errors are
HTTP 200 with ``{"error": ...}`` as GitHub answers them. Not modelled: GitHub App installation
tokens and expiring user tokens (refresh), unauthenticated API calls, reactions, edits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from tests.fakes._github_api import Call, GitHubAPI
from tests.fakes._github_model import GitHubError, Repo, Token, not_found
from tests.fakes._github_oauth import GitHubOAuth
from tests.fakes._http import LoopbackServer, Request, Response
from tests.fakes._oauth import CodeStore, bearer, s256

__all__ = ["FakeGitHub", "s256"]

DEFAULT_CLIENT_ID = "Iv1.f4kegithubclient0"
DEFAULT_CLIENT_SECRET = "fake-github-client-secret-0000000000000000"


class FakeGitHub(GitHubOAuth, GitHubAPI, LoopbackServer):
    """In-process fake of ``github.com`` (OAuth) and ``api.github.com``; see the module doc."""

    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        *,
        login: str = "octocat",
        name: str | None = "The Octocat",
        email: str | None = "octocat@example.com",
        app_name: str = "VOPIX",
        callback_url: str | None = None,
        rate_limit: int = 5000,
    ) -> None:
        LoopbackServer.__init__(self)
        self._init_model()
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_name = app_name
        self.callback_url = callback_url  # when set, redirect_uri must be under it
        self.signed_in = login  # who is logged in to github.com in "the browser"
        self.rate_limit = rate_limit  # core requests per hour and user (search: 30 a minute)
        self.requests: list[Request] = []  # every request received, in order
        self.revoked: list[str] = []  # tokens revoked through the application endpoints
        self.codes = CodeStore()
        self.offset = 0.0  # seconds added to the real clock (``advance``)
        self._failures: list[Response] = []
        self._usage: dict[tuple[str, str], list[float]] = {}  # (login, resource) -> [used, reset]
        self._routes = self._api_routes()
        self._ensure_user(login, name, email)

    # ------------------------------------------------------------------ test controls

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (codes expire after 10 minutes; rate-limit windows reset)."""
        self.offset += seconds

    def add_user(self, login: str, *, name: str | None = None, email: str | None = None
                 ) -> dict[str, Any]:
        with self._lock:
            return dict(self._ensure_user(login, name, email))

    def add_token(self, token: str, login: str | None = None,
                  scopes: Iterable[str] | None = ("repo", "read:user")) -> str:
        """Register a personal access token of ``login`` (default: the signed-in user).
        ``scopes=None`` makes it fine-grained (no ``X-OAuth-Scopes``, access to member repos)."""
        with self._lock:
            user = self._ensure_user(login or self.signed_in)
            self.tokens[token] = Token(token, user["login"], None if scopes is None else list(scopes),
                                       None, 5_000_000 + self._next())
        return token

    def revoke(self, token: str) -> None:
        """The person revokes the token on github.com: it answers 401 from now on."""
        with self._lock:
            self.tokens.pop(token, None)

    def add_repo(
        self,
        full_name: str,
        *,
        issues: Iterable[Mapping[str, Any]] = (),
        pulls: Iterable[Mapping[str, Any]] = (),
        private: bool = False,
        members: Iterable[str] | None = None,
        has_issues: bool = True,
        description: str | None = None,
    ) -> Repo:
        """Seed a repository. ``issues``/``pulls``: dicts with ``title`` and optional ``body``,
        ``labels``, ``state``, ``user``, ``assignees`` (pulls: ``head``, ``base``, ``draft``,
        ``merged``); numbered 1, 2, ... in the order given, issues first. ``members`` are the
        collaborators besides the owner (default ``None``: every user of the fake)."""
        owner, _, name = full_name.partition("/")
        with self._lock:
            self._ensure_user(owner)
            repo = Repo(owner, name, 10_000 + self._next(), private=private,
                        has_issues=has_issues, description=description,
                        members=None if members is None else set(members), created=self._stamp())
            self.repos[full_name.lower()] = repo
        for spec in issues:
            self.add_issue(full_name, **spec)
        for spec in pulls:
            self.add_issue(full_name, pull=True, **spec)
        return repo

    def add_issue(self, full_name: str, title: str, *, pull: bool = False, **spec: Any) -> int:
        """Seed one issue (or pull request with ``pull=True``); returns its number."""
        with self._lock:
            repo = self.repos[full_name.lower()]
            number = repo.next_number()
            item = self._item_from_spec(number, {"title": title, **spec}, repo.owner,
                                        self._stamp(), pull, 2_000_000 + self._next())
            for login in item.assignees:
                self._ensure_user(login)
            repo.items[number] = item
        return number

    def issues(self, full_name: str) -> list[dict[str, Any]]:
        """The repository's issues and pulls as the API renders them, by number."""
        with self._lock:
            repo = self.repos[full_name.lower()]
            return [self.issue_json(repo, repo.items[n]) for n in sorted(repo.items)]

    def comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self._lock:
            repo = self.repos[full_name.lower()]
            item = repo.items[number]
            return [self.comment_json(repo, item, c) for c in item.comments]

    def rate_limit_next(self, *, secondary: bool = False, seconds: int = 60, count: int = 1,
                        status: int | None = None, retry_after_header: bool | None = None) -> None:
        """The next ``count`` API calls hit a rate limit. Primary (default): 403 "API rate limit
        exceeded", ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset`` ``seconds`` ahead (no
        Retry-After unless ``retry_after_header``). Secondary: 429 (or ``status``) "You have
        exceeded a secondary rate limit" with ``Retry-After: seconds``."""
        with_retry = secondary if retry_after_header is None else retry_after_header
        for _ in range(count):
            reset = int(self.now()) + seconds
            headers = {"X-RateLimit-Limit": str(self.rate_limit),
                       "X-RateLimit-Remaining": "0" if not secondary else str(self.rate_limit - 1),
                       "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "core"}
            if with_retry:
                headers["Retry-After"] = str(seconds)
            rid = _request_id()
            if secondary:
                code = status or 429
                message = ("You have exceeded a secondary rate limit. Please wait a few minutes "
                           "before you try again. If you reach out to GitHub Support for help, "
                           f"please include the request ID {rid}.")
            else:
                code = status or 403
                message = ("API rate limit exceeded for user ID 1. If you reach out to GitHub "
                           f"Support for help, please include the request ID {rid}.")
            error = GitHubError(code, message, headers={**headers, "X-GitHub-Request-Id": rid},
                                documentation_url="https://docs.github.com/rest/using-the-rest-api/"
                                                  "rate-limits-for-the-rest-api")
            with self._lock:
                self._failures.append(error.response())

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        path = request.path.rstrip("/") or "/"
        if path == "/login/oauth/authorize":
            return self._authorize_page(request)
        if path == "/login/oauth/access_token":
            return self._access_token(request)
        try:
            if path.startswith("/applications/"):
                return self._application(request, path)
            return self._api(request, path)
        except GitHubError as exc:
            return exc.response()

    # ------------------------------------------------------------------ REST API

    def _api(self, request: Request, path: str) -> Response:
        value = bearer(request, "bearer", "token")
        if value is None:
            raise GitHubError(401, "Requires authentication")
        with self._lock:
            token = self.tokens.get(value)
            if token is None:
                raise GitHubError(401, "Bad credentials")
            if path == "/rate_limit":
                return Response(200, self._rate_limit_json(token.login))
            failure = self._failures.pop(0) if self._failures else None
            if failure is not None:
                return failure
            resource = "search" if path.startswith("/search/") else "core"
            limit, used, reset = self._count(token.login, resource)
            headers = {"X-RateLimit-Limit": str(limit),
                       "X-RateLimit-Remaining": str(max(limit - used, 0)),
                       "X-RateLimit-Reset": str(int(reset)), "X-RateLimit-Used": str(used),
                       "X-RateLimit-Resource": resource, "X-GitHub-Request-Id": _request_id(),
                       "X-GitHub-Media-Type": "github.v3; format=json"}
            if token.scopes is not None:
                headers["X-OAuth-Scopes"] = ", ".join(token.scopes)
                headers["X-Accepted-OAuth-Scopes"] = "repo"
            if used > limit:
                raise GitHubError(403, f"API rate limit exceeded for user ID "
                                       f"{self.users[token.login.lower()]['id']}.",
                                  headers={**headers, "X-RateLimit-Used": str(limit)})
            try:
                response = self._dispatch(Call(request, token, dict(request.query)), path)
            except GitHubError as exc:
                response = exc.response()
        response.headers = {**headers, **response.headers}
        return response

    def _dispatch(self, call: Call, path: str) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is not None and method == call.request.method:
                return handler(call, match.groups())
        raise not_found()

    def _count(self, login: str, resource: str) -> tuple[int, int, float]:
        limit, window = (30, 60) if resource == "search" else (self.rate_limit, 3600)
        usage = self._usage.get((login, resource))
        if usage is None or usage[1] <= self.now():
            usage = self._usage[(login, resource)] = [0, self.now() + window]
        usage[0] += 1
        return limit, int(usage[0]), usage[1]

    def _rate_limit_json(self, login: str) -> dict[str, Any]:
        def one(resource: str) -> dict[str, int]:
            limit = 30 if resource == "search" else self.rate_limit
            used, reset = self._usage.get((login, resource), [0, self.now() + 3600])
            return {"limit": limit, "used": int(used), "remaining": max(limit - int(used), 0),
                    "reset": int(reset)}

        return {"resources": {"core": one("core"), "search": one("search")}, "rate": one("core")}


def _request_id() -> str:
    return f"{secrets.token_hex(2).upper()}:{secrets.token_hex(3).upper()}:" \
           f"{secrets.token_hex(4).upper()}:{secrets.token_hex(4).upper()}:" \
           f"{secrets.token_hex(4).upper()}"

