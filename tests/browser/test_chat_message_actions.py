"""Message actions in the chat, clicked through in Chromium against a fake provider: copy (a
message, a code block), regenerate the last answer, edit and resend, delete with Undo, and each
message's time on hover or focus."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_chat import _point_agent_at
from tests.fakes.ai_provider import Reply

ANSWER = "Here it is:\n\n```python\nprint('hi')\n```\n\nDone."
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d \S+$")


@pytest.fixture
def context(browser, app_url: str):
    ctx = browser.new_context(base_url=app_url, permissions=["clipboard-read", "clipboard-write"])
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def _clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def _send(page, text: str) -> None:
    """Send, then wait for the whole reply: the box empties only once the message is taken (a
    click that lands while the last reply still streams is refused and keeps the text), and
    Send comes back when the reply is done."""
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    page.get_by_role("button", name="Send").click()
    expect(box).to_have_value("")
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_copy_regenerate_edit_and_resend(page, provider) -> None:
    sign_up(page, f"actions-{secrets.token_hex(4)}@example.com")
    _point_agent_at(page, provider)
    page.goto("/chat")
    log = page.get_by_role("log", name="Messages")
    provider.script(Reply(ANSWER, chunks=3))
    _send(page, "Show me code")
    answer = log.get_by_role("article").filter(has_text="Done.")
    expect(answer).to_be_visible()

    # Copy a code block: only its code; the button says so.
    answer.get_by_role("button", name="Copy code").click()
    expect(answer.get_by_role("button", name="Copied")).to_be_visible()
    expect(answer.get_by_role("button", name="Copied")).to_have_text("Copied", use_inner_text=True)
    assert _clipboard(page) == "print('hi')"
    expect(answer.get_by_role("button", name="Copy code")).to_be_visible()  # back after a moment
    # Copy the whole answer, as written (markdown).
    answer.get_by_role("button", name="Copy message").click()
    expect(answer.get_by_role("button", name="Copied")).to_be_visible()
    assert _clipboard(page) == ANSWER
    question = log.get_by_role("article").filter(has_text="Show me code")
    question.get_by_role("button", name="Copy message").click()
    expect(question.get_by_role("button", name="Copied")).to_be_visible()
    assert _clipboard(page) == "Show me code"

    # Regenerate replaces the last answer, for good.
    provider.script(Reply("A second answer.", chunks=2))
    answer.get_by_role("button", name="Regenerate the answer").click()
    expect(log).to_contain_text("A second answer.")
    expect(log).not_to_contain_text("Done.")
    expect(log.get_by_role("article")).to_have_count(2)
    assert provider.requests[-1].body["messages"][-1]["content"] == "Show me code"
    page.reload()
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Show me code").click()
    expect(log).to_contain_text("A second answer.")
    expect(log.get_by_role("article")).to_have_count(2)

    # Edit and resend: a question says the later messages go, then the agent answers again.
    _send(page, "Second question")
    expect(log).to_contain_text("echo: Second question")
    log.get_by_role("article").filter(has_text="Show me code").get_by_role("button", name="Edit message").click()
    edit = log.get_by_role("form", name="Edit message")
    box = edit.get_by_label("Edit your message")
    expect(box).to_be_focused()
    expect(box).to_have_value("Show me code")
    expect(edit).to_contain_text("the messages after this one are deleted")
    box.fill("Show me other code")
    edit.get_by_role("button", name="Resend").click()
    ask = edit.get_by_role("alertdialog", name="Confirm resending the edited message")
    expect(ask).to_contain_text("The 3 messages after it will be deleted")
    ask.get_by_role("button", name="Keep editing").click()  # nothing lost, nothing sent
    expect(box).to_have_value("Show me other code")
    expect(log).to_contain_text("echo: Second question")
    edit.get_by_role("button", name="Resend").click()
    edit.get_by_role("alertdialog").get_by_role("button", name="Delete them and resend").click()
    expect(log).to_contain_text("echo: Show me other code")
    expect(log).not_to_contain_text("Second question")
    expect(log.get_by_role("article")).to_have_count(2)
    page.reload()
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Show me code").click()
    expect(log.get_by_role("article")).to_have_count(2)
    expect(log.get_by_role("article").first).to_contain_text("Show me other code")


def test_delete_with_undo_and_time_on_hover_or_focus(page, provider) -> None:
    sign_up(page, f"undo-{secrets.token_hex(4)}@example.com")
    _point_agent_at(page, provider)  # time zone Europe/Lisbon
    page.goto("/chat")
    log = page.get_by_role("log", name="Messages")
    _send(page, "Keep this one")
    _send(page, "Delete this one")
    expect(log.get_by_role("article")).to_have_count(4)
    question = log.get_by_role("article").filter(has_text="Keep this one").first

    # The time: hidden until the message is hovered or one of its buttons has focus.
    page.mouse.move(0, 0)
    expect(question.locator("time")).to_be_hidden()
    question.hover()
    expect(question.locator("time")).to_be_visible()
    expect(question.locator("time")).to_have_text(TIME)
    expect(question.locator("time")).to_have_text(re.compile(r"WES?T$"))  # the person's zone
    page.mouse.move(0, 0)
    expect(question.locator("time")).to_be_hidden()
    question.get_by_role("button", name="Edit message").focus()
    expect(question.locator("time")).to_be_visible()

    # Delete (here from the keyboard): gone at once, with Undo for a few seconds, which takes
    # the focus; Undo puts the message back in its place.
    doomed = log.get_by_role("article").filter(has_text="echo: Delete this one")
    doomed.get_by_role("button", name="Delete message").focus()
    page.keyboard.press("Enter")
    expect(log.get_by_role("article")).to_have_count(3)
    toast = page.get_by_role("status", name="Deleted messages")
    expect(toast).to_contain_text("Message deleted.")
    expect(toast.get_by_role("button", name="Undo")).to_be_focused()
    page.keyboard.press("Enter")
    expect(log.get_by_role("article")).to_have_count(4)
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    expect(log.get_by_role("article").last).to_contain_text("echo: Delete this one")
    expect(toast.get_by_role("button", name="Undo")).to_have_count(0)
    page.reload()
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Keep this one").click()
    expect(log.get_by_role("article")).to_have_count(4)
    expect(log.get_by_role("article").last).to_contain_text("echo: Delete this one")

    # Without Undo, the toast goes after a few seconds and the deletion stays.
    log.get_by_role("article").last.get_by_role("button", name="Delete message").click()
    expect(toast.get_by_role("button", name="Undo")).to_be_visible()
    expect(toast.get_by_role("button", name="Undo")).to_have_count(0, timeout=12_000)
    expect(page.get_by_label("Message", exact=True)).to_be_focused()  # not lost with the toast
    page.reload()
    page.get_by_role("list", name="Conversations").get_by_role("button", name="Keep this one").click()
    expect(log.get_by_role("article")).to_have_count(3)
    expect(log).not_to_contain_text("echo: Delete this one")
