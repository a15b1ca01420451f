"""Pieces shared by the fake OAuth servers (GitHub, Slack, Google): one-time authorization codes,
PKCE S256 checks, the plain-HTML consent page and redirects back to the client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes._http import Request, Response


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of ``verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_ok(challenge: str | None, method: str | None, verifier: str | None) -> bool:
    """True when no challenge was sent, or ``verifier`` matches it (S256 or plain)."""
    if not challenge:
        return True
    if not verifier:
        return False
    expected = s256(verifier) if (method or "plain").upper() == "S256" else verifier
    return hmac.compare_digest(expected.encode(), challenge.encode())


@dataclass
class Grant:
    """What an authorization code stands for, until it is redeemed (once)."""

    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    issued_at: float = 0.0


class CodeStore:
    """Single-use authorization codes. ``redeem`` removes the code whether or not it then fits."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._codes: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, grant: Grant) -> str:
        code = self.prefix + secrets.token_hex(10)
        with self._lock:
            self._codes[code] = grant
        return code

    def redeem(self, code: str) -> Grant | None:
        with self._lock:
            return self._codes.pop(code, None)

    def __len__(self) -> int:
        return len(self._codes)


def html(status: int, title: str, body: str) -> Response:
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title></head><body><main>{body}</main></body></html>")
    return Response(status, raw=page.encode(), content_type="text/html; charset=utf-8")


def redirect(url: str, params: dict[str, str]) -> Response:
    """302 to ``url`` with ``params`` added to its query string (``None`` values dropped)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    sep = "&" if urlsplit(url).query else "?"
    return Response(302, raw=b"", content_type="text/html",
                    headers={"Location": f"{url}{sep}{query}" if query else url})


def consent_page(
    *,
    title: str,
    heading: str,
    lines: list[str],
    action: str,
    fields: dict[str, str],
    allow: str,
    deny: str,
) -> Response:
    """A consent page: ``heading``, the ``lines`` (already safe HTML is NOT accepted: they are
    escaped), and one form POSTing ``fields`` to ``action`` with an allow and a deny button."""
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in fields.items())
    items = "".join(f"<p>{escape(line)}</p>" for line in lines)
    body = (f"<h1>{escape(heading)}</h1>{items}"
            f'<form method="post" action="{escape(action)}">{hidden}'
            f'<button type="submit" name="decision" value="allow">{escape(allow)}</button> '
            f'<button type="submit" name="decision" value="deny">{escape(deny)}</button>'
            "</form>")
    return html(200, title, body)


def params_of(request: Request) -> dict[str, str]:
    """Query parameters merged with urlencoded form fields (form wins)."""
    merged = dict(request.query)
    merged.update({k: v for k, v in request.form().items() if isinstance(v, str)})
    return merged


def basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization") or ""
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def bearer(request: Request, *schemes: str) -> str | None:
    """The token of an ``Authorization: <scheme> <token>`` header (schemes compared
    case-insensitively; default ``Bearer``)."""
    header = (request.headers.get("Authorization") or "").strip()
    scheme, _, token = header.partition(" ")
    allowed = {s.lower() for s in (schemes or ("bearer",))}
    if scheme.lower() not in allowed or not token.strip():
        return None
    return token.strip()
