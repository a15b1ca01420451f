"""Issue 14: a full-height chat (the conversation fills the window between the header and the
composer, and only the message list scrolls), the conversation list as a drawer on phones,
and a regenerated answer replacing the old one in the person's other open tab too."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import point_agent_at, sign_up
from tests.fakes.ai_provider import Reply

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 720}


def _person_with_talks(page: Page, *titles: str, messages: int = 60) -> int:
    from vopix.core import accounts
    from vopix.core.agent import history

    email = f"layout-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    for title in titles:
        conv = history.create_conversation(user_id, title).id
        for i in range(messages):
            history.add_message(user_id, conv, "user" if i % 2 == 0 else "assistant", f"{title} note {i}")
    return user_id


def _fills_the_window(page: Page) -> None:
    size = page.viewport_size
    assert size
    composer = page.get_by_role("form", name="Send a message").bounding_box()
    log_box = page.get_by_role("log", name="Messages").bounding_box()
    header = page.locator(".vx-header").bounding_box()
    assert composer and log_box and header
    # The composer sits at the window's bottom edge (a desktop keeps a small margin)...
    assert size["height"] - 16 <= composer["y"] + composer["height"] <= size["height"], composer
    # ...the list takes the room between the header and the composer...
    assert header["y"] + header["height"] <= log_box["y"] < header["y"] + header["height"] + 140, log_box
    assert composer["y"] - (log_box["y"] + log_box["height"]) < 60
    # ...and only the list scrolls, not the page.
    assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")
    assert page.get_by_role("log", name="Messages").evaluate("l => l.scrollHeight > l.clientHeight + 100")


def _head_controls_are_usable(page: Page) -> None:
    """The title field keeps room to read and type, and no control of the bar covers another
    (on a phone the title was once squeezed to nothing and Rename slid under Delete)."""
    title = page.get_by_label("Conversation title").bounding_box()
    boxes = [page.get_by_role("button", name=name, exact=True).bounding_box()
             for name in ("Rename", "Delete conversation")]
    assert title and all(boxes)
    assert title["width"] >= 180, title
    everything = [title, *boxes]
    for i, a in enumerate(everything):
        for b in everything[i + 1:]:
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, (a, b)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_chat_fills_the_window_and_only_the_messages_scroll(page: Page, size: dict) -> None:
    page.set_viewport_size(size)
    _person_with_talks(page, "Tall talk")
    page.goto("/chat")
    if size is PHONE:
        page.get_by_role("button", name="Conversations", exact=True).click()
    page.get_by_role("list", name="Conversations", exact=True).get_by_role("button", name="Tall talk").click()
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_text("Tall talk note 59")).to_be_in_viewport()  # opened at the newest
    _fills_the_window(page)
    _head_controls_are_usable(page)

    log.evaluate("l => { l.scrollTop = 0; }")
    expect(log.get_by_text("Tall talk note 59")).not_to_be_in_viewport()
    expect(page.get_by_label("Message", exact=True)).to_be_in_viewport(ratio=1)
    _fills_the_window(page)

    # A new, empty conversation fills the window too.
    if size is PHONE:
        page.get_by_role("button", name="Conversations", exact=True).click()
    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".vx-welcome")).to_be_visible()
    composer = page.get_by_role("form", name="Send a message").bounding_box()
    assert composer and size["height"] - 16 <= composer["y"] + composer["height"] <= size["height"]


def test_on_a_phone_the_conversations_are_a_drawer(page: Page) -> None:
    page.set_viewport_size(PHONE)
    _person_with_talks(page, "First talk", "Second talk", messages=4)
    page.goto("/chat")
    button = page.get_by_role("button", name="Conversations", exact=True)
    conversations = page.get_by_role("list", name="Conversations", exact=True)
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(conversations).to_be_hidden()  # the conversation has the screen
    drawer = page.locator(f"#{button.get_attribute('aria-controls')}")
    expect(drawer.get_by_role("list", name="Conversations", exact=True)).to_have_count(0)  # hidden from everyone

    # Opened with the keyboard: the focus moves into the drawer; Escape gives it back.
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(drawer.get_by_role("list", name="Conversations", exact=True)).to_be_visible()
    assert page.evaluate("!!document.activeElement.closest('#chat-drawer')")
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(conversations).to_be_hidden()

    # The drawer's own Close button.
    button.click()
    page.get_by_role("button", name="Close conversations").click()
    expect(conversations).to_be_hidden()
    expect(button).to_be_focused()

    # Picking a conversation closes the drawer and opens it, ready to write.
    button.click()
    conversations.get_by_role("button", name="Second talk").click()
    expect(conversations).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Second talk note 3")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()

    # Search lives in the drawer too, and a hit opens its message.
    button.click()
    page.get_by_role("searchbox", name="Search messages").fill("note 1")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    hits = page.get_by_role("list", name="Search results")
    hits.get_by_role("button").filter(has_text="First talk").first.click()
    expect(hits).to_be_hidden()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("First talk note 1")

    # On a wide screen the list is beside the conversation again, with no drawer button.
    page.set_viewport_size(DESKTOP)
    expect(conversations).to_be_visible()
    expect(button).to_be_hidden()


def test_a_regenerated_answer_replaces_the_old_one_in_another_tab(page: Page, provider) -> None:
    sign_up(page, f"tabs-{secrets.token_hex(4)}@example.com")
    point_agent_at(page, provider)
    page.goto("/chat")
    provider.script(Reply("The first answer.", chunks=2))
    page.get_by_label("Message", exact=True).fill("Two tabs")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("The first answer.")
    expect(page.get_by_role("button", name="Send")).to_be_visible()

    other = page.context.new_page()
    other.goto("/chat")
    other.get_by_role("list", name="Conversations", exact=True).get_by_role("button", name="Two tabs").click()
    other_log = other.get_by_role("log", name="Messages")
    expect(other_log).to_contain_text("The first answer.")

    provider.script(Reply("The second answer.", chunks=2))
    log.get_by_role("article").filter(has_text="The first answer.").get_by_role(
        "button", name="Regenerate the answer"
    ).click()
    expect(log).to_contain_text("The second answer.")
    # The other tab, untouched, drops the old answer and shows the new one (its next poll).
    expect(other_log).to_contain_text("The second answer.")
    expect(other_log).not_to_contain_text("The first answer.")
    expect(other_log.get_by_role("article")).to_have_count(2)
