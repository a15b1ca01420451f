"""GitHub's REST API as the agent uses it: one pooled client, GitHub's headers, its rate limits
honoured (403/429 with Retry-After or X-RateLimit-Reset), its errors turned into sentences."""

from __future__ import annotations

import time
from typing import Any

import httpx

from vopix.core import http
from vopix.core.agent.tools import ToolFailed
from vopix.core.integrations.acting import TokenRefused
from vopix.settings import get_settings

API_VERSION = "2022-11-28"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
RETRY = http.RetryPolicy(attempts=3, base_delay=0.5, max_delay=8.0, max_retry_after=30.0)


class _RateLimited(Exception):
    def __init__(self, after: float | None) -> None:
        super().__init__("rate limited")
        self.after = after


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION, "User-Agent": "VOPIX",
    }


def _wait_of(r: httpx.Response) -> float | None:
    after = http.parse_retry_after(r.headers.get("retry-after"))
    if after is None and r.headers.get("x-ratelimit-remaining") == "0":
        reset = r.headers.get("x-ratelimit-reset", "")
        after = max(0.0, float(reset) - time.time()) if reset.isdigit() else None
    return after


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"HTTP {r.status_code}"
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        found = (str(e.get("message") or e.get("code") or e) for e in errors if isinstance(e, dict))
        details = "; ".join(found)
        message = f"{message}: {details}" if details else message
    return message or f"HTTP {r.status_code}"


async def call(token: str, method: str, path: str, *, params: dict[str, Any] | None = None,
               json: dict[str, Any] | None = None) -> tuple[Any, httpx.Headers]:
    """One API call; the JSON body and the headers. Failures are ToolFailed with GitHub's reason."""
    url = f"{get_settings().github_api_base_url}{path}"

    async def once() -> httpx.Response:
        r = await http.client("github", timeout=TIMEOUT).request(
            method, url, params=params, json=json, headers=_headers(token)
        )
        if r.status_code == 429 or (r.status_code == 403 and (
            r.headers.get("x-ratelimit-remaining") == "0" or "rate limit" in r.text.lower()
        )):
            raise _RateLimited(_wait_of(r))
        return r

    def retry_on(exc: Exception) -> http.Retry | None:
        if isinstance(exc, _RateLimited):
            return http.Retry(exc.after)
        if isinstance(exc, httpx.TransportError):
            return http.Retry()
        return None

    try:
        r = await http.retry(once, RETRY, retry_on)
    except _RateLimited:
        raise ToolFailed("GitHub's rate limit is reached for now; try again in a few minutes.") from None
    except httpx.TransportError:
        raise ToolFailed("GitHub could not be reached; try again in a moment.") from None
    if r.status_code == 401:
        raise TokenRefused("GitHub refused the saved token (revoked or expired): reconnect GitHub on "
                           "the Integrations page.")
    if r.status_code == 404:
        raise ToolFailed("GitHub says not found (or the token has no access to it).")
    if r.status_code >= 400:
        raise ToolFailed(f"GitHub refused: {_message(r)}")
    return (r.json() if r.content else None), r.headers


async def whoami(token: str) -> tuple[str, str, str]:
    """(login, user id, granted scopes) of a token: checked before a token is saved."""
    body, headers = await call(token, "GET", "/user")
    return str(body["login"]), str(body["id"]), headers.get("x-oauth-scopes", "")


async def revoke(token: str) -> bool:
    """Revoke an OAuth app token (DELETE /applications/{client_id}/token); True when GitHub took it."""
    cfg = get_settings()
    if not (cfg.github_client_id and cfg.github_client_secret):
        return False
    r = await http.client("github", timeout=TIMEOUT).request(
        "DELETE", f"{cfg.github_api_base_url}/applications/{cfg.github_client_id}/token",
        json={"access_token": token}, auth=(cfg.github_client_id, cfg.github_client_secret),
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
    )
    return r.status_code in (204, 404)  # 404: already gone
