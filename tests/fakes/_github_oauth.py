"""The github.com side of the fake GitHub: the OAuth app consent page, the code-for-token
exchange (errors as HTTP 200 ``{"error": ...}`` bodies, JSON or form-encoded by ``Accept``) and
the application token endpoints of api.github.com (check, revoke, revoke grant)."""

from __future__ import annotations

import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.fakes._github_model import GitHubError, GitHubModel, Token, iso, not_found
from tests.fakes._http import Request, Response
from tests.fakes._oauth import (
    CodeStore,
    Grant,
    basic_auth,
    consent_page,
    html,
    params_of,
    pkce_ok,
    redirect,
)

CODE_LIFETIME = 600
_OAUTH_DOC = "https://docs.github.com/apps/managing-oauth-apps/"
_TOKEN_ERRORS = {
    "incorrect_client_credentials": ("The client_id and/or client_secret passed are incorrect.",
        "troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"),
    "redirect_uri_mismatch": ("The redirect_uri MUST match the registered callback URL for this "
                              "application.",
        "troubleshooting-authorization-request-errors/#redirect-uri-mismatch2"),
    "bad_verification_code": ("The code passed is incorrect or expired.",
        "troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"),
}


class GitHubOAuth(GitHubModel):
    """Mixin: ``authorize`` (the test's shortcut) and the OAuth/app-token HTTP handlers."""

    client_id: str
    client_secret: str
    app_name: str
    callback_url: str | None
    signed_in: str
    revoked: list[str]
    codes: CodeStore
    offset: float

    def now(self) -> float:
        return time.time() + self.offset

    def authorize(
        self,
        *,
        redirect_uri: str,
        client_id: str | None = None,
        scope: str = "",
        state: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
        login: str | None = None,
    ) -> str:
        """What clicking "Authorize" does, minus the browser: returns the code."""
        with self._lock:
            user = self._ensure_user(login or self.signed_in)
        return self.codes.issue(Grant(client_id or self.client_id, redirect_uri, scope,
                                      user["login"], code_challenge, code_challenge_method,
                                      {"state": state}, self.now()))


    def _authorize_page(self, request: Request) -> Response:
        p = params_of(request)
        if p.get("client_id") != self.client_id:
            return html(404, "Page not found · GitHub", "<h1>404</h1><p>This is not the web page "
                                                        "you are looking for.</p>")
        redirect_uri = p.get("redirect_uri") or self.callback_url
        state = p.get("state")
        if redirect_uri is None:
            return html(400, "Error · GitHub", "<h1>Missing redirect_uri</h1>")
        if self.callback_url and not redirect_uri.startswith(self.callback_url):
            return redirect(self.callback_url, {
                "error": "redirect_uri_mismatch",
                "error_description": "The redirect_uri MUST match the registered callback URL "
                                     "for this application.",
                "error_uri": _OAUTH_DOC + "troubleshooting-authorization-request-errors/"
                                          "#redirect-uri-mismatch", "state": state})
        challenge, method = p.get("code_challenge"), p.get("code_challenge_method")
        if challenge and (method or "S256") != "S256":
            return html(400, "Error · GitHub", "<h1>code_challenge_method must be S256</h1>")
        if request.method == "POST":
            if p.get("decision") != "allow":
                return redirect(redirect_uri, {
                    "error": "access_denied",
                    "error_description": "The user has denied your application access.",
                    "error_uri": _OAUTH_DOC + "troubleshooting-authorization-request-errors/"
                                              "#access-denied", "state": state})
            code = self.authorize(redirect_uri=redirect_uri, scope=p.get("scope", ""),
                                  state=state, code_challenge=challenge,
                                  code_challenge_method=method if challenge else None)
            return redirect(redirect_uri, {"code": code, "state": state})
        scopes = [s for s in p.get("scope", "").replace(",", " ").split() if s]
        fields = {k: v for k, v in p.items() if k != "decision"}
        return consent_page(
            title=f"Authorize application · {self.app_name}", heading=f"Authorize {self.app_name}",
            lines=[f"{self.app_name} wants to access your {self.signed_in} account",
                   *(f"Scope: {s}" for s in scopes or ["(no scope: public information only)"]),
                   f"Signed in as {self.signed_in}"],
            action="/login/oauth/authorize", fields=fields, allow="Authorize", deny="Cancel")

    def _access_token(self, request: Request) -> Response:
        p = params_of(request)
        if request.content_type == "application/json":
            try:
                p.update({k: str(v) for k, v in (request.json() or {}).items()})
            except (ValueError, AttributeError):
                pass
        as_json = "json" in (request.headers.get("Accept") or "")
        if request.method != "POST":
            return html(404, "Page not found · GitHub", "<h1>404</h1>")
        auth = basic_auth(request)
        client_id, secret = auth if auth else (p.get("client_id"), p.get("client_secret"))
        if client_id != self.client_id or not hmac.compare_digest(
                (secret or "").encode(), self.client_secret.encode()):
            return _token_error("incorrect_client_credentials", as_json)
        grant = self.codes.redeem(p.get("code", ""))
        if grant is None or grant.client_id != client_id or \
                self.now() - grant.issued_at > CODE_LIFETIME:
            return _token_error("bad_verification_code", as_json)
        if p.get("redirect_uri") and p["redirect_uri"] != grant.redirect_uri:
            return _token_error("redirect_uri_mismatch", as_json)
        if not pkce_ok(grant.code_challenge, grant.code_challenge_method, p.get("code_verifier")):
            return _token_error("bad_verification_code", as_json)
        scopes = [s for s in grant.scope.replace(",", " ").split() if s]
        token = self._new_token("gho_")
        with self._lock:
            self.tokens[token] = Token(token, grant.user, scopes, client_id, 5_000_000 + self._next())
        return _token_answer({"access_token": token, "token_type": "bearer",
                              "scope": ",".join(scopes)}, as_json)

    def _application(self, request: Request, path: str) -> Response:
        _, _, client_id, what = ([*path.split("/"), "", ""])[:4]
        auth = basic_auth(request)
        if auth is None:
            raise GitHubError(401, "Requires authentication")
        if auth[0] != self.client_id or not hmac.compare_digest(auth[1].encode(),
                                                                 self.client_secret.encode()):
            raise GitHubError(401, "Bad credentials")
        if client_id != self.client_id or what not in ("token", "grant"):
            raise not_found()
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise GitHubError(400, "Problems parsing JSON") from None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str):
            raise GitHubError(422, 'Invalid request.\n\n"access_token" wasn\'t supplied.')
        with self._lock:
            token = self.tokens.get(value)
            if token is None or token.client_id != client_id:
                raise not_found()
            if request.method == "POST" and what == "token":
                return Response(200, self._token_json(token))
            if request.method != "DELETE":
                raise not_found()
            doomed = [value] if what == "token" else [
                t for t, info in self.tokens.items()
                if info.login == token.login and info.client_id == client_id]
            for t in doomed:
                del self.tokens[t]
                self.revoked.append(t)
        return Response(204, raw=b"")

    def _token_json(self, token: Token) -> dict[str, Any]:
        return {"id": token.id, "url": f"{self.url}/authorizations/{token.id}",
                "scopes": token.scopes or [], "token": token.token,
                "token_last_eight": token.token[-8:], "hashed_token": None,
                "app": {"client_id": self.client_id, "name": self.app_name,
                        "url": "https://vopix.example"},
                "note": None, "note_url": None, "fingerprint": None, "expires_at": None,
                "created_at": iso(self.now()), "updated_at": iso(self.now()),
                "user": self.user_json(token.login)}

def _token_answer(body: dict[str, str], as_json: bool) -> Response:
    if as_json:
        return Response(200, body)
    return Response(200, raw=urlencode(body).encode(),
                    content_type="application/x-www-form-urlencoded; charset=utf-8")


def _token_error(error: str, as_json: bool) -> Response:
    description, uri = _TOKEN_ERRORS[error]
    return _token_answer({"error": error, "error_description": description,
                          "error_uri": _OAUTH_DOC + uri}, as_json)
