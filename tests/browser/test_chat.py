"""Agent settings and web chat, clicked through in Chromium against a fake provider."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.fakes.ai_provider import FakeAIProvider, Reply


@pytest.fixture(scope="module")
def provider():
    with FakeAIProvider() as fake:
        yield fake


def _point_agent_at(page, provider: FakeAIProvider) -> None:
    page.goto("/settings")
    persona = page.get_by_role("form", name="Persona")
    persona.get_by_label("Agent name").fill("Nova")
    persona.get_by_label("Time zone").fill("Europe/Lisbon")
    persona.get_by_role("button", name="Save persona").click()
    expect(page.get_by_text("Saved. Nova will use these settings")).to_be_visible()
    form = page.get_by_role("form", name="AI provider")
    form.get_by_label("Provider").select_option(label="OpenAI-compatible")
    form.get_by_label("Model").fill("fake-model")
    form.get_by_label("Base URL (optional)").fill(provider.openai_base_url)
    form.get_by_label("API key").fill("sk-browser-test-key-5678")
    form.get_by_role("button", name="Save provider").click()
    expect(page.get_by_text("AI provider saved: OpenAI-compatible.")).to_be_visible()
    expect(page.get_by_text("A key ending in 5678 is saved")).to_be_visible()


@pytest.mark.promise("P10")
@pytest.mark.promise("P02")
def test_settings_chat_stream_reload_and_stop(page, provider) -> None:
    sign_up(page, f"chat-{secrets.token_hex(4)}@example.com")
    _point_agent_at(page, provider)
    # The page never shows the key itself.
    assert "sk-browser-test-key-5678" not in page.content()

    page.goto("/chat")
    provider.script(Reply("Hello! I am **Nova**, at your service.", chunks=6, delay=0.15))
    page.get_by_label("Message", exact=True).fill("Who are you?")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Who are you?")
    expect(page.get_by_role("button", name="Stop")).to_be_visible()  # still streaming
    expect(log.locator("strong", has_text="Nova")).to_be_visible()  # markdown rendered
    expect(log).to_contain_text("at your service.")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    system = provider.requests[-1].body["messages"][0]["content"]
    assert "You are Nova" in system and "Europe/Lisbon" in system

    # Reload: the history is still there.
    page.reload()
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Who are you?").click()
    expect(log).to_contain_text("at your service.")

    # A long reply can be stopped.
    provider.script(Reply(" ".join(f"word{i}" for i in range(200)), chunks=100, delay=0.1))
    page.get_by_label("Message", exact=True).fill("Count slowly")
    page.get_by_role("button", name="Send").click()
    expect(log).to_contain_text("word1")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(log).to_contain_text("stopped")
    text = log.inner_text()
    assert "word199" not in text


def test_model_html_is_shown_as_text_not_markup(page, provider) -> None:
    sign_up(page, f"xss-{secrets.token_hex(4)}@example.com")
    _point_agent_at(page, provider)
    page.goto("/chat")
    provider.script(Reply('Look: <img src=x onerror="window.__pwned=1"><b id="raw">bold?</b>'))
    page.get_by_label("Message", exact=True).fill("<script>window.__pwned=2</script> hi")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("<script>window.__pwned=2</script> hi")
    expect(log).to_contain_text("Look:")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#raw").count() == 0


def test_without_a_provider_the_chat_says_so_and_links_to_settings(page) -> None:
    sign_up(page, f"noprov-{secrets.token_hex(4)}@example.com")
    page.goto("/chat")
    page.get_by_label("Message", exact=True).fill("hello?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("note")).to_contain_text("No AI provider is set up")
    page.get_by_role("link", name="Open Agent settings").click()
    page.wait_for_url(re.compile(r"/settings/?$"))


def test_usage_page_shows_figures_and_a_chart(page, provider) -> None:
    sign_up(page, f"usage-{secrets.token_hex(4)}@example.com")
    _point_agent_at(page, provider)
    page.goto("/chat")
    page.get_by_label("Message", exact=True).fill("one")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("echo: one")
    page.goto("/usage")
    expect(page.get_by_text("1 of 300 used")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Chart of daily messages"))).to_be_visible()
    expect(page.locator(".recharts-bar-rectangle").first).to_be_attached()
    expect(page.get_by_role("link", name="See plans and billing")).to_have_attribute("href", "/billing")


def test_scrolling_up_fetches_older_messages(page) -> None:
    from sqlalchemy import insert

    from vopix.core import accounts
    from vopix.core.agent import history
    from vopix.core.clock import utcnow
    from vopix.db import session_scope
    from vopix.models import Message

    email = f"scroll-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    conv = history.create_conversation(user_id, "Long talk").id
    with session_scope() as s:
        s.execute(insert(Message), [
            {"conversation_id": conv, "user_id": user_id, "role": "user", "content": f"line {i}",
             "channel": "web", "status": "complete", "created_at": utcnow()}
            for i in range(150)
        ])
    page.goto("/chat")
    page.get_by_role("button", name="Long talk").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("line 149")
    expect(log.get_by_role("article")).to_have_count(history.PAGE)
    log.evaluate("l => { l.scrollTop = 0; }")
    expect(log.get_by_role("article")).to_have_count(2 * history.PAGE)
    log.evaluate("l => { l.scrollTop = 0; }")
    expect(log.get_by_role("article")).to_have_count(150)
    expect(page.get_by_role("button", name="Load older messages")).to_have_count(0)
