"""Cookie routes: the only place the session cookie is set, rotated or cleared."""

from __future__ import annotations

import asyncio
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vopix.api.http import (
    clear_session_cookie,
    client_ip,
    read_body,
    same_origin,
    set_session_cookie,
)
from vopix.core import accounts, sessions

MAX_BODY_BYTES = 4096  # {"nonce": "..."}


def _forbidden() -> JSONResponse:
    return JSONResponse({"error": "cross-site request refused"}, status_code=403)


async def create_session(request: Request) -> Response:
    """Trade the one-time login nonce (from a password check over the socket) for the cookie."""
    if not same_origin(request):
        return _forbidden()
    raw = await read_body(request, MAX_BODY_BYTES)
    if raw is None:
        return JSONResponse({"error": "request too large"}, status_code=413)
    try:
        body = json.loads(raw or b"{}")
        nonce = str(body.get("nonce", ""))
    except (ValueError, AttributeError):
        return JSONResponse({"error": "expected JSON with a nonce"}, status_code=400)
    user_id = await asyncio.to_thread(accounts.redeem_login_nonce, nonce)
    if user_id is None:
        return JSONResponse({"error": "login expired, please log in again"}, status_code=401)
    token, _ = await asyncio.to_thread(
        sessions.start_session,
        user_id,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = JSONResponse({"ok": True})
    set_session_cookie(response, token)
    response.headers["cache-control"] = "no-store"
    return response


async def refresh_session(request: Request) -> Response:
    if not same_origin(request):
        return _forbidden()
    token = sessions.token_from_cookie_header(request.headers.get("cookie"))
    result = await asyncio.to_thread(
        sessions.refresh, token, ip=client_ip(request), user_agent=request.headers.get("user-agent", "")
    )
    if result is None:
        response = JSONResponse({"ok": False, "error": "not logged in"}, status_code=401)
        if token:
            clear_session_cookie(response)
        return response
    response = JSONResponse({"ok": True, "rotated": result.new_token is not None})
    if result.new_token:
        set_session_cookie(response, result.new_token)
    response.headers["cache-control"] = "no-store"
    return response


async def end_session(request: Request) -> Response:
    if not same_origin(request):
        return _forbidden()
    token = sessions.token_from_cookie_header(request.headers.get("cookie"))
    info = await asyncio.to_thread(sessions.resolve, token) if token else None
    if info is not None:
        await asyncio.to_thread(sessions.end_session, info.session_id, user_id=info.user_id)
    response = JSONResponse({"ok": True})
    clear_session_cookie(response)
    return response
