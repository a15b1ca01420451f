"""GET/POST /api/whatsapp/webhook: Meta's verification challenge, and signed deliveries
(messages stored durably before the acknowledgement, status callbacks applied)."""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from vopix.api.http import read_body
from vopix.channels import whatsapp, worker
from vopix.channels.whatsapp_protocol import MalformedPayload, verify_challenge, verify_signature
from vopix.settings import get_settings

log = logging.getLogger("vopix.api.whatsapp")
MAX_BODY_BYTES = 3_000_000


async def verify(request: Request) -> Response:
    challenge = verify_challenge(dict(request.query_params), get_settings().whatsapp_verify_token)
    if challenge is None:
        return JSONResponse({"error": "forbidden"}, status_code=403)
    return PlainTextResponse(challenge)


async def webhook(request: Request) -> Response:
    raw = await read_body(request, MAX_BODY_BYTES)
    if raw is None:
        return JSONResponse({"error": "too large"}, status_code=413)
    signature = request.headers.get("x-hub-signature-256")
    if not verify_signature(raw, signature, get_settings().whatsapp_app_secret):
        return JSONResponse({"error": "bad signature"}, status_code=401)
    try:
        body = json.loads(raw)
        stored = await asyncio.to_thread(whatsapp.ingest, body)
    except (ValueError, RecursionError, MalformedPayload) as exc:
        reason = str(exc) if isinstance(exc, MalformedPayload) else "not JSON"
        log.warning("whatsapp webhook: malformed body of %d bytes (%s)", len(raw), reason)
        return JSONResponse({"error": "malformed delivery"}, status_code=400)
    if stored:
        worker.notify()
    return Response(status_code=200)
