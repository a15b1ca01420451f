"""Slack's Web API as the agent uses it: POST /api/<method> with the bot token, answers that are
HTTP 200 with {"ok": false, "error": ...} on failure, 429 with Retry-After honoured."""

from __future__ import annotations

from typing import Any

import httpx

from vopix.core import http
from vopix.core.agent.tools import ToolFailed
from vopix.core.integrations.acting import TokenRefused
from vopix.settings import get_settings

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
RETRY = http.RetryPolicy(attempts=3, base_delay=0.5, max_delay=8.0, max_retry_after=30.0)
REFUSED = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
SENTENCES = {
    "channel_not_found": "Slack has no such channel (or the app cannot see it).",
    "not_in_channel": "The VOPIX app is not a member of that channel: invite it there first "
                      "(/invite @VOPIX).",
    "missing_scope": "The Slack app was not given the permission this needs: reconnect Slack.",
    "is_archived": "That channel is archived.",
    "msg_too_long": "The message is too long for Slack.",
    "no_text": "The message is empty.",
}


class _RateLimited(Exception):
    def __init__(self, after: float | None) -> None:
        super().__init__("rate limited")
        self.after = after


async def call(token: str, method: str, **params: Any) -> dict[str, Any]:
    url = f"{get_settings().slack_base_url}/api/{method}"

    async def once() -> httpx.Response:
        r = await http.client("slack", timeout=TIMEOUT).post(
            url, data={k: str(v) for k, v in params.items() if v is not None},
            headers={"Authorization": f"Bearer {token}"},
        )
        if r.status_code == 429:
            raise _RateLimited(http.parse_retry_after(r.headers.get("retry-after")))
        return r

    def retry_on(exc: Exception) -> http.Retry | None:
        if isinstance(exc, _RateLimited):
            return http.Retry(exc.after)
        return http.Retry() if isinstance(exc, httpx.TransportError) else None

    try:
        r = await http.retry(once, RETRY, retry_on)
    except _RateLimited:
        raise ToolFailed("Slack's rate limit is reached for now; try again in a minute.") from None
    except httpx.TransportError:
        raise ToolFailed("Slack could not be reached; try again in a moment.") from None
    try:
        body = r.json()
    except ValueError:
        raise ToolFailed(f"Slack answered something unexpected (HTTP {r.status_code}).") from None
    if not isinstance(body, dict) or not body.get("ok"):
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        if error in REFUSED:
            if error == "token_revoked":
                raise TokenRefused("Slack says the saved token was revoked: reconnect Slack on the "
                                   "Integrations page.", revoked=True)
            raise TokenRefused("Slack refused the saved token (revoked or expired): reconnect Slack on "
                               "the Integrations page.")
        raise ToolFailed(SENTENCES.get(error, f"Slack refused: {error or 'no reason given'}"))
    return body


async def whoami(token: str) -> tuple[str, str, str]:
    """(workspace name, workspace id, scopes) of a bot token."""
    body = await call(token, "auth.test")
    return str(body.get("team", "")), str(body.get("team_id", "")), ""


async def revoke(token: str) -> bool:
    try:
        body = await call(token, "auth.revoke")
    except TokenRefused:
        return True  # already dead
    except ToolFailed:
        return False
    return bool(body.get("revoked"))
