"""The Gmail API as the agent uses it, Google's token revocation, and mail as Gmail stores it:
base64url RFC 822, text taken from the text/plain part (else the HTML one, as text)."""

from __future__ import annotations

import base64
import email.policy
import html
import re
from email.message import EmailMessage
from typing import Any

import httpx

from vopix.core import http
from vopix.core.agent.tools import ToolFailed
from vopix.core.integrations.acting import TokenRefused
from vopix.settings import get_settings

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
RETRY = http.RetryPolicy(attempts=3, base_delay=0.5, max_delay=8.0, max_retry_after=30.0)


class _RateLimited(Exception):
    def __init__(self, after: float | None) -> None:
        super().__init__("rate limited")
        self.after = after


def _reason(r: httpx.Response) -> str:
    try:
        err = r.json().get("error", {})
    except ValueError:
        return f"HTTP {r.status_code}"
    if not isinstance(err, dict):
        return str(err)
    return str(err.get("message") or err.get("status") or f"HTTP {r.status_code}")


async def call(token: str, method: str, path: str, *, params: dict[str, Any] | None = None,
               json: dict[str, Any] | None = None) -> Any:
    url = f"{get_settings().gmail_api_base_url}/gmail/v1/users/me{path}"

    async def once() -> httpx.Response:
        r = await http.client("gmail", timeout=TIMEOUT).request(
            method, url, params=params, json=json, headers={"Authorization": f"Bearer {token}"}
        )
        if r.status_code == 429 or (r.status_code == 403 and "rateLimitExceeded" in r.text):
            raise _RateLimited(http.parse_retry_after(r.headers.get("retry-after")))
        return r

    def retry_on(exc: Exception) -> http.Retry | None:
        if isinstance(exc, _RateLimited):
            return http.Retry(exc.after)
        return http.Retry() if isinstance(exc, httpx.TransportError) else None

    try:
        r = await http.retry(once, RETRY, retry_on)
    except _RateLimited:
        raise ToolFailed("Gmail's rate limit is reached for now; try again in a minute.") from None
    except httpx.TransportError:
        raise ToolFailed("Gmail could not be reached; try again in a moment.") from None
    if r.status_code == 401:
        raise TokenRefused("Google refused the saved access: reconnect Gmail on the Integrations page.")
    if r.status_code == 404:
        raise ToolFailed("Gmail has no such message or thread.")
    if r.status_code >= 400:
        raise ToolFailed(f"Gmail refused: {_reason(r)}")
    return r.json() if r.content else None


async def whoami(token: str) -> tuple[str, str, str]:
    body = await call(token, "GET", "/profile")
    return str(body["emailAddress"]), str(body["emailAddress"]), ""


async def revoke(token: str) -> bool:
    r = await http.client("gmail", timeout=TIMEOUT).post(
        f"{get_settings().google_oauth2_base_url}/revoke", params={"token": token},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return r.status_code == 200


def _b64decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def headers_of(payload: dict[str, Any]) -> dict[str, str]:
    return {str(h.get("name", "")).lower(): str(h.get("value", "")) for h in payload.get("headers", [])}


def text_of(payload: dict[str, Any]) -> str:
    """The readable text of a message: its text/plain part, else its HTML part without tags."""
    plain, rich = [], []

    def walk(part: dict[str, Any]) -> None:
        mime = str(part.get("mimeType", ""))
        data = (part.get("body") or {}).get("data")
        if data and mime == "text/plain":
            plain.append(_b64decode(data).decode("utf-8", "replace"))
        elif data and mime == "text/html":
            rich.append(_b64decode(data).decode("utf-8", "replace"))
        for sub in part.get("parts", []) or []:
            walk(sub)

    walk(payload)
    if plain:
        return "\n".join(plain).strip()
    return html.unescape(re.sub(r"<[^>]+>", " ", "\n".join(rich))).strip()


def raw_message(*, to: str, subject: str, body: str, in_reply_to: str = "", references: str = "") -> str:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["To"] = to
    msg["Subject"] = subject
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = (references + " " + in_reply_to).strip()
    msg.set_content(body)
    return base64.urlsafe_b64encode(msg.as_bytes()).decode("ascii")
