"""The REST endpoints of the fake GitHub (api.github.com): user, repositories, issues, pulls,
search, comments. Access follows GitHub: a private repository the token cannot see is a 404,
classic OAuth scopes are enforced (``repo`` for private repositories, ``repo`` or
``public_repo`` to write to public ones), and a fine-grained token without access to a
repository gets 403 "Resource not accessible by personal access token" on writes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.fakes._github_model import (
    GitHubError,
    GitHubModel,
    Item,
    Repo,
    Token,
    not_found,
    search_terms,
    validation_failed,
)
from tests.fakes._http import Request, Response

_NAME = r"([A-Za-z0-9_.-]+)"
_REPO = rf"/repos/{_NAME}/{_NAME}"
_ISSUES_DOC = "https://docs.github.com/rest/issues/issues"
_SEARCH_DOC = "https://docs.github.com/rest/search/search#search-issues-and-pull-requests"


@dataclass
class Call:
    request: Request
    token: Token
    query: dict[str, str]

    @property
    def login(self) -> str:
        return self.token.login


Handler = Callable[[Call, tuple[str, ...]], Response]


def _json_body(call: Call) -> dict[str, Any]:
    try:
        body = json.loads(call.request.body or b"{}")
    except ValueError:
        raise GitHubError(400, "Problems parsing JSON") from None
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON")
    return body


def _required_text(body: dict[str, Any], name: str, resource: str, limit: int, doc: str) -> str:
    if name not in body:
        raise GitHubError(422, f'Invalid request.\n\n"{name}" wasn\'t supplied.',
                          documentation_url=doc)
    value = body[name]
    if not isinstance(value, str):
        raise GitHubError(422, f'Invalid request.\n\nFor \'properties/{name}\', {json.dumps(value)}'
                               " is not a string.", documentation_url=doc)
    if not value.strip():
        raise validation_failed(resource, name, "missing_field", doc=doc)
    if len(value) > limit:
        raise validation_failed(resource, name, "custom",
                                f"{name} is too long (maximum is {limit} characters)", doc)
    return value


class GitHubAPI(GitHubModel):
    """Mixin: the route table and handlers; ``_api`` answers one authenticated call."""

    def _api_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/user", self._get_user),
            ("GET", "/user/repos", self._list_user_repos),
            ("GET", "/search/issues", self._search_issues),
            ("GET", _REPO, self._get_repo),
            ("GET", rf"{_REPO}/issues", self._list_issues),
            ("POST", rf"{_REPO}/issues", self._create_issue),
            ("GET", rf"{_REPO}/issues/(\d+)", self._get_issue),
            ("GET", rf"{_REPO}/issues/(\d+)/comments", self._list_comments),
            ("POST", rf"{_REPO}/issues/(\d+)/comments", self._create_comment),
            ("GET", rf"{_REPO}/pulls", self._list_pulls),
            ("GET", rf"{_REPO}/pulls/(\d+)", self._get_pull),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    # ------------------------------------------------------------------ access

    def _visible(self, call: Call, owner: str, name: str, *, write: bool = False) -> Repo:
        repo = self._repo(owner, name)
        if repo is None:
            raise not_found()
        member = repo.is_member(call.login)
        scopes = call.token.scopes
        if repo.private and (not member or (scopes is not None and "repo" not in scopes)):
            raise not_found()
        if write:
            if scopes is not None:
                if not member or not ({"repo", "public_repo"} & set(scopes)):
                    raise not_found()
            elif not member:
                raise GitHubError(403, "Resource not accessible by personal access token",
                                  documentation_url=f"{_ISSUES_DOC}#create-an-issue")
        return repo

    def _readable_repos(self, call: Call) -> list[Repo]:
        out = []
        for repo in self.repos.values():
            try:
                self._visible(call, repo.owner, repo.name)
            except GitHubError:
                continue
            out.append(repo)
        return out

    def _item(self, repo: Repo, number: str) -> Item:
        item = repo.items.get(int(number))
        if item is None:
            raise not_found()
        return item

    # ------------------------------------------------------------------ paging

    def _page(self, call: Call, rows: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """Slice ``rows`` by ``page``/``per_page`` (default 30, at most 100); the Link header."""
        try:
            per_page = max(1, min(int(call.query.get("per_page", "30")), 100))
            page = max(1, int(call.query.get("page", "1")))
        except ValueError:
            per_page, page = 30, 1
        last = max(1, -(-len(rows) // per_page))
        links = []

        def link(number: int, rel: str) -> str:
            query = {**call.query, "per_page": str(per_page), "page": str(number)}
            return f'<{self.url}{call.request.path}?{urlencode(query)}>; rel="{rel}"'

        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        # GitHub lists next/last before prev/first
        links.sort(key=lambda s: ["next", "last", "prev", "first"].index(s.rsplit('"', 2)[1]))
        headers = {"Link": ", ".join(links)} if links else {}
        return rows[(page - 1) * per_page: page * per_page], headers

    # ------------------------------------------------------------------ handlers

    def _get_user(self, call: Call, _: tuple[str, ...]) -> Response:
        return Response(200, self.user_json(call.login, full=True))

    def _list_user_repos(self, call: Call, _: tuple[str, ...]) -> Response:
        kind = call.query.get("type") or call.query.get("visibility") or "all"
        repos = [r for r in self._readable_repos(call) if r.is_member(call.login)]
        if kind in ("public", "private"):
            repos = [r for r in repos if r.private == (kind == "private")]
        elif kind == "owner":
            repos = [r for r in repos if r.owner.lower() == call.login.lower()]
        elif kind == "member":
            repos = [r for r in repos if r.owner.lower() != call.login.lower()]
        sort = call.query.get("sort", "full_name")
        if sort == "full_name":
            repos.sort(key=lambda r: r.full_name.lower(),
                       reverse=call.query.get("direction") == "desc")
        else:
            repos.sort(key=lambda r: r.created, reverse=call.query.get("direction") != "asc")
        rows, headers = self._page(call, repos)
        return Response(200, [self.repo_json(r, call.login) for r in rows], headers=headers)

    def _get_repo(self, call: Call, groups: tuple[str, ...]) -> Response:
        return Response(200, self.repo_json(self._visible(call, *groups), call.login))

    def _filtered(self, call: Call, repo: Repo, *, pulls_only: bool) -> list[Item]:
        state = call.query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise validation_failed("Issue", "state", "invalid")
        items = [i for i in repo.items.values() if i.pull or not pulls_only]
        if state != "all":
            items = [i for i in items if i.state == state]
        if labels := call.query.get("labels"):
            wanted = {x.strip().lower() for x in labels.split(",") if x.strip()}
            items = [i for i in items if wanted <= {x.lower() for x in i.labels}]
        if creator := call.query.get("creator"):
            items = [i for i in items if i.user.lower() == creator.lower()]
        if assignee := call.query.get("assignee"):
            items = [i for i in items if (assignee == "*" and i.assignees)
                     or assignee.lower() in (a.lower() for a in i.assignees)
                     or (assignee == "none" and not i.assignees)]
        key = "updated" if call.query.get("sort") == "updated" else "created"
        items.sort(key=lambda i: (getattr(i, key), i.number),
                   reverse=call.query.get("direction", "desc") != "asc")
        return items

    def _list_issues(self, call: Call, groups: tuple[str, ...]) -> Response:
        repo = self._visible(call, *groups)
        if not repo.has_issues:
            raise GitHubError(410, "Issues are disabled for this repo",
                              documentation_url=f"{_ISSUES_DOC}#list-repository-issues")
        rows, headers = self._page(call, self._filtered(call, repo, pulls_only=False))
        return Response(200, [self.issue_json(repo, i) for i in rows], headers=headers)

    def _get_issue(self, call: Call, groups: tuple[str, ...]) -> Response:
        repo = self._visible(call, groups[0], groups[1])
        return Response(200, self.issue_json(repo, self._item(repo, groups[2])))

    def _create_issue(self, call: Call, groups: tuple[str, ...]) -> Response:
        repo = self._visible(call, *groups, write=True)
        doc = f"{_ISSUES_DOC}#create-an-issue"
        if not repo.has_issues:
            raise GitHubError(410, "Issues are disabled for this repo", documentation_url=doc)
        body = _json_body(call)
        title = _required_text(body, "title", "Issue", 256, doc)
        text = body.get("body")
        if text is not None and (not isinstance(text, str) or len(text) > 65536):
            raise validation_failed("Issue", "body", "custom",
                                    "body is too long (maximum is 65536 characters)", doc)
        labels = [str(x) for x in body.get("labels") or []]
        assignees = [str(x) for x in body.get("assignees") or []]
        for login in assignees:
            if login.lower() not in self.users or not repo.is_member(login):
                raise validation_failed("Issue", "assignees", "invalid", doc=doc)
        stamp = self._stamp()
        number = repo.next_number()
        item = Item(number=number, title=title, body=text, user=call.login, labels=labels,
                    assignees=assignees, created=stamp, updated=stamp, id=3_000_000 + self._next())
        repo.items[number] = item
        data = self.issue_json(repo, item)
        return Response(201, data, headers={"Location": data["url"]})

    def _list_comments(self, call: Call, groups: tuple[str, ...]) -> Response:
        repo = self._visible(call, groups[0], groups[1])
        item = self._item(repo, groups[2])
        rows, headers = self._page(call, item.comments)
        return Response(200, [self.comment_json(repo, item, c) for c in rows], headers=headers)

    def _create_comment(self, call: Call, groups: tuple[str, ...]) -> Response:
        repo = self._visible(call, groups[0], groups[1], write=True)
        item = self._item(repo, groups[2])
        doc = f"{_ISSUES_DOC.replace('issues/issues', 'issues/comments')}#create-an-issue-comment"
        text = _required_text(_json_body(call), "body", "IssueComment", 65536, doc)
        comment = {"id": 4_000_000 + self._next(), "body": text, "user": call.login,
                   "created": self._stamp()}
        item.comments.append(comment)
        item.updated = comment["created"]
        data = self.comment_json(repo, item, comment)
        return Response(201, data, headers={"Location": data["url"]})

    def _list_pulls(self, call: Call, groups: tuple[str, ...]) -> Response:
        repo = self._visible(call, *groups)
        rows, headers = self._page(call, self._filtered(call, repo, pulls_only=True))
        return Response(200, [self.pull_json(repo, i) for i in rows], headers=headers)

    def _get_pull(self, call: Call, groups: tuple[str, ...]) -> Response:
        repo = self._visible(call, groups[0], groups[1])
        item = self._item(repo, groups[2])
        if not item.pull:
            raise not_found()
        return Response(200, self.pull_json(repo, item, full=True))

    # ------------------------------------------------------------------ search

    def _search_issues(self, call: Call, _: tuple[str, ...]) -> Response:
        q = call.query.get("q", "").strip()
        if not q:
            raise validation_failed("Search", "q", "missing", doc=_SEARCH_DOC)
        kinds: set[bool] = set()
        repo_names: list[str] = []
        tests: list[Callable[[Repo, Item], bool]] = []
        words: list[str] = []
        for term in search_terms(q):
            qualifier, sep, value = term.partition(":")
            qualifier, low = qualifier.lower(), value.lower()
            if not sep or not value:
                words.append(term.lower())
            elif qualifier in ("is", "type") and low in ("issue", "pr", "pull-request"):
                kinds.add(low != "issue")
            elif qualifier in ("is", "state") and low in ("open", "closed"):
                tests.append(lambda _r, i, s=low: i.state == s)
            elif qualifier == "repo":
                repo_names.append(low)
            elif qualifier in ("user", "org", "owner"):
                tests.append(lambda r, _i, o=low: r.owner.lower() == o)
            elif qualifier == "label":
                tests.append(lambda _r, i, x=low: x in {lb.lower() for lb in i.labels})
            elif qualifier == "author":
                tests.append(lambda _r, i, a=low: i.user.lower() == a)
            elif qualifier == "assignee":
                tests.append(lambda _r, i, a=low: a in {x.lower() for x in i.assignees})
            elif qualifier != "in":
                words.append(term.lower())
        if not kinds:
            raise GitHubError(422, "Query must include 'is:issue' or 'is:pull-request'",
                              documentation_url=_SEARCH_DOC)
        readable = {r.full_name.lower(): r for r in self._readable_repos(call)}
        if any(name not in readable for name in repo_names):
            raise validation_failed(
                "Search", "q", "invalid",
                "The listed users and repositories cannot be searched either because the "
                "resources do not exist or you do not have permission to view them.", _SEARCH_DOC)
        repos = [readable[n] for n in repo_names] if repo_names else list(readable.values())
        found = [(r, i) for r in repos for i in r.items.values()
                 if i.pull in kinds and all(t(r, i) for t in tests)
                 and all(w in f"{i.title}\n{i.body or ''}".lower() for w in words)]
        found.sort(key=lambda ri: (ri[1].updated, ri[1].number), reverse=True)
        rows, headers = self._page(call, found)
        items = [{**self.issue_json(r, i), "score": 1.0} for r, i in rows]
        return Response(200, {"total_count": len(found), "incomplete_results": False,
                              "items": items}, headers=headers)
