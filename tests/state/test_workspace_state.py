"""The workspace page's events, without a browser: each acts for the socket cookie's person only."""

from __future__ import annotations

import pytest

from tests.state.conftest import set_cookie
from vopix.core import sessions
from vopix.core.workspace import store
from vopix.state.workspace import WorkspaceState

pytestmark = pytest.mark.asyncio


def _is_redirect_to_login(result) -> bool:
    return result is not None and "/login" in str(result)


async def test_the_page_lists_the_tree_and_storage(logged_in) -> None:
    _, ws = logged_in(WorkspaceState)
    await ws.load()
    assert [e["path"] for e in ws.entries] == ["README.md", "skills", "skills/meeting-notes",
                                               "skills/meeting-notes/SKILL.md"]
    assert ws.entries[0]["download"] == "/api/workspace/file?path=README.md"
    assert ws.entries[1]["download"] == "/api/workspace/zip?path=skills"
    assert ws.storage_text.endswith(" of 100 MB used") and ws.limit_text == "Largest file: 25 MB."


async def test_folder_file_edit_rename_and_delete(logged_in) -> None:
    user_id, ws = logged_in(WorkspaceState)
    await ws.load()
    await ws.create_folder({"folder_name": "Notes"})
    assert ws.message == "Folder “Notes” created." and ws.target_folder == "Notes"
    await ws.create_file({"file_name": "todo.md"})
    assert ws.open_path == "Notes/todo.md" and ws.editor_text == "" and ws.open_is_markdown
    before = store.storage_used(user_id)
    await ws.save_file({"content": "# Todo\r\n- milk\r\n"})
    assert ws.editor_message == "Saved “Notes/todo.md” (14 bytes)." and store.storage_used(user_id) == before + 14
    assert store.read_text(user_id, "Notes/todo.md")[1] == "# Todo\n- milk\n"
    ws.start_rename("Notes")
    await ws.rename({"new_path": "Archive/Notes"})
    assert ws.open_path == "Archive/Notes/todo.md" and store.exists(user_id, "archive/notes/todo.md")
    ws.ask_delete("Archive")
    await ws.delete_confirmed()
    assert ws.message == "Deleted “Archive” (1 file, 14 bytes freed)." and ws.open_path == ""
    assert store.storage_used(user_id) == before


async def test_a_save_over_a_newer_version_is_refused(logged_in) -> None:
    user_id, ws = logged_in(WorkspaceState)
    await ws.open_file("README.md")
    store.write_text(user_id, "README.md", "changed by the agent meanwhile")
    await ws.save_file({"content": "my edit"})
    assert "changed since it was opened" in ws.editor_error
    assert store.read_text(user_id, "README.md")[1] == "changed by the agent meanwhile"


async def test_bad_names_are_explained_and_change_nothing(logged_in) -> None:
    user_id, ws = logged_in(WorkspaceState)
    await ws.load()
    before = [e.path for e in store.list_entries(user_id)]
    await ws.create_folder({"folder_name": "../up"})
    # Told beside the field that holds the name, not at the top of the page.
    assert "not allowed as a name" in ws.folder_error and ws.error == ""
    await ws.create_file({"file_name": "con.txt"})
    assert "reserved device name" in ws.file_error and ws.folder_error == ""
    ws.set_target_folder("../../elsewhere")  # not one of the person's folders: ignored
    assert ws.target_folder == ""
    assert [e.path for e in store.list_entries(user_id)] == before


async def test_no_event_reaches_another_persons_files(logged_in) -> None:
    alice, _ = logged_in(WorkspaceState)
    store.write_text(alice, "private/diary.md", "alice only")
    _, bob = logged_in(WorkspaceState)
    await bob.load()
    assert not any(e["path"].startswith("private") for e in bob.entries)
    await bob.open_file("private/diary.md")
    assert bob.error.startswith("There is no") and bob.editor_text == ""
    bob.start_rename("private/diary.md")
    await bob.rename({"new_path": "stolen.md"})
    assert bob.rename_error.startswith("There is no")
    bob.ask_delete("private")
    await bob.delete_confirmed()
    assert bob.error.startswith("There is no")
    assert store.read_text(alice, "private/diary.md")[1] == "alice only"


async def test_events_without_the_cookie_do_nothing_and_forget_the_files(logged_in, make_user) -> None:
    user_id, ws = logged_in(WorkspaceState)
    await ws.open_file("README.md")
    # The same client state, now driven from a socket without a valid cookie.
    for cookie in ("", f"{sessions.COOKIE_NAME}=forged"):
        set_cookie(ws, cookie)
        ws.renaming = "README.md"
        assert _is_redirect_to_login(await ws.rename({"new_path": "gone.md"}))
        assert ws.entries == [] and ws.editor_text == "" and ws.open_path == ""
        ws.confirm_delete = "README.md"
        assert _is_redirect_to_login(await ws.delete_confirmed())
        assert _is_redirect_to_login(await ws.open_file("README.md"))
        assert _is_redirect_to_login(await ws.load())
    assert store.exists(user_id, "README.md") and not store.exists(user_id, "gone.md")
    # Someone else's cookie on that socket acts for that someone else, in their own workspace.
    other, _, _ = make_user()
    store.write_text(other, "theirs.md", "x")
    other_token, _ = sessions.start_session(other)
    set_cookie(ws, f"{sessions.COOKIE_NAME}={other_token}")
    await ws.load()
    assert "theirs.md" in [e["path"] for e in ws.entries]
    assert store.exists(user_id, "README.md")


async def test_a_late_draft_of_the_file_before_does_not_reach_the_next_ones_preview(logged_in) -> None:
    user_id, ws = logged_in(WorkspaceState)
    store.write_text(user_id, "a.md", "# A\n")
    store.write_text(user_id, "b.md", "# B\n")
    await ws.open_file("a.md")
    key_a = ws.editor_key
    ws.set_draft("# A\ntyped", key_a)
    assert ws.draft_text == "# A\ntyped" and ws.editor_text == "# A\n"
    await ws.open_file("b.md")
    ws.set_draft("# A\ntyped more", key_a)  # debounced in the page: sent after b.md opened
    assert ws.draft_text == "# B\n"
    ws.close_editor()
    ws.set_draft("anything", ws.editor_key)
    assert ws.draft_text == ""
