"""The chat's address follows the open conversation (/chat?c=<id>), so a tab whose server
state is gone (issue 15, fault 4: Redis restarted; or a reload) opens it again."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.fakes.ai_provider import FakeAIProvider, Reply
from vopix.core import accounts
from vopix.core.agent import history, profile

WITH_C = re.compile(r"/chat/?\?c=(\d+)$")
WITHOUT_C = re.compile(r"/chat/?$")


def test_the_address_names_the_open_conversation_and_a_reload_opens_it(page) -> None:
    email = f"address-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    with FakeAIProvider() as provider:
        profile.update_provider(user_id, kind="openai", model="fake-model",
                                base_url=provider.openai_base_url, api_key="sk-address-key-1234")
        page.goto("/chat")
        log = page.get_by_role("log", name="Messages")
        provider.script(Reply("First answer."))
        page.get_by_label("Message", exact=True).fill("First question")
        page.get_by_role("button", name="Send").click()
        expect(log).to_contain_text("First answer.")
        expect(page.get_by_role("button", name="Send")).to_be_visible()
        expect(page).to_have_url(WITH_C)
        [first] = history.list_conversations(user_id)
        assert WITH_C.search(page.url).group(1) == str(first.id)

        page.get_by_role("button", name="New conversation").click()
        expect(page).to_have_url(WITHOUT_C)
        provider.script(Reply("Second answer."))
        page.get_by_label("Message", exact=True).fill("Second question")
        page.get_by_role("button", name="Send").click()
        expect(log).to_contain_text("Second answer.")
        second = next(c for c in history.list_conversations(user_id) if c.id != first.id)
        expect(page).to_have_url(re.compile(rf"\?c={second.id}$"))
        expect(page.get_by_role("button", name="Send")).to_be_visible()  # the reply has ended

        page.get_by_role("list", name="Conversations").get_by_role("button", name="First question").click()
        expect(page).to_have_url(re.compile(rf"\?c={first.id}$"))
        page.evaluate("window.sessionStorage.clear()")  # a new client token: a state of nothing
        page.reload()
        expect(log).to_contain_text("First answer.")  # opened from the address alone
        expect(log).not_to_contain_text("Second answer.")
