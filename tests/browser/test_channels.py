"""Link Telegram from the Channels page (the test plays Telegram through the webhook), then
read the Telegram conversation in the web chat."""

from __future__ import annotations

import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_TELEGRAM_SECRET, sign_up
from tests.fakes.ai_provider import FakeAIProvider, Reply
from tests.fakes.telegram_api import make_start_update, make_text_update
from vopix.core import accounts
from vopix.core.agent import profile


@pytest.fixture(scope="module")
def provider():
    with FakeAIProvider() as fake:
        yield fake


def _telegram_posts(app_url: str, update: dict) -> None:
    response = httpx.post(
        f"{app_url}/api/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": BROWSER_TELEGRAM_SECRET},
        timeout=10,
    )
    assert response.status_code == 200


def _wait_for_sent(fake, text: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in fake.sent_messages:
            if text in message.get("text", ""):
                return message
        time.sleep(0.1)
    raise AssertionError(f"the bot never sent {text!r}; sent: {fake.sent_messages!r}")


@pytest.mark.promise("P03")
@pytest.mark.promise("P07")
@pytest.mark.promise("P22")
def test_link_telegram_then_see_the_conversation_on_the_web(page, app_url, channel_fakes, provider) -> None:
    telegram = channel_fakes["telegram"]
    email = f"tg-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    profile.update_provider(
        user_id, kind="openai", model="fake-model", base_url=provider.openai_base_url,
        api_key="sk-browser-channels-key-1234",
    )
    chat_id = 700_000_000 + secrets.randbelow(1_000_000)

    page.get_by_role("link", name="Channels").click()
    telegram_card = page.get_by_role("region", name="Telegram")
    telegram_card.get_by_role("button", name="Connect Telegram").click()
    link = telegram_card.get_by_role("link", name="Open the Telegram link")
    expect(link).to_be_visible()
    expect(telegram_card.get_by_role("img", name="QR code of the Telegram link")).to_be_visible()
    href = link.get_attribute("href") or ""
    assert href.startswith(f"https://t.me/{telegram.bot_user['username']}?start=")
    code = parse_qs(urlsplit(href).query)["start"][0]

    # Telegram: the person pressed Start in the bot's chat.
    _telegram_posts(app_url, make_start_update(secrets.randbelow(10**9), chat_id, code, username="ada_tg"))
    assert _wait_for_sent(telegram, "Linked!")["chat_id"] == chat_id
    expect(telegram_card).to_contain_text("Linked to @ada_tg")
    expect(telegram_card.get_by_role("button", name="Unlink Telegram")).to_be_visible()

    # A conversation on Telegram...
    provider.script(Reply("Hello from your agent, on **every** channel."))
    _telegram_posts(app_url, make_text_update(secrets.randbelow(10**9), chat_id, "Hi from my phone"))
    reply = _wait_for_sent(telegram, "Hello from your agent")
    assert reply["parse_mode"] == "HTML" and "<b>every</b>" in reply["text"]

    # ...is in the web chat, marked as coming from Telegram.
    page.goto("/chat")
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Hi from my phone").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Hi from my phone")
    expect(log).to_contain_text("Hello from your agent")
    expect(log).to_contain_text("via Telegram")

    # While the web chat stays open, a new Telegram exchange shows up without a reload.
    provider.script(Reply("Still here, live."))
    _telegram_posts(app_url, make_text_update(secrets.randbelow(10**9), chat_id, "Another one from the bus"))
    expect(log).to_contain_text("Another one from the bus", timeout=15_000)
    expect(log).to_contain_text("Still here, live.", timeout=15_000)

    # Unlink: the chat is forgotten.
    page.goto("/channels")
    telegram_card.get_by_role("button", name="Unlink Telegram").click()
    expect(page.get_by_text("Telegram unlinked.")).to_be_visible()
    expect(telegram_card.get_by_role("button", name="Connect Telegram")).to_be_visible()
