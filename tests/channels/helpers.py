"""Helpers for channel tests: deliver updates the way Telegram and Meta do, run the worker."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlmodel import select

from tests.channels.conftest import TELEGRAM_SECRET, WHATSAPP_APP_SECRET
from tests.fakes.whatsapp_api import signed_delivery
from vopix.channels import links, worker
from vopix.db import session_scope
from vopix.models import InboundEvent


async def post_update(api: httpx.AsyncClient, update: dict[str, Any], secret: str = TELEGRAM_SECRET) -> int:
    response = await api.post(
        "/api/telegram/webhook",
        content=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    return response.status_code


async def post_whatsapp(api: httpx.AsyncClient, payload: dict[str, Any], secret: str = WHATSAPP_APP_SECRET) -> int:
    body, headers = signed_delivery(payload, secret)
    response = await api.post("/api/whatsapp/webhook", content=body, headers=headers)
    return response.status_code


async def drain() -> int:
    return await worker.drain()


def inbound_events() -> list[InboundEvent]:
    """Every inbound event stored so far, oldest first."""
    with session_scope() as s:
        return list(s.exec(select(InboundEvent).order_by(InboundEvent.id)))


def telegram_code(user_id: int) -> str:
    return links.create_code(user_id, "telegram").code


def link_telegram(user_id: int, chat_id: int) -> None:
    links.redeem("telegram", telegram_code(user_id), chat_id, "Ada")


def link_whatsapp(user_id: int, number: str) -> None:
    links.redeem("whatsapp", links.create_code(user_id, "whatsapp").code, number, "Ada")


async def post_streamed(path: str, headers: dict[str, str], total: int, piece: int = 64 * 1024) -> tuple[int, int]:
    """POST `total` bytes to our routes (behind the access-log middleware) in pieces, the way a
    client streams a big body; returns (status, bytes the app pulled before answering)."""
    from vopix.api.app import build_api
    from vopix.api.middleware import AccessLogMiddleware

    pulled = 0
    status: dict[str, int] = {}

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        size = min(piece, total - pulled)
        pulled += size
        return {"type": "http.request", "body": b"{" * size, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status["code"] = message["status"]

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("203.0.113.9", 40000), "server": ("testserver", 80),
    }
    await AccessLogMiddleware(build_api())(scope, receive, send)
    return status["code"], pulled
