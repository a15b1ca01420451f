"""Redis restarted under an open tab (issue 15, fault 4): every tab's Reflex state is gone,
but the person stays logged in (identity comes from the cookie, checked against PostgreSQL),
and the open tab goes on working without a reload, in the conversation it had open: the
address keeps it (/chat?c=<id>, assets/chat_url.js) and Reflex sends the address with every
event, so the fresh state opens it again and the next message lands in it."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import sign_up
from tests.cluster.conftest import Cluster
from tests.fakes.ai_provider import FakeAIProvider, Reply
from vopix.core import accounts
from vopix.core.agent import profile
from vopix.db import session_scope
from vopix.models import Message


def _chat_then_restart_redis(page, cluster: Cluster, provider: FakeAIProvider, email: str) -> None:
    """Sign up, talk once in /chat, then restart Redis under the open tab."""
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    profile.update_provider(user_id, kind="openai", model="fake-model",
                            base_url=provider.openai_base_url, api_key="sk-redis-key-1234")
    page.goto("/chat")
    provider.script(Reply("Before the restart."))
    page.get_by_label("Message", exact=True).fill("First question")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Before the restart.")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/chat/?\?c=\d+$"))  # the open conversation, in the address
    page.evaluate("window.__vopixNoReload = true")  # gone if the page reloads
    cluster.redis.restart()


def test_redis_restart_keeps_people_logged_in_and_tabs_working(page, cluster: Cluster) -> None:
    email = f"redis-{secrets.token_hex(4)}@example.com"
    with FakeAIProvider() as provider:
        _chat_then_restart_redis(page, cluster, provider, email)
        log = page.get_by_role("log", name="Messages")

        # The same tab, no reload: the next message is answered, for the same person, in the
        # conversation on screen, which the tab still shows.
        provider.script(Reply("After the restart."))
        page.get_by_label("Message", exact=True).fill("Second question")
        page.get_by_role("button", name="Send").click()
        expect(log).to_contain_text("After the restart.", timeout=30_000)
        expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)
        expect(log).to_contain_text("First question")
        expect(log).to_contain_text("Before the restart.")
        assert page.evaluate("window.__vopixNoReload") is True
        user_id = accounts.find_user_id(email)
        with session_scope() as s:
            where = s.exec(select(Message.content, Message.conversation_id)
                           .where(Message.user_id == user_id, Message.role == "user")).all()
        assert {c for _, c in where} == {where[0][1]} and len(where) == 2  # one conversation
        assert page.url.endswith(f"?c={where[0][1]}")

        # A reload (or a new tab) is still logged in, and both exchanges are kept.
        page.reload()
        expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)
        conversations = page.get_by_role("list", name="Conversations")
        expect(conversations.get_by_role("button")).to_have_count(1)
        expect(log).to_contain_text("Before the restart.")  # the address opened it again
        expect(log).to_contain_text("After the restart.")
        with session_scope() as s:
            said = s.exec(select(Message.content).where(Message.user_id == user_id)).all()
        assert "After the restart." in said and "Second question" in said
