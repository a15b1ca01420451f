"""The Starlette app Reflex mounts itself under (api_transformer): our routes match first."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from vopix.api import (
    auth_routes,
    integration_routes,
    mail_routes,
    metrics_routes,
    outage,
    privacy_routes,
    stripe_routes,
    telegram_routes,
    whatsapp_routes,
    workspace_routes,
)
from vopix.routes import EXPORT_DOWNLOAD


def build_api() -> Starlette:
    routes = [
        Route("/healthz", metrics_routes.healthz, methods=["GET"]),
        Route("/metrics", metrics_routes.metrics_endpoint, methods=["GET"]),
        Route("/api/auth/session", auth_routes.create_session, methods=["POST"]),
        Route("/api/auth/refresh", auth_routes.refresh_session, methods=["POST"]),
        Route("/api/auth/logout", auth_routes.end_session, methods=["POST"]),
        Route("/api/stripe/webhook", stripe_routes.stripe_webhook, methods=["POST"]),
        Route("/api/integrations/{service}/callback", integration_routes.callback, methods=["GET"]),
        Route("/api/telegram/webhook", telegram_routes.webhook, methods=["POST"]),
        Route("/api/whatsapp/webhook", whatsapp_routes.verify, methods=["GET"]),
        Route("/api/whatsapp/webhook", whatsapp_routes.webhook, methods=["POST"]),
        Route("/api/workspace/file", workspace_routes.download_file, methods=["GET"]),
        Route("/api/workspace/zip", workspace_routes.download_zip, methods=["GET"]),
        Route(EXPORT_DOWNLOAD, privacy_routes.download_export, methods=["GET"]),
        Route("/unsubscribe", mail_routes.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe", mail_routes.unsubscribe_now, methods=["POST"]),
    ]
    # A database outage is a 503 with Retry-After, not a 500 (issue 15, fault 3).
    return Starlette(routes=routes, exception_handlers=outage.EXCEPTION_HANDLERS)
