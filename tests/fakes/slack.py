"""Fake Slack on 127.0.0.1: the OAuth v2 install flow of slack.com and the Web API
(``/api/<method>``), on one server (point VOPIX_SLACK_BASE_URL at ``fake.url``).

Usage::

    with FakeSlack(client_id="111.222", client_secret="s3cret", team_name="Acme") as fake:
        general = fake.add_channel("general", messages=["hello", "standup at 10"])
        fake.add_channel("random", member=False)             # the bot is not in it
        code = fake.authorize(redirect_uri="http://app/cb", scope="chat:write,channels:read",
                              state="xyz")
        # or a browser opens {fake.url}/oauth/v2/authorize?client_id=...&scope=...&state=...
        # and clicks "Allow" on the page headed "Allow VOPIX": 302 to redirect_uri?code=&state=
        r = httpx.post(f"{fake.url}/api/oauth.v2.access", data={"client_id": "111.222",
                       "client_secret": "s3cret", "code": code, "redirect_uri": "http://app/cb"})
        token = r.json()["access_token"]                       # "xoxb-..."
        httpx.post(f"{fake.url}/api/chat.postMessage", headers={"Authorization": f"Bearer {token}"},
                   data={"channel": general, "text": "hi"}).json()["ts"]
        fake.posted[-1]["text"] == "hi"
        fake.add_token("xoxb-pasted")      # a bot token a person pastes
        fake.rate_limit_next(retry_after=30)   # next call: HTTP 429, Retry-After: 30, "ratelimited"

Every Web API answer is HTTP 200 with ``"ok"``; errors are ``{"ok": false, "error": ...}``
(``invalid_auth``, ``not_authed``, ``token_revoked``, ``token_expired``, ``channel_not_found``,
``not_in_channel``, ``missing_scope``, ...), except rate limiting (HTTP 429). With
``rotation=True`` installs return expiring tokens (12 h, ``fake.advance``) and a refresh token
that works once (``grant_type=refresh_token``). Not modelled: user tokens' own API, Events API,
threads beyond ``thread_ts``, Enterprise Grid.
"""

from __future__ import annotations

import hmac
import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

from tests.fakes._http import LoopbackServer, Request, Response
from tests.fakes._oauth import (
    CodeStore,
    Grant,
    basic_auth,
    bearer,
    consent_page,
    html,
    params_of,
    pkce_ok,
    redirect,
)
from tests.fakes._slack_api import BotToken, Channel, SlackAPI, SlackError

__all__ = ["DEFAULT_SCOPES", "FakeSlack"]

DEFAULT_CLIENT_ID = "1234567890.0987654321"
DEFAULT_CLIENT_SECRET = "fakeslackclientsecret00000000000"
DEFAULT_SCOPES = ("channels:read", "channels:history", "channels:join", "groups:read",
                  "groups:history", "chat:write", "users:read")
CODE_LIFETIME = 600
TOKEN_LIFETIME = 43200  # rotating tokens live 12 hours


def _slack_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits)
                            for _ in range(10))


