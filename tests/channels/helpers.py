"""Helpers for channel tests: deliver updates the way Telegram and Meta do, run the worker."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.channels.conftest import TELEGRAM_SECRET, WHATSAPP_APP_SECRET
from tests.fakes.whatsapp_api import signed_delivery
from vopix.channels import links, worker


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


def telegram_code(user_id: int) -> str:
    return links.create_code(user_id, "telegram").code


def link_telegram(user_id: int, chat_id: int) -> None:
    links.redeem("telegram", telegram_code(user_id), chat_id, "Ada")


def link_whatsapp(user_id: int, number: str) -> None:
    links.redeem("whatsapp", links.create_code(user_id, "whatsapp").code, number, "Ada")
