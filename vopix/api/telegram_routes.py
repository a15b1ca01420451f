"""POST /api/telegram/webhook: check the secret header, validate, store durably, acknowledge.

Answering happens later in the channel worker; a malformed body gets a 400 and is logged
by size only, never by content."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vopix.api.http import read_body
from vopix.channels import queue, telegram, worker
from vopix.channels.telegram_protocol import MalformedPayload, verify_secret_token
from vopix.core import log_format
from vopix.settings import get_settings

log = logging.getLogger("vopix.api.telegram")
MAX_BODY_BYTES = 1_000_000


async def webhook(request: Request) -> Response:
    cfg = get_settings()
    secret = request.headers.get("x-telegram-bot-api-secret-token")
    if not cfg.telegram_bot_token or not verify_secret_token(secret, cfg.telegram_webhook_secret):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    raw = await read_body(request, MAX_BODY_BYTES)
    if raw is None:
        return JSONResponse({"error": "too large"}, status_code=413)
    try:
        text = raw.decode("utf-8")
        event = telegram.new_event(json.loads(text), text)
    except (ValueError, RecursionError, MalformedPayload) as exc:
        reason = str(exc) if isinstance(exc, MalformedPayload) else "not JSON"
        log.warning("telegram webhook: malformed body of %d bytes (%s)", len(raw), reason)
        return JSONResponse({"error": "malformed update"}, status_code=400)
    if event is not None:  # the id the worker's lines for this update carry too
        log_format.bind(log_format.event_id_for(telegram.CHANNEL, event.external_id))
    if event is not None and await asyncio.to_thread(queue.store_events, telegram.CHANNEL, [event]):
        worker.notify()
    return Response(status_code=200)
