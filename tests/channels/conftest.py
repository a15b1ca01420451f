"""Fixtures for channel tests: loopback fakes of the Telegram and WhatsApp APIs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_asyncio

# The agent's fake provider and a user pointed at it, shared with the agent tests.
from tests.core.agent.conftest import agent_user, fake_ai  # noqa: F401
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.whatsapp_api import FakeWhatsAppAPI


@pytest.fixture
def telegram_api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
def whatsapp_api() -> Iterator[FakeWhatsAppAPI]:
    with FakeWhatsAppAPI() as fake:
        yield fake


# --------------------------------------------------------------------------- end-to-end fixtures

TELEGRAM_SECRET = "tg-webhook-secret_0123456789"
WHATSAPP_APP_SECRET = "wa-app-secret-abcdef"
WHATSAPP_VERIFY_TOKEN = "wa-verify-token-123"
WHATSAPP_TEMPLATE = "vopix_reply_waiting"


@pytest.fixture
def channels_env(settings_env, telegram_api: FakeTelegramAPI, whatsapp_api: FakeWhatsAppAPI, monkeypatch):
    """Settings pointing both channels at the loopback fakes; no pacing delays."""
    from vopix.channels import telegram

    settings_env(
        VOPIX_TELEGRAM_BOT_TOKEN=telegram_api.token,
        VOPIX_TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        VOPIX_TELEGRAM_BOT_USERNAME=telegram_api.bot_user["username"],
        VOPIX_TELEGRAM_API_BASE_URL=telegram_api.url,
        VOPIX_WHATSAPP_ACCESS_TOKEN=whatsapp_api.access_token,
        VOPIX_WHATSAPP_PHONE_NUMBER_ID=whatsapp_api.phone_number_id,
        VOPIX_WHATSAPP_NUMBER="+1 555 000 9999",
        VOPIX_WHATSAPP_APP_SECRET=WHATSAPP_APP_SECRET,
        VOPIX_WHATSAPP_VERIFY_TOKEN=WHATSAPP_VERIFY_TOKEN,
        VOPIX_WHATSAPP_TEMPLATE_NAME=WHATSAPP_TEMPLATE,
        VOPIX_WHATSAPP_API_BASE_URL=whatsapp_api.url,
    )
    monkeypatch.setattr(telegram, "PACE_SECONDS", 0.0)
    monkeypatch.setattr(telegram, "MAX_RETRY_WAIT", 1.0)
    return {"telegram": telegram_api, "whatsapp": whatsapp_api}


@pytest_asyncio.fixture
async def api(channels_env):
    """The Starlette app (our routes) behind the access-log middleware, in-process."""
    import httpx

    from vopix.api.app import build_api
    from vopix.api.middleware import AccessLogMiddleware

    transport = httpx.ASGITransport(app=AccessLogMiddleware(build_api()))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
