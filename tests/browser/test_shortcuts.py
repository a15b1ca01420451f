"""Issue 14: keyboard shortcuts on the chat page, shown in a help dialog."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_chat import _point_agent_at
from tests.fakes.ai_provider import FakeAIProvider, Reply
from vopix.core import accounts
from vopix.core.agent import history

FOCUS_IN_DIALOG = "document.getElementById('shortcuts').contains(document.activeElement)"
SHORTCUTS_READY = "window.__vopixShortcuts === true"  # shortcuts.js comes after hydration


@pytest.fixture(scope="module")
def provider():
    with FakeAIProvider() as fake:
        yield fake


def _chat(page, name: str) -> int:
    email = f"keys-{name}-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    page.goto("/chat")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    page.wait_for_function(SHORTCUTS_READY)
    return user_id


def test_the_help_dialog_opens_from_its_button_and_from_question_mark(page) -> None:
    _chat(page, "help")
    composer = page.get_by_label("Message", exact=True)
    composer.press("?")  # typing in the message box: a question mark, not the dialog
    expect(composer).to_have_value("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()

    button = page.get_by_role("button", name="Keyboard shortcuts")
    button.click()
    expect(dialog).to_be_visible()
    for keys, action in (("Alt + N", "New conversation"), ("/", "Search messages"),
                         ("Esc", "Stop the reply while it is being written")):
        expect(dialog.get_by_role("row", name=f"{keys} {action}")).to_be_visible()
    # Focus starts inside and Tab goes round the dialog's controls, never out of it.
    assert page.evaluate(FOCUS_IN_DIALOG)
    for _ in range(5):
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_IN_DIALOG)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUS_IN_DIALOG)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()  # focus goes back where it was

    page.keyboard.press("?")  # outside a text field it opens the dialog
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()


def test_slash_goes_to_the_search_and_single_keys_can_be_turned_off(page) -> None:
    _chat(page, "search")
    button = page.get_by_role("button", name="Keyboard shortcuts")
    button.focus()
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search messages")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the slash was not typed into it

    button.click()
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.get_by_label("Single-key shortcuts (? and /)").uncheck()
    dialog.get_by_role("button", name="Close").click()
    page.reload()
    page.wait_for_function(SHORTCUTS_READY)
    button = page.get_by_role("button", name="Keyboard shortcuts")
    button.focus()
    page.keyboard.press("/")
    expect(button).to_be_focused()  # off, and remembered over a reload
    page.keyboard.press("?")
    expect(dialog).to_be_hidden()
    button.click()
    expect(dialog.get_by_label("Single-key shortcuts (? and /)")).not_to_be_checked()


def test_alt_n_starts_a_new_conversation_and_alt_m_goes_to_the_message_box(page) -> None:
    user_id = _chat(page, "new")
    conv = history.create_conversation(user_id, "Old topic").id
    history.add_message(user_id, conv, "user", "Something from before")
    page.reload()
    page.wait_for_function(SHORTCUTS_READY)
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Old topic").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Something from before")

    page.get_by_label("Message", exact=True).focus()
    page.keyboard.press("Alt+N")  # works from the message box
    expect(log).not_to_contain_text("Something from before")
    expect(log.get_by_role("heading", name="Say hello to")).to_be_visible()
    expect(page.get_by_label("Conversation title")).to_have_count(0)  # no conversation open
    expect(page.get_by_label("Message", exact=True)).to_be_focused()

    page.get_by_role("searchbox", name="Search messages").focus()
    page.keyboard.press("Alt+M")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()


def test_escape_stops_a_reply_while_it_streams(page, provider) -> None:
    sign_up(page, f"keys-stop-{secrets.token_hex(4)}@example.com")
    _point_agent_at(page, provider)
    page.goto("/chat")
    page.wait_for_function(SHORTCUTS_READY)
    composer = page.get_by_label("Message", exact=True)
    page.keyboard.press("Escape")  # nothing streams: nothing happens
    expect(page.get_by_role("button", name="Send")).to_be_visible()

    provider.script(Reply(" ".join(f"word{i}" for i in range(200)), chunks=100, delay=0.1))
    composer.fill("Count slowly")
    composer.press("Enter")
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("word1")
    composer.press("Escape")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(log).to_contain_text("stopped")
    assert "word199" not in log.inner_text()
