"""The workspace editor in Chromium (issue 14, bug 5): opening a file brings the editor into view
with the focus in it; a refused name is told beside its field and stays typed; unsaved edits are
not let go without asking; the markdown preview follows the typing."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_up
from vopix.core import accounts
from vopix.core.workspace import store

PHONE = {"width": 390, "height": 740}


def _workspace_with(page: Page, files: dict[str, str]) -> int:
    email = f"editor-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    for path, text in files.items():
        store.write_text(user_id, path, text)
    page.goto("/workspace")
    expect(page.get_by_role("table", name="Files")).to_contain_text(next(iter(files)).split("/")[-1])
    return user_id


def _open(page: Page, path: str) -> None:
    page.get_by_role("table", name="Files").get_by_role("button", name=f"Open {path}", exact=True).click()


def test_opening_a_file_low_in_the_list_brings_the_editor_into_view_and_focus(page: Page) -> None:
    many = {f"notes/day-{n:02}.md": f"# Day {n}\n" for n in range(1, 41)}
    _workspace_with(page, many)
    for size, path in (({"width": 1280, "height": 800}, "notes/day-40.md"), (PHONE, "notes/day-39.md")):
        page.set_viewport_size(size)
        button = page.get_by_role("button", name=f"Open {path}", exact=True)
        button.scroll_into_view_if_needed()
        page.mouse.wheel(0, 4000)  # the bottom of the page, far below where the editor opens
        _open(page, path)
        editor = page.get_by_role("region", name="Editor")
        expect(editor).to_contain_text(f"Editing {path}")
        content = editor.get_by_label("Content")
        expect(content).to_have_value(f"# Day {int(path[-5:-3])}\n")
        expect(page.get_by_role("heading", name=f"Editing {path}")).to_be_in_viewport()
        expect(content).to_be_in_viewport()
        expect(content).to_be_focused()


def test_a_refused_name_is_told_beside_its_field_and_stays_typed(page: Page) -> None:
    user_id = _workspace_with(page, {"README.md": "# Read me\n"})
    cases = (
        ("New file", "New file name", "../escape.md", "Create file", "no going up"),
        ("New folder", "New folder name", "CON", "Create folder", "reserved device name"),
    )
    for form_name, label, typed, button, why in cases:
        form = page.get_by_role("form", name=form_name)
        form.get_by_label(label).fill(typed)
        form.get_by_role("button", name=button).click()
        alert = form.get_by_role("alert")
        expect(alert).to_contain_text(why)
        field = form.get_by_label(label)
        expect(field).to_have_value(typed)
        expect(field).to_have_attribute("aria-invalid", "true")
        alert_id = alert.get_attribute("id") or "no id"
        # Waited for, like every check here: the field and its error may arrive in two renders.
        expect(field).to_have_attribute("aria-describedby", re.compile(rf"(^|\s){re.escape(alert_id)}(\s|$)"))
    # Corrected, the file is made and its field emptied; the old error is gone.
    form = page.get_by_role("form", name="New file")
    form.get_by_label("New file name").fill("escape.md")
    form.get_by_role("button", name="Create file").click()
    expect(page.get_by_role("status")).to_contain_text("“escape.md” created.")
    expect(form.get_by_label("New file name")).to_have_value("")
    expect(form.get_by_role("alert")).to_have_count(0)
    assert store.exists(user_id, "escape.md")

    page.get_by_role("button", name="Rename or move README.md").click()
    rename = page.get_by_role("form", name="Rename or move")
    rename.get_by_label("New name or place for README.md").fill("docs/nul.txt")
    rename.get_by_role("button", name="Move").click()
    expect(rename.get_by_role("alert")).to_contain_text("reserved device name")
    expect(rename.get_by_label("New name or place for README.md")).to_have_value("docs/nul.txt")
    assert store.exists(user_id, "README.md")

    # A refused save is told in the editor, and the typed text stays there.
    # (Created, the file is already open; opening it again keeps what is typed, without asking.)
    editor = page.get_by_role("region", name="Editor")
    expect(editor).to_contain_text("Editing escape.md")
    content = editor.get_by_label("Content")
    content.fill("my version")
    _open(page, "escape.md")
    expect(page.get_by_role("alertdialog", name="Unsaved changes")).to_have_count(0)
    expect(content).to_be_focused()
    expect(content).to_have_value("my version")
    store.write_text(user_id, "escape.md", "the agent's version")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).to_contain_text("changed since it was opened")
    expect(content).to_have_value("my version")


def test_unsaved_edits_are_not_lost_without_asking(page: Page) -> None:
    user_id = _workspace_with(page, {"notes.md": "# Notes\n", "todo.md": "- milk\n"})
    _open(page, "notes.md")
    editor = page.get_by_role("region", name="Editor")
    content = editor.get_by_label("Content")
    expect(content).to_have_value("# Notes\n")
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("call the plumber")
    ask = page.get_by_role("alertdialog", name="Unsaved changes")

    # Another file: asked; Keep editing keeps the text and the file.
    _open(page, "todo.md")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text("Discard your changes to notes.md?")
    ask.get_by_role("button", name="Keep editing").click()
    expect(ask).to_be_hidden()
    expect(editor).to_contain_text("Editing notes.md")
    expect(content).to_have_value("# Notes\ncall the plumber")
    expect(content).to_be_focused()

    # Close: asked too; Discard closes without saving.
    editor.get_by_role("button", name="Close").click()
    expect(ask).to_contain_text("Discard your changes to notes.md?")
    ask.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("region", name="Editor")).to_have_count(0)
    expect(page.get_by_role("button", name="Open notes.md", exact=True)).to_be_focused()
    assert store.read_text(user_id, "notes.md", 1000)[1] == "# Notes\n"

    # Saved edits go without a question; unsaved ones before leaving for another page are asked.
    _open(page, "todo.md")
    expect(content).to_have_value("- milk\n")
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("- bread\n")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("status")).to_contain_text("Saved “todo.md”")
    _open(page, "notes.md")
    expect(editor).to_contain_text("Editing notes.md")
    expect(ask).to_be_hidden()
    content.click()
    page.keyboard.type("draft ")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Chat").click()
    expect(ask).to_contain_text("Discard your changes to notes.md?")
    ask.get_by_role("button", name="Keep editing").click()
    assert page.url.rstrip("/").endswith("/workspace")

    # Closing the tab: the browser's own question.
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.close(run_before_unload=True)
    page.wait_for_event("close")
    assert asked == ["beforeunload"]


def test_the_markdown_preview_follows_the_typing(page: Page) -> None:
    user_id = _workspace_with(page, {"plan.md": "# Plan\n"})
    _open(page, "plan.md")
    editor = page.get_by_role("region", name="Editor")
    editor.get_by_role("button", name="Show preview").click()
    preview = page.get_by_role("region", name="Markdown preview")
    expect(preview.get_by_role("heading", name="Plan")).to_be_visible()
    content = editor.get_by_label("Content")
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n## Fresh heading\n\n- first step")
    expect(preview.get_by_role("heading", name="Fresh heading")).to_be_visible()
    expect(preview.get_by_role("listitem")).to_have_text("first step")
    # Nothing was saved: the preview shows the typing, the file is as it was.
    assert store.read_text(user_id, "plan.md", 1000)[1] == "# Plan\n"
