"""Through the load balancer, a tab on instance 1 sees live what instance 2 received, and a
web reply longer than Redis's 10 s state-lock expiry streams to it in short writes (issue 15)."""

from __future__ import annotations

import secrets
import time

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.cluster.conftest import BROWSER_TELEGRAM_SECRET, Cluster
from tests.fakes.ai_provider import FakeAIProvider, Reply
from tests.fakes.telegram_updates import make_start_update, make_text_update
from vopix.channels import links
from vopix.core import accounts
from vopix.core.agent import profile


def _telegram_posts(base_url: str, update: dict) -> None:
    response = httpx.post(
        f"{base_url}/api/telegram/webhook", json=update, timeout=10,
        headers={"X-Telegram-Bot-Api-Secret-Token": BROWSER_TELEGRAM_SECRET},
    )
    assert response.status_code == 200


def _wait_for_sent(fake, text: str, chat_id: int, timeout: float = 30.0) -> list[dict]:
    """What the bot sent to that chat (the fake is shared with the run's browser tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := [m for m in fake.sent_messages
                     if text in m.get("text", "") and str(m.get("chat_id")) == str(chat_id)]:
            return found
        time.sleep(0.1)
    raise AssertionError(f"the bot never sent {text!r}; sent: {fake.sent_messages!r}")


def test_telegram_on_instance_two_shows_live_in_a_tab_on_instance_one(
    page, cluster: Cluster, channel_fakes: dict
) -> None:
    telegram = channel_fakes["telegram"]
    email = f"cluster-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)  # through nginx: instance 1 holds the tab's socket
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    with FakeAIProvider() as provider:
        profile.update_provider(user_id, kind="openai", model="fake-model",
                                base_url=provider.openai_base_url, api_key="sk-cluster-key-1234")
        chat_id = 710_000_000 + secrets.randbelow(1_000_000)
        code = links.create_code(user_id, "telegram").code
        instance_two = cluster.instance_urls[1]
        _telegram_posts(instance_two, make_start_update(secrets.randbelow(10**9), chat_id, code))
        _wait_for_sent(telegram, "Linked!", chat_id)

        page.goto("/chat")
        log = page.get_by_role("log", name="Messages")
        # Telegram, received by instance 2 only: the open tab lists the conversation live.
        provider.script(Reply("Answered on the other instance."))
        _telegram_posts(instance_two, make_text_update(secrets.randbelow(10**9), chat_id, "From the phone"))
        conversations = page.get_by_role("list", name="Conversations")
        conversations.get_by_role("button", name="From the phone").click()
        expect(log).to_contain_text("Answered on the other instance.")

        # With the conversation open, the next exchange appears without a reload.
        provider.script(Reply("Still live across instances."))
        _telegram_posts(instance_two, make_text_update(secrets.randbelow(10**9), chat_id, "Second from the bus"))
        expect(log).to_contain_text("Second from the bus")
        expect(log).to_contain_text("Still live across instances.")
        assert len(_wait_for_sent(telegram, "Still live across instances.", chat_id)) == 1

        # A web reply that streams for longer than a Redis state lock lives (10 s): the turn
        # runs outside the lock and writes its pieces one by one, so every piece arrives.
        words = [f"piece{i:02d}" for i in range(14)]
        provider.script(Reply(" ".join(words), chunks=len(words), delay=1.0))
        page.get_by_label("Message", exact=True).fill("Take your time")
        page.get_by_role("button", name="Send").click()
        expect(log).to_contain_text("piece02")
        assert "piece13" not in log.inner_text()  # shown while the turn still runs
        expect(page.get_by_role("button", name="Stop")).to_be_visible()
        expect(log).to_contain_text("piece13", timeout=40_000)
        expect(page.get_by_role("button", name="Send")).to_be_visible()
        assert "interrupted" not in log.inner_text().lower()

        # And it is what the database keeps, seen after a reload.
        page.reload()
        page.get_by_role("list", name="Conversations").get_by_role("button", name="From the phone").click()
        expect(log).to_contain_text("piece13")
