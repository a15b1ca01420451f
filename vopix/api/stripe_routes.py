"""POST /api/stripe/webhook: the body is read with a cap, then verified and handled by
core/billing/webhook.py; the answer is always a clear 2xx or 4xx, never a 500."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vopix.api.http import read_body
from vopix.core.billing import webhook

MAX_BODY_BYTES = 512 * 1024  # Stripe's events are a few kB; the largest invoices stay far below


async def stripe_webhook(request: Request) -> Response:
    raw = await read_body(request, MAX_BODY_BYTES)
    if raw is None:
        return JSONResponse({"error": "too large"}, status_code=413)
    outcome = await asyncio.to_thread(webhook.handle, raw, request.headers.get("stripe-signature"))
    return JSONResponse(outcome.body, status_code=outcome.status)
