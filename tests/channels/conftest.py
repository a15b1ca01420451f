"""Fixtures for channel tests: loopback fakes of the Telegram and WhatsApp APIs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
