"""Fake Google on 127.0.0.1: accounts.google.com (consent), oauth2.googleapis.com (/token,
/revoke) and gmail.googleapis.com (/gmail/v1/...) on one server: point
VOPIX_GOOGLE_AUTH_BASE_URL, VOPIX_GOOGLE_OAUTH2_BASE_URL and VOPIX_GMAIL_API_BASE_URL at
``fake.url``.

Usage::

    with FakeGoogle(client_id="123.apps.googleusercontent.com", client_secret="s3cret") as fake:
        mid = fake.add_message("bob@example.com", "ada@example.com", "Invoice 42", "Please pay.")
        code = fake.authorize(redirect_uri="http://app/cb", scope=GMAIL_READONLY,
                              code_challenge=s256(verifier), access_type="offline")
        # or a browser opens {fake.url}/o/oauth2/v2/auth?...&code_challenge=...&state=... and
        # clicks "Allow" on the page headed "Sign in with Google": 302 to redirect_uri?code=&state=
        tokens = httpx.post(f"{fake.url}/token", data={"grant_type": "authorization_code",
            "code": code, "code_verifier": verifier, "redirect_uri": "http://app/cb",
            "client_id": ..., "client_secret": ...}).json()   # access_token, refresh_token, ...
        fake.advance(3600)                   # the access token expires: Gmail answers 401
        fake.refreshes                       # grant_type=refresh_token calls that succeeded
        fake.revoke_refresh(tokens["refresh_token"])   # or fake.expire_grant(): invalid_grant
        fake.sent[-1]["subject"], fake.drafts[-1]["text"]   # what VOPIX sent or drafted

Google's rules kept: PKCE S256 required by this fake (``require_pkce``), a refresh token only
with ``access_type=offline`` and, after the first consent of that account to that client, only
with ``prompt=consent``; access tokens live 3599 s on the fake clock (``advance``); refresh
tokens do not rotate; revoking either token of a grant revokes both. Gmail errors are Google's
``{"error": {"code", "message", "errors", "status"}}``. Not modelled: labels API, history API,
attachments, batch requests, id_token signatures (an ``id_token`` is returned for ``openid``
but it is not verifiable).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes._google_gmail import FULL, AccessToken, Account, G, GmailAPI
from tests.fakes._google_mail import GmailError, build_raw, google_error
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
    s256,
)

__all__ = ["GMAIL_COMPOSE", "GMAIL_FULL", "GMAIL_MODIFY", "GMAIL_READONLY", "GMAIL_SEND", "FakeGoogle",
           "s256"]

GMAIL_READONLY = G + "gmail.readonly"
GMAIL_SEND = G + "gmail.send"
GMAIL_COMPOSE = G + "gmail.compose"
GMAIL_MODIFY = G + "gmail.modify"
GMAIL_FULL = FULL
DEFAULT_CLIENT_ID = "123456789012-fakegoogleclient.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "GOCSPX-fakeGoogleClientSecret000"
ACCESS_LIFETIME = 3599
CODE_LIFETIME = 600
_SHORT_SCOPES = {"email": G + "userinfo.email", "profile": G + "userinfo.profile"}
_UNAUTHENTICATED = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential. See "
                    "https://developers.google.com/identity/sign-in/web/devconsole-project.")


@dataclass
class RefreshGrant:
    token: str
    email: str
    client_id: str
    scopes: list[str]
    valid: bool = True


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})


class FakeGoogle(GmailAPI, LoopbackServer):
    """In-process fake of Google's OAuth 2.0 endpoints and the Gmail API; see the module doc."""

    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        *,
        email: str = "ada@example.com",
        name: str = "Ada Lovelace",
        app_name: str = "VOPIX",
        redirect_uris: list[str] | None = None,
        require_pkce: bool = True,
    ) -> None:
        LoopbackServer.__init__(self)
        self._init_mail()
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_name = app_name
        self.redirect_uris = redirect_uris  # when set, redirect_uri must be one of them exactly
        self.require_pkce = require_pkce
        self.signed_in = email  # the Google account signed in "in the browser"
        self.requests: list[Request] = []  # every request received, in order
        self.codes = CodeStore("4/0A")
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_grants: dict[str, RefreshGrant] = {}
        self.consented: set[tuple[str, str]] = set()  # (client_id, email) that consented once
        self.refreshes = 0  # successful grant_type=refresh_token exchanges
        self.revoked: list[str] = []  # tokens revoked through POST /revoke
        self.token_latency = 0.0  # seconds /token sleeps before answering (to widen races)
        self._failures: list[Response] = []
        self.add_account(email, name)

    # ------------------------------------------------------------------ test controls

    def advance(self, seconds: float) -> None:
        """Move the fake clock: access tokens expire 3599 s after issue, codes after 600 s."""
        self.offset += seconds

    def add_account(self, email: str, name: str = "") -> None:
        with self._lock:
            self.accounts.setdefault(email, Account(email, name or email.split("@")[0]))

    def add_message(
        self,
        from_: str,
        to: str | None = None,
        subject: str = "",
        body: str = "",
        *,
        html: str | None = None,
        cc: str | None = None,
        date: datetime | None = None,
        labels: tuple[str, ...] = ("INBOX", "UNREAD"),
        reply_to_id: str | None = None,
        account: str | None = None,
    ) -> str:
        """Deliver a message into ``account``'s mailbox (default: the signed-in one); ``to``
        defaults to that address. ``reply_to_id`` threads it under that message. Returns the
        Gmail message id."""
        email = account or self.signed_in
        with self._lock:
            box = self.accounts[email]
            parent = box.messages[reply_to_id] if reply_to_id else None
            when = date or datetime.fromtimestamp(self.now() - 60, UTC)
            raw = build_raw(from_, to or email, subject, body, html=html, cc=cc, date=when,
                            in_reply_to=parent.header("Message-ID") if parent else None)
            msg = self._store(box, raw, list(labels), parent.thread_id if parent else None,
                              internal_ms=int(when.timestamp() * 1000))
        return msg.id

    def authorize(
        self,
        *,
        redirect_uri: str,
        scope: str = GMAIL_READONLY,
        code_challenge: str | None = None,
        code_challenge_method: str = "S256",
        access_type: str = "online",
        prompt: str | None = None,
        state: str | None = None,
        email: str | None = None,
        client_id: str | None = None,
    ) -> str:
        """What clicking "Allow" does, minus the browser: returns the code."""
        account = email or self.signed_in
        self.add_account(account)
        return self.codes.issue(Grant(
            client_id or self.client_id, redirect_uri, scope, account, code_challenge,
            code_challenge_method if code_challenge else None,
            {"access_type": access_type, "prompt": prompt or "", "state": state}, self.now()))

    def revoke_refresh(self, token: str) -> None:
        """The person removed VOPIX's access: the grant's refresh and access tokens stop."""
        with self._lock:
            self._revoke_grant(token)

    def expire_grant(self, token: str | None = None) -> None:
        """Refresh tokens (one, or all) stop working with ``invalid_grant`` (expired after 7
        days in testing mode, password changed...); access tokens already issued keep working
        until they expire."""
        with self._lock:
            for grant in self.refresh_grants.values():
                if token is None or grant.token == token:
                    grant.valid = False

    def rate_limit_next(self, status: int = 429, count: int = 1, retry_after: int | None = None
                        ) -> None:
        """The next ``count`` Gmail calls answer 429 rateLimitExceeded (or 403
        userRateLimitExceeded with ``status=403``)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 403:
            answer = google_error(403, "PERMISSION_DENIED", "User-rate limit exceeded.",
                                  "userRateLimitExceeded", headers)
        else:
            answer = google_error(429, "RESOURCE_EXHAUSTED", "Too many concurrent requests for "
                                  "user.", "rateLimitExceeded", headers)
        with self._lock:
            self._failures.extend([answer] * count)

    def mailbox(self, account: str | None = None) -> list[dict[str, Any]]:
        """The account's messages, decoded, in arrival order (sent and drafts included)."""
        with self._lock:
            return [m.decoded() for m in self.accounts[account or self.signed_in].messages.values()]

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        path = request.path.rstrip("/")
        if path == "/o/oauth2/v2/auth":
            return self._consent(request)
        if path == "/token" and request.method == "POST":
            if self.token_latency:
                time.sleep(self.token_latency)
            with self._lock:
                return self._token(request)
        if path == "/revoke" and request.method == "POST":
            with self._lock:
                return self._revoke(request)
        if path.startswith(("/gmail/v1/", "/upload/gmail/v1/")):
            with self._lock:
                try:
                    return self._gmail(request, self._access_token(request))
                except GmailError as exc:
                    return exc.response
        return html(404, "Error 404 (Not Found)!!1", "<p><b>404.</b> That’s an error.</p>")

    def _access_token(self, request: Request) -> AccessToken:
        value = bearer(request) or request.query.get("access_token")
        challenge = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
        if not value:
            raise GmailError(google_error(
                401, "UNAUTHENTICATED", "Request is missing required authentication credential. "
                "Expected OAuth 2 access token, login cookie or other valid authentication "
                "credential.", "required", challenge))
        token = self.access_tokens.get(value)
        if token is None or self.now() >= token.expires_at:
            raise GmailError(google_error(
                401, "UNAUTHENTICATED", _UNAUTHENTICATED, "authError",
                {"WWW-Authenticate": challenge["WWW-Authenticate"] + ', error="invalid_token"'}))
        if self._failures:
            raise GmailError(self._failures.pop(0))
        return token

    # ------------------------------------------------------------------ OAuth

    def _consent(self, request: Request) -> Response:
        p = params_of(request)

        def error_page(status: int, error: str, detail: str) -> Response:
            return html(status, "Error", f"<h1>Access blocked: authorization error</h1>"
                                         f"<p>Error {status}: {error}</p><p>{detail}</p>")

        if p.get("client_id") != self.client_id:
            return error_page(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = p.get("redirect_uri", "")
        if not redirect_uri or (self.redirect_uris is not None and
                                redirect_uri not in self.redirect_uris):
            return error_page(400, "redirect_uri_mismatch", "You can't sign in to this app "
                              "because it doesn't comply with Google's OAuth 2.0 policy.")
        for name in ("response_type", "scope"):
            if not p.get(name):
                return error_page(400, "invalid_request", f"Missing required parameter: {name}")
        if p["response_type"] != "code":
            return error_page(400, "unsupported_response_type", p["response_type"])
        challenge, method = p.get("code_challenge"), p.get("code_challenge_method", "plain")
        if self.require_pkce and (not challenge or method != "S256"):
            return error_page(400, "invalid_request", "Missing or invalid code_challenge "
                              "(PKCE with S256 is required)")
        if method not in ("S256", "plain"):
            return error_page(400, "invalid_request", "Invalid code_challenge_method")
        state = p.get("state")
        if request.method == "POST":
            if p.get("decision") != "allow":
                return redirect(redirect_uri, {"error": "access_denied", "state": state})
            code = self.authorize(redirect_uri=redirect_uri, scope=p["scope"],
                                  code_challenge=challenge, code_challenge_method=method,
                                  access_type=p.get("access_type", "online"),
                                  prompt=p.get("prompt"), state=state)
            return redirect(redirect_uri, {"state": state, "code": code,
                                           "scope": " ".join(_expand(p["scope"]))})
        return consent_page(
            title="Sign in - Google Accounts", heading="Sign in with Google",
            lines=[f"{self.app_name} wants to access your Google Account", self.signed_in,
                   *(f"Scope: {s}" for s in _expand(p["scope"]))],
            action="/o/oauth2/v2/auth", fields={k: v for k, v in p.items() if k != "decision"},
            allow="Allow", deny="Cancel")

    def _token(self, request: Request) -> Response:
        p = params_of(request)
        auth = basic_auth(request)
        client_id, secret = auth if auth else (p.get("client_id"), p.get("client_secret"))
        if client_id != self.client_id:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if not hmac.compare_digest((secret or "").encode(), self.client_secret.encode()):
            return _oauth_error(401, "invalid_client", "Unauthorized")
        grant_type = p.get("grant_type")
        if grant_type == "refresh_token":
            return self._refresh(p)
        if grant_type != "authorization_code":
            return _oauth_error(400, "unsupported_grant_type",
                                f"Invalid grant_type: {grant_type or ''}")
        for name in ("code", "redirect_uri"):
            if not p.get(name):
                return _oauth_error(400, "invalid_request", f"Missing required parameter: {name}")
        grant = self.codes.redeem(p["code"])
        if grant is None or grant.client_id != client_id or \
                self.now() - grant.issued_at > CODE_LIFETIME:
            return _oauth_error(400, "invalid_grant", "Malformed auth code.")
        if p["redirect_uri"] != grant.redirect_uri:
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if grant.code_challenge and not p.get("code_verifier"):
            return _oauth_error(400, "invalid_grant", "Missing code verifier.")
        if not pkce_ok(grant.code_challenge, grant.code_challenge_method, p.get("code_verifier")):
            return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        scopes = _expand(grant.scope)
        first = (client_id, grant.user) not in self.consented
        self.consented.add((client_id, grant.user))
        refresh = None
        if grant.extra.get("access_type") == "offline" and (
                first or "consent" in str(grant.extra.get("prompt")).split()):
            refresh = "1//0" + secrets.token_urlsafe(60)
            self.refresh_grants[refresh] = RefreshGrant(refresh, grant.user, client_id, scopes)
        return Response(200, self._issue(grant.user, client_id, scopes, refresh),
                        headers={"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
                                 "Pragma": "no-cache"})

    def _issue(self, email: str, client_id: str, scopes: list[str], refresh: str | None,
               *, include_refresh: bool = True) -> dict[str, Any]:
        token = "ya29.a0" + secrets.token_urlsafe(80)
        self.access_tokens[token] = AccessToken(token, email, scopes,
                                                self.now() + ACCESS_LIFETIME, client_id, refresh)
        body: dict[str, Any] = {"access_token": token, "expires_in": ACCESS_LIFETIME,
                                "scope": " ".join(scopes), "token_type": "Bearer"}
        if refresh and include_refresh:
            body["refresh_token"] = refresh
        if "openid" in scopes:
            body["id_token"] = self._id_token(email, client_id)
        return body

    def _refresh(self, p: dict[str, str]) -> Response:
        token = p.get("refresh_token")
        if not token:
            return _oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        grant = self.refresh_grants.get(token)
        if grant is None or not grant.valid or grant.client_id != p.get("client_id", grant.client_id):
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        self.refreshes += 1
        return Response(200, self._issue(grant.email, grant.client_id, grant.scopes, token,
                                         include_refresh=False))

    def _revoke(self, request: Request) -> Response:
        token = params_of(request).get("token", "")
        if token not in self.access_tokens and token not in self.refresh_grants:
            return _oauth_error(400, "invalid_token", "Token expired or revoked")
        refresh = token if token in self.refresh_grants else self.access_tokens[token].refresh_token
        if refresh:
            self._revoke_grant(refresh)
        else:
            del self.access_tokens[token]
        self.revoked.append(token)
        return Response(200, {})

    def _revoke_grant(self, refresh: str) -> None:
        grant = self.refresh_grants.pop(refresh, None)
        if grant is None:
            return
        for value in [t for t, info in self.access_tokens.items() if info.refresh_token == refresh]:
            del self.access_tokens[value]

    def _id_token(self, email: str, client_id: str) -> str:
        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        now = int(self.now())
        claims = {"iss": "https://accounts.google.com", "aud": client_id, "azp": client_id,
                  "sub": str(int(hashlib.sha256(email.encode()).hexdigest()[:16], 16)), "email": email, "email_verified": True,
                  "iat": now, "exp": now + 3600}
        return f"{part({'alg': 'RS256', 'kid': 'fake', 'typ': 'JWT'})}.{part(claims)}." \
               f"{secrets.token_urlsafe(32)}"


def _expand(scope: str) -> list[str]:
    """Google's echo of requested scopes: short names expanded, order kept, no duplicates."""
    out: list[str] = []
    for name in scope.split():
        full = _SHORT_SCOPES.get(name, name)
        if full not in out:
            out.append(full)
    return out