class FakeSlack(SlackAPI, LoopbackServer):
    """In-process fake of ``slack.com`` (OAuth v2 and the Web API); see the module doc."""

    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        *,
        team_name: str = "Acme",
        team_id: str | None = None,
        app_name: str = "VOPIX",
        callback_url: str | None = None,
        rotation: bool = False,
    ) -> None:
        LoopbackServer.__init__(self)
        self._init_model()
        self.client_id = client_id
        self.client_secret = client_secret
        self.team_name = team_name
        self.team_id = team_id or _slack_id("T")
        self.app_name = app_name
        self.app_id = _slack_id("A")
        self.bot_user_id = _slack_id("U")
        self.bot_id = _slack_id("B")
        self.callback_url = callback_url
        self.rotation = rotation
        self.requests: list[Request] = []  # every request received, in order
        self.codes = CodeStore()
        self.refresh_tokens: dict[str, list[str]] = {}  # refresh token -> scopes (each works once)
        self.refreshes = 0
        self._failures: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.installer = self.add_user("ada", real_name="Ada Lovelace", email="ada@example.com")
        self._table = self._methods()

    # ------------------------------------------------------------------ test controls

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (codes expire after 10 minutes, rotating tokens after 12 h)."""
        self.offset += seconds

    def add_token(self, token: str | None = None, scopes: Iterable[str] = DEFAULT_SCOPES) -> str:
        """Register a bot token of the workspace (default: a fresh ``xoxb-...``)."""
        token = token or self._bot_token()
        with self._lock:
            self.tokens[token] = BotToken(token, list(scopes))
        return token

    def revoke(self, token: str) -> None:
        """The app is uninstalled / the token revoked on Slack's side: ``token_revoked``."""
        with self._lock:
            self.tokens[token].revoked = True

    def add_user(self, name: str, *, real_name: str | None = None, email: str | None = None
                 ) -> str:
        user_id = _slack_id("U")
        with self._lock:
            self.users[user_id] = {"id": user_id, "name": name, "real_name": real_name or name,
                                   "email": email}
        return user_id

    def add_channel(
        self,
        name: str,
        *,
        private: bool = False,
        member: bool = True,
        archived: bool = False,
        messages: Iterable[str | Mapping[str, Any]] = (),
        topic: str = "",
    ) -> str:
        """Seed a channel (the bot a ``member`` or not) with ``messages``, oldest first; each a
        text (from the installing user) or a dict with ``text`` and ``user``. Returns its id."""
        channel_id = _slack_id("G" if private else "C")
        with self._lock:
            self.channels[channel_id] = Channel(channel_id, name, private=private,
                                                archived=archived, bot_member=member,
                                                created=int(self.now()) - 86400, topic=topic)
        for message in messages:
            if isinstance(message, str):
                self.add_message(channel_id, message)
            else:
                self.add_message(channel_id, message["text"], user=message.get("user"))
        return channel_id

    def add_message(self, channel_id: str, text: str, *, user: str | None = None) -> str:
        """A person's message in the channel; returns its ``ts``."""
        with self._lock:
            ts = self._ts()
            self.channels[channel_id].messages.append({
                "type": "message", "user": user or self.installer, "text": text, "ts": ts,
                "team": self.team_id})
        return ts

    def messages(self, channel_id: str) -> list[str]:
        """The texts of the channel, oldest first (bot posts included)."""
        with self._lock:
            return [m["text"] for m in self.channels[channel_id].messages]

    def rate_limit_next(self, retry_after: int = 30, count: int = 1) -> None:
        """The next ``count`` Web API calls answer HTTP 429, ``Retry-After``, ``ratelimited``."""
        with self._lock:
            self._failures.extend([(429, {"ok": False, "error": "ratelimited"},
                                    {"Retry-After": str(retry_after)})] * count)

    def fail_next(self, error: str = "fatal_error", count: int = 1) -> None:
        """The next ``count`` Web API calls answer HTTP 200 ``{"ok": false, "error": error}``."""
        with self._lock:
            self._failures.extend([(200, {"ok": False, "error": error}, {})] * count)

    def authorize(
        self,
        *,
        redirect_uri: str,
        scope: str = ",".join(DEFAULT_SCOPES),
        user_scope: str = "",
        state: str | None = None,
        client_id: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """What clicking "Allow" does, minus the browser: returns the code."""
        return self.codes.issue(Grant(client_id or self.client_id, redirect_uri, scope,
                                      self.installer, code_challenge, code_challenge_method,
                                      {"user_scope": user_scope, "state": state}, self.now()))

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        path = request.path.rstrip("/")
        if path == "/oauth/v2/authorize":
            return self._authorize_page(request)
        if not path.startswith("/api/"):
            return html(404, "Page not found | Slack", "<h1>There’s been a glitch…</h1>")
        method = path[len("/api/"):]
        params = params_of(request)
        if request.content_type == "application/json":
            try:
                body = request.json()
            except ValueError:
                return Response(200, {"ok": False, "error": "invalid_json"})
            if isinstance(body, dict):
                params.update(body)
        with self._lock:
            if self._failures:
                status, body, headers = self._failures.pop(0)
                return Response(status, body, headers=headers)
            try:
                if method == "oauth.v2.access":
                    return Response(200, self._access(request, params))
                return Response(200, self._call(request, method, params))
            except SlackError as exc:
                return Response(200, exc.body)

    def _call(self, request: Request, method: str, params: dict[str, Any]) -> dict[str, Any]:
        value = bearer(request) or (str(params["token"]) if params.get("token") else None)
        if value is None:
            raise SlackError("not_authed")
        token = self.tokens.get(value)
        if token is None:
            raise SlackError("invalid_auth")
        if token.revoked:
            raise SlackError("token_revoked")
        if token.expires_at is not None and self.now() >= token.expires_at:
            raise SlackError("token_expired")
        entry = self._table.get(method)
        if entry is None:
            raise SlackError("unknown_method", req_method=method)
        needed, handler = entry
        self._check_scope(token, needed)
        return handler(token, params)

    # ------------------------------------------------------------------ OAuth

    def _bot_token(self) -> str:
        digits = f"{secrets.randbelow(10**12):012d}-{secrets.randbelow(10**13):013d}"
        return f"xoxb-{digits}-{secrets.token_urlsafe(18)}"

    def _authorize_page(self, request: Request) -> Response:
        p = params_of(request)
        if p.get("client_id") != self.client_id:
            return html(400, "Slack", "<h1>Something went wrong when authorizing this app.</h1>"
                                      "<p>Error details: invalid_client_id</p>")
        redirect_uri = p.get("redirect_uri") or self.callback_url
        if redirect_uri is None or (self.callback_url and
                                    not redirect_uri.startswith(self.callback_url)):
            return html(400, "Slack", "<h1>Something went wrong when authorizing this app.</h1>"
                                      "<p>Error details: bad_redirect_uri</p>")
        state = p.get("state")
        if request.method == "POST":
            if p.get("decision") != "allow":
                return redirect(redirect_uri, {"error": "access_denied", "state": state})
            code = self.authorize(redirect_uri=redirect_uri, scope=p.get("scope", ""),
                                  user_scope=p.get("user_scope", ""), state=state,
                                  code_challenge=p.get("code_challenge"),
                                  code_challenge_method=p.get("code_challenge_method"))
            return redirect(redirect_uri, {"code": code, "state": state})
        scopes = [s for s in p.get("scope", "").replace(" ", ",").split(",") if s]
        return consent_page(
            title=f"{self.app_name} | Slack", heading=f"Allow {self.app_name}",
            lines=[f"{self.app_name} is requesting permission to access the {self.team_name} "
                   "Slack workspace", *(f"Scope: {s}" for s in scopes)],
            action="/oauth/v2/authorize", fields={k: v for k, v in p.items() if k != "decision"},
            allow="Allow", deny="Cancel")

    def _access(self, request: Request, p: dict[str, Any]) -> dict[str, Any]:
        auth = basic_auth(request)
        client_id, secret = auth if auth else (p.get("client_id"), p.get("client_secret"))
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if not hmac.compare_digest(str(secret or "").encode(), self.client_secret.encode()):
            raise SlackError("bad_client_secret")
        grant_type = p.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            scopes = self.refresh_tokens.pop(str(p.get("refresh_token") or ""), None)
            if scopes is None or not self.rotation:
                raise SlackError("invalid_refresh_token")
            self.refreshes += 1
            return self._install_answer(scopes, "")
        if grant_type != "authorization_code":
            raise SlackError("invalid_grant_type")
        grant = self.codes.redeem(str(p.get("code") or ""))
        if grant is None or grant.client_id != client_id or \
                self.now() - grant.issued_at > CODE_LIFETIME:
            raise SlackError("invalid_code")
        if p.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            raise SlackError("bad_redirect_uri")
        if not pkce_ok(grant.code_challenge, grant.code_challenge_method, p.get("code_verifier")):
            raise SlackError("invalid_code_verifier")
        scopes = [s for s in grant.scope.replace(" ", ",").split(",") if s]
        return self._install_answer(scopes, str(grant.extra.get("user_scope") or ""))

    def _install_answer(self, scopes: list[str], user_scope: str) -> dict[str, Any]:
        token = self._bot_token()
        if self.rotation:
            token = "xoxe." + token.replace("xoxb-", "xoxb-1-", 1)
        self.tokens[token] = BotToken(token, scopes)
        answer: dict[str, Any] = {
            "ok": True, "app_id": self.app_id, "authed_user": {"id": self.installer},
            "scope": ",".join(scopes), "token_type": "bot", "access_token": token,
            "bot_user_id": self.bot_user_id, "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None, "is_enterprise_install": False,
        }
        if self.rotation:
            refresh = "xoxe-1-" + secrets.token_urlsafe(36)
            self.tokens[token].expires_at = self.now() + TOKEN_LIFETIME
            self.refresh_tokens[refresh] = scopes
            answer.update(expires_in=TOKEN_LIFETIME, refresh_token=refresh)
        if user_scope:
            user_token = "xoxp-" + secrets.token_urlsafe(30)
            answer["authed_user"].update(scope=user_scope, access_token=user_token,
                                         token_type="user")
        return answer

