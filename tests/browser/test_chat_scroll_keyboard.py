"""Issue 14, bugs 3 and 9: the chat log follows new messages (or offers "Jump to latest"),
the skip link moves focus, and login, sign-up and chat start with the right field focused."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_chat import _point_agent_at
from tests.fakes.ai_provider import FakeAIProvider, Reply

AT_BOTTOM = "l => l.scrollHeight - l.scrollTop - l.clientHeight < 40"
SCROLL_UP = "l => { l.scrollTop = Math.floor(l.scrollHeight / 3); }"


@pytest.fixture(scope="module")
def provider():
    with FakeAIProvider() as fake:
        yield fake


def _long_conversation(page, provider: FakeAIProvider, title: str) -> None:
    """A person with a working agent and a conversation of 60 messages, opened in the chat."""
    from vopix.core import accounts
    from vopix.core.agent import history

    email = f"{title.lower().replace(' ', '-')}-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    _point_agent_at(page, provider)
    user_id = accounts.find_user_id(email)
    conv = history.create_conversation(user_id, title).id
    for i in range(60):
        history.add_message(user_id, conv, "user" if i % 2 == 0 else "assistant", f"old note {i}")
    page.goto("/chat")
    page.get_by_role("list", name="Conversations").get_by_role("button", name=title).click()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("old note 59")


def _at_bottom(page) -> None:
    page.wait_for_function(f"({AT_BOTTOM})(document.querySelector('[role=log]'))", timeout=5_000)


def test_send_after_scrolling_up_shows_the_new_message_and_reply(page, provider) -> None:
    _long_conversation(page, provider, "Scrolled talk")
    log = page.get_by_role("log", name="Messages")
    _at_bottom(page)
    log.evaluate(SCROLL_UP)
    expect(log.get_by_text("old note 59")).not_to_be_in_viewport()

    provider.script(Reply("Here is my fresh answer.", chunks=3, delay=0.1))
    page.get_by_label("Message", exact=True).fill("A fresh question")
    page.get_by_role("button", name="Send").click()
    expect(log.get_by_text("A fresh question")).to_be_in_viewport()
    expect(log.get_by_text("Here is my fresh answer.")).to_be_in_viewport()


def test_jump_to_latest_while_a_slow_reply_streams(page, provider) -> None:
    _long_conversation(page, provider, "Streaming talk")
    log = page.get_by_role("log", name="Messages")
    jump = page.get_by_role("button", name="Jump to latest")
    provider.script(Reply("\n\n".join(f"Paragraph {i}." for i in range(80)), chunks=80, delay=0.1))
    page.get_by_label("Message", exact=True).fill("Tell me a long story")
    page.get_by_role("button", name="Send").click()

    # At the bottom, the streaming text keeps the view there, with nothing to jump to.
    expect(log).to_contain_text("Paragraph 12.")
    _at_bottom(page)
    expect(jump).to_be_hidden()

    # Scrolled up while text keeps arriving: the jump appears and brings the newest text back.
    log.evaluate(SCROLL_UP)
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    _at_bottom(page)
    expect(log.get_by_role("article").last).to_be_in_viewport()

    # Pinned again: the rest of the reply streams in view.
    expect(page.get_by_role("button", name="Send")).to_be_visible(timeout=20_000)
    expect(log.get_by_text("Paragraph 79.")).to_be_in_viewport()
    expect(jump).to_be_hidden()


def test_skip_link_moves_focus_into_main(page) -> None:
    sign_up(page, f"skip-{secrets.token_hex(4)}@example.com")
    page.goto("/usage")
    expect(page.get_by_text("of 300 used")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    # The next Tab continues inside the page's content, not in the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_login_and_signup_start_in_the_email_field(page) -> None:
    page.goto("/login")
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    page.goto("/signup")
    expect(page.get_by_label("Email", exact=True)).to_be_focused()


def test_chat_starts_in_the_composer(page) -> None:
    sign_up(page, f"composer-{secrets.token_hex(4)}@example.com")
    page.goto("/chat")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
