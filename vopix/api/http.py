"""Request helpers shared by routes and middleware: client IP, cookies, same-origin checks."""

from __future__ import annotations

import asyncio

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from vopix.core import sessions
from vopix.core.sessions import COOKIE_NAME
from vopix.settings import get_settings


def client_ip_from(scope_client: tuple[str, int] | None, forwarded_for: str | None) -> str:
    if forwarded_for and get_settings().trust_proxy:
        return forwarded_for.split(",")[0].strip()[:64]
    return scope_client[0] if scope_client else ""


def client_ip(conn: HTTPConnection) -> str:
    client = (conn.client.host, conn.client.port) if conn.client else None
    return client_ip_from(client, conn.headers.get("x-forwarded-for"))


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed `limit` bytes (a declared
    Content-Length, or the bytes streamed so far): a huge POST is never held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def same_origin(conn: HTTPConnection) -> bool:
    """State-changing cookie routes accept only same-origin browser requests.

    Browsers always send Sec-Fetch-Site and Origin on a cross-site POST, and scripts cannot
    forge either; a request with neither comes from a non-browser client, which holds no
    victim's cookie.
    """
    site = conn.headers.get("sec-fetch-site")
    if site is not None:
        return site in {"same-origin", "none"}
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    allowed = {get_settings().public_origin}
    host = conn.headers.get("host")
    if host:
        allowed |= {f"http://{host}", f"https://{host}"}
    return origin in allowed


def set_session_cookie(response: Response, token: str) -> None:
    cfg = get_settings()
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=cfg.session_days * 86400,
        path="/",
        httponly=True,
        secure=cfg.is_https,
        samesite="lax",
    )


def clear_session_cookie(response: Response) -> None:
    cfg = get_settings()
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, secure=cfg.is_https, samesite="lax")


async def session_user_id(request: Request) -> int | None:
    """The person whose session cookie came with the request (None: none, or ended), checked
    off the event loop like every database read."""
    token = sessions.token_from_cookie_header(request.headers.get("cookie"))
    if not token:
        return None
    info = await asyncio.to_thread(
        sessions.resolve, token, ip=client_ip(request), user_agent=request.headers.get("user-agent", "")
    )
    return info.user_id if info else None
