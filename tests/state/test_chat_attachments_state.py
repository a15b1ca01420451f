"""The composer's attachments, without a browser: files go into inbox/ for the socket cookie's
person only, wait on the composer, and are named in the message sent."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.state.conftest import set_cookie
from vopix.core import attachments
from vopix.core.agent import history
from vopix.core.workspace import store
from vopix.state.chat import ChatState

pytestmark = pytest.mark.asyncio


@dataclass
class Piece:
    filename: str
    offset: int
    data: bytes


async def _pieces(*files: tuple[str, bytes]):
    for name, data in files:
        yield Piece(name, 0, data)


async def _attach(chat: ChatState, *files: tuple[str, bytes]) -> None:
    await ChatState.event_handlers["attach"].fn(chat, _pieces(*files))


async def _stream_reply(chat: ChatState, text: str) -> None:
    await ChatState.event_handlers["stream_reply"].fn(chat, text)


async def test_attached_files_are_named_in_the_message_sent(logged_in) -> None:
    user_id, chat = logged_in(ChatState)
    await chat.load()
    await _attach(chat, ("list.txt", b"milk"), ("a b.png", b"\x89PNG"))
    assert [f["name"].split(" ", 1)[1] for f in chat.pending_files] == ["list.txt", "a b.png"]
    assert all(store.exists(user_id, f["path"]) for f in chat.pending_files)
    paths = [f["path"] for f in chat.pending_files]

    await chat.send({"message": "Here you go"})
    assert chat.pending_files == []
    row = chat.messages[-1]
    assert row["text"] == "Here you go" and [f["path"] for f in row["files"]] == paths
    assert f"Attached: {paths[0]} (text/plain, 4 bytes)" in row["content"]
    await _stream_reply(chat, row["content"])  # as send's follow-up event runs it
    [conv] = history.list_conversations(user_id)
    stored = history.messages_page(user_id, conv.id)[0][0].content
    assert [a.path for a in attachments.split_note(stored)[1]] == paths


async def test_files_alone_can_be_sent_and_a_removed_one_is_deleted(logged_in) -> None:
    user_id, chat = logged_in(ChatState)
    await chat.load()
    await _attach(chat, ("keep.txt", b"1"), ("drop.txt", b"2"))
    keep, drop = (f["path"] for f in chat.pending_files)
    await chat.remove_attachment(drop)
    assert not store.exists(user_id, drop) and store.exists(user_id, keep)
    await chat.send({"message": ""})
    assert chat.messages[-1]["text"] == "" and [f["path"] for f in chat.messages[-1]["files"]] == [keep]


async def test_over_the_storage_left_the_composer_says_why(logged_in, settings_env) -> None:
    user_id, chat = logged_in(ChatState)
    await chat.load()
    settings_env(VOPIX_MAX_FILE_BYTES="10")
    await _attach(chat, ("big.txt", b"x" * 50))
    assert chat.pending_files == []
    [refused] = chat.attach_errors
    assert refused.endswith(" big.txt” is too large: the largest file allowed is 10 bytes.")
    assert not store.exists(user_id, attachments.INBOX)


async def test_a_socket_without_the_cookie_attaches_nothing(logged_in) -> None:
    user_id, chat = logged_in(ChatState)
    await chat.load()
    set_cookie(chat, "")
    await _attach(chat, ("x.txt", b"secret"))
    assert chat.pending_files == [] and not store.exists(user_id, attachments.INBOX)
