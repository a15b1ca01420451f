"""Issue 14, bugs 7 and 10 without a browser: each notice links where the person can act on it
(chosen by its kind, labelled for that page), the notice area folds away, and deleting a file
does not ask about "everything in it"."""

from __future__ import annotations

import pytest

from vopix.core import usage
from vopix.core.kinds import NoticeKind
from vopix.core.workspace import store
from vopix.state.chat import ChatState
from vopix.state.workspace import WorkspaceState

pytestmark = pytest.mark.asyncio


async def test_each_notice_links_to_the_page_for_its_kind(logged_in) -> None:
    user_id, chat = logged_in(ChatState)
    usage.add_notice(user_id, "s", "Your password was changed.", kind=NoticeKind.SECURITY, link="/account")
    usage.add_notice(user_id, "q", "You have used 80% of this month's messages.", kind=NoticeKind.QUOTA,
                     link="/billing")
    usage.add_notice(user_id, "w", "Your agent could not reply freely on WhatsApp.",
                     kind=NoticeKind.WHATSAPP_WINDOW, link="/channels")
    usage.add_notice(user_id, "g", "Scheduled maintenance tonight.")  # general, no link
    await chat.load()
    shown = {n["text"].split()[1]: (n["link"], n["label"]) for n in chat.notices}
    assert shown == {
        "password": ("/account", "Review sessions"),
        "have": ("/billing", "See plans and billing"),
        "agent": ("/channels", "Open Channels"),
        "maintenance": ("", ""),
    }


async def test_the_notice_area_folds_away_and_back(logged_in) -> None:
    _, chat = logged_in(ChatState)
    assert not chat.notices_hidden
    chat.toggle_notices()
    assert chat.notices_hidden
    chat.toggle_notices()
    assert not chat.notices_hidden


async def test_only_a_folder_is_deleted_with_everything_in_it(logged_in) -> None:
    user_id, ws = logged_in(WorkspaceState)
    store.write_text(user_id, "Notes/todo.md", "- milk\n")
    await ws.load()
    ws.ask_delete("Notes/todo.md")
    assert ws.confirm_delete == "Notes/todo.md" and not ws.confirm_delete_folder
    ws.ask_delete("Notes")
    assert ws.confirm_delete == "Notes" and ws.confirm_delete_folder
