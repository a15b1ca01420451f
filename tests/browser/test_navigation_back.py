"""Issue 14, the workspace editor's open question: the browser's Back button. The app's links
are client-side router links, so Back to a page reached by one unloads nothing and the
browser asks nothing: the editor's own question must come instead, or typing is lost."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_up
from vopix.core import accounts
from vopix.core.workspace import store


def test_back_with_unsaved_edits_asks_and_keep_editing_keeps_them(page: Page) -> None:
    email = f"back-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    store.write_text(user_id, "notes.md", "# Notes\n")
    page.goto("/chat")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workspace").click()
    page.get_by_role("table", name="Files").get_by_role("button", name="Open notes.md", exact=True).click()
    content = page.get_by_role("region", name="Editor").get_by_label("Content")
    expect(content).to_have_value("# Notes\n")
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("call the plumber")
    ask = page.get_by_role("alertdialog", name="Unsaved changes")

    page.evaluate("history.back()")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text("Discard your changes to notes.md?")
    expect(page).to_have_url(re.compile(r"/workspace/?$"))
    ask.get_by_role("button", name="Keep editing").click()
    expect(content).to_have_value("# Notes\ncall the plumber")
    expect(content).to_be_focused()

    # Asked again; Discard takes the step back.
    page.evaluate("history.back()")
    ask.get_by_role("button", name="Discard").click()
    expect(page).to_have_url(re.compile(r"/chat/?$"))
    expect(page.get_by_label("Message", exact=True)).to_be_visible()
    assert store.read_text(user_id, "notes.md", 1000)[1] == "# Notes\n"

    # Without edits Back and Forward ask nothing.
    page.evaluate("history.forward()")
    expect(page).to_have_url(re.compile(r"/workspace/?$"))
    expect(page.get_by_role("table", name="Files")).to_be_visible()
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile(r"/chat/?$"))
    expect(ask).to_have_count(0)
