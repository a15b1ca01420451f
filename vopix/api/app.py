"""The Starlette app Reflex mounts itself under (api_transformer): our routes match first."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vopix import db
from vopix.api import auth_routes, mail_routes, telegram_routes, whatsapp_routes, workspace_routes


async def healthz(_request: Request) -> JSONResponse:
    ok = await asyncio.to_thread(db.ping)
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "database": "reachable" if ok else "unreachable"},
        status_code=200 if ok else 503,
    )


def build_api() -> Starlette:
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/auth/session", auth_routes.create_session, methods=["POST"]),
        Route("/api/auth/refresh", auth_routes.refresh_session, methods=["POST"]),
        Route("/api/auth/logout", auth_routes.end_session, methods=["POST"]),
        Route("/api/telegram/webhook", telegram_routes.webhook, methods=["POST"]),
        Route("/api/whatsapp/webhook", whatsapp_routes.verify, methods=["GET"]),
        Route("/api/whatsapp/webhook", whatsapp_routes.webhook, methods=["POST"]),
        Route("/api/workspace/file", workspace_routes.download_file, methods=["GET"]),
        Route("/api/workspace/zip", workspace_routes.download_zip, methods=["GET"]),
        Route("/unsubscribe", mail_routes.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe", mail_routes.unsubscribe_now, methods=["POST"]),
    ]
    return Starlette(routes=routes)
