"""Outermost ASGI wrapper: security headers on every response and an access-log entry for
every HTTP request and socket connection."""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vopix.api import csp
from vopix.api.http import client_ip_from
from vopix.core import access_log, log_format, metrics, sessions
from vopix.settings import get_settings

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _observe(scope: Scope, status: int, seconds: float) -> None:
    """Metrics by route TEMPLATE (never the raw path, which may hold ids)."""
    matched = scope.get("route")  # Reflex's mount (pages, static files) has the empty path
    route = getattr(matched, "path", None) or ("unmatched" if matched is None else "frontend")
    metrics.observe_http(route, scope.get("method", "GET"), status, seconds)  # webhooks too


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}
        id_token = log_format.bind_new("req" if scope["type"] == "http" else "ws")  # issue 17
        extra = [HSTS] if get_settings().is_https else []

        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                # A route's own, stricter CSP (workspace downloads) is kept, like any header
                # the response already has.
                policy = (b"content-security-policy", csp.page_policy().encode())
                headers += [(k, v) for k, v in [*SECURITY_HEADERS, policy, *extra] if k not in present]
                message = {**message, "headers": headers}
            elif message["type"] == "websocket.accept":
                status["code"] = 101
                metrics.OPEN_SOCKETS.inc()
            elif message["type"] == "websocket.close" and not status["code"]:
                status["code"] = 403
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
        except Exception:
            status["code"] = status["code"] or 500
            raise
        finally:
            if scope["type"] == "http":
                _observe(scope, status["code"] or 500, time.perf_counter() - started)
            elif status["code"] == 101:
                metrics.OPEN_SOCKETS.dec()
            log_format.unbind(id_token)
            await self._log(scope, status["code"], started)

    async def _log(self, scope: Scope, status: int, started: float) -> None:
        token = sessions.token_from_cookie_header(_header(scope, b"cookie"))
        found, user_id = access_log.cached_user_for_token(token)
        if not found:
            try:
                user_id = await asyncio.to_thread(access_log.user_for_token, token)
            except Exception:
                user_id = None
        access_log.writer.record(
            access_log.AccessEntry(
                ip=client_ip_from(scope.get("client"), _header(scope, b"x-forwarded-for")),
                method=scope.get("method", "WS") if scope["type"] == "http" else "WS",
                path=scope.get("path", "")[:512],  # path only: query strings may carry codes
                status=status or 500,
                user_id=user_id,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
        )
