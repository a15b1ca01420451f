"""The chat's message actions without a browser: delete and Undo, edit and resend, regenerate."""

from __future__ import annotations

import pytest

from tests.fakes.ai_provider import Reply, make_fixture
from tests.state.conftest import set_cookie
from vopix.core import usage
from vopix.core.agent import history, profile
from vopix.state import chat_actions
from vopix.state.chat import ChatState

pytestmark = pytest.mark.asyncio
fake_ai = make_fixture()


async def _background(state: ChatState, name: str, *args: object) -> None:
    # A background event, called the way the event processor calls it.
    await ChatState.event_handlers[name].fn(state, *args)


async def _chat_with_talk(logged_in, fake_ai, *pairs: tuple[str, str]) -> tuple[int, ChatState, int]:
    user_id, chat = logged_in(ChatState)
    profile.update_provider(
        user_id, kind="openai", model="m", base_url=fake_ai.openai_base_url, api_key="sk-state-test-0000",
    )
    conv = history.create_conversation(user_id).id
    for question, answer in pairs:
        history.add_message(user_id, conv, "user", question)
        history.add_message(user_id, conv, "assistant", answer)
    await chat.load()
    await chat.open_conversation(str(conv))
    return user_id, chat, conv


def _shown(chat: ChatState) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in chat.messages]


def _stored(user_id: int, conv: int) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in history.messages_page(user_id, conv)[0]]


async def test_delete_then_undo_puts_the_message_back_in_its_place(logged_in, fake_ai) -> None:
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("one", "uno"), ("two", "dos"))
    first_answer = chat.messages[1]["id"]
    await chat.delete_message(first_answer)
    assert _shown(chat) == [("user", "one"), ("user", "two"), ("assistant", "dos")]
    assert _stored(user_id, conv) == _shown(chat)  # deleted at once, not when the toast ends
    assert chat.undo_count == 1
    await chat.undo_delete()
    assert _shown(chat) == [("user", "one"), ("assistant", "uno"), ("user", "two"), ("assistant", "dos")]
    assert chat.messages[1]["id"] == first_answer and chat.messages[1]["time"]
    assert _stored(user_id, conv) == _shown(chat)
    assert chat.undo_count == 0
    await chat.undo_delete()  # a second Undo has nothing left to restore
    assert len(_stored(user_id, conv)) == 4


async def test_after_the_undo_window_the_deletion_stays(logged_in, fake_ai, monkeypatch) -> None:
    monkeypatch.setattr(chat_actions, "UNDO_SECONDS", 0)
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("keep", "drop me"))
    await chat.delete_message(chat.messages[1]["id"])
    await chat.delete_message(chat.messages[0]["id"])
    assert chat.undo_count == 2
    await _background(chat, "close_undo", 1)  # an older deletion's timer: the window stays open
    assert chat.undo_count == 2
    await _background(chat, "close_undo", 2)
    assert chat.undo_count == 0
    await chat.undo_delete()
    assert _stored(user_id, conv) == [] and chat.messages == []


async def test_a_socket_without_the_cookie_can_neither_delete_nor_undo(logged_in, fake_ai) -> None:
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("mine", "yours"))
    await chat.delete_message(chat.messages[1]["id"])
    set_cookie(chat, "")
    await chat.undo_delete()
    await chat.delete_message(chat.messages[0]["id"])
    assert _stored(user_id, conv) == [("user", "mine")]


async def test_edit_asks_before_deleting_what_followed_then_resends(logged_in, fake_ai) -> None:
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("cats?", "Meow."), ("dogs?", "Woof."))
    before = usage.month_usage(user_id).messages
    first = chat.messages[0]["id"]
    chat.start_edit(first)
    assert chat.editing_id == first
    assert await chat.ask_resend({"text": "birds?"}) is None  # a question first, nothing sent
    assert "The 3 messages after it will be deleted" in chat.resend_question
    assert _stored(user_id, conv) == [("user", "cats?"), ("assistant", "Meow."), ("user", "dogs?"),
                                      ("assistant", "Woof.")]
    chat.keep_editing()
    assert chat.resend_question == "" and chat.editing_id == first
    await chat.ask_resend({"text": "birds?"})
    fake_ai.script(Reply("Tweet.", chunks=2))
    follow_up = await chat.confirm_resend()
    assert follow_up is not None and chat.streaming and _shown(chat) == [("user", "birds?")]
    await _background(chat, "stream_rerun", first, "birds?")
    assert _shown(chat) == [("user", "birds?"), ("assistant", "Tweet.")]
    assert _stored(user_id, conv) == _shown(chat)
    assert not chat.streaming and chat.editing_id == ""
    assert usage.month_usage(user_id).messages == before + 1


async def test_editing_the_last_message_resends_without_asking(logged_in, fake_ai) -> None:
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("hello", "Hi."))
    await chat.delete_message(chat.messages[1]["id"])
    last = chat.messages[0]["id"]
    chat.start_edit(last)
    assert await chat.ask_resend({"text": "hello again"}) is not None
    assert chat.resend_question == ""
    await _background(chat, "stream_rerun", last, "hello again")
    assert _stored(user_id, conv) == [("user", "hello again"), ("assistant", "echo: hello again")]


async def test_an_empty_edit_is_refused_and_keeps_the_form(logged_in, fake_ai) -> None:
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("hello", "Hi."))
    chat.start_edit(chat.messages[0]["id"])
    assert await chat.ask_resend({"text": "   "}) is None
    assert chat.error == "Write a message first." and chat.editing_id == chat.messages[0]["id"]
    assert _stored(user_id, conv) == [("user", "hello"), ("assistant", "Hi.")]


async def test_regenerate_replaces_the_last_answer(logged_in, fake_ai) -> None:
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("a", "first a"), ("b", "first b"))
    assert chat.regenerable_id == chat.messages[-1]["id"]
    fake_ai.script(Reply("second b"))
    assert await chat.regenerate() is not None
    assert _shown(chat) == [("user", "a"), ("assistant", "first a"), ("user", "b")]
    await _background(chat, "stream_rerun", "", "")
    assert _shown(chat) == [("user", "a"), ("assistant", "first a"), ("user", "b"), ("assistant", "second b")]
    assert _stored(user_id, conv) == _shown(chat)


async def test_an_edit_of_a_message_deleted_elsewhere_says_so_and_shows_what_is_stored(
    logged_in, fake_ai
) -> None:
    user_id, chat, conv = await _chat_with_talk(logged_in, fake_ai, ("q", "a"))
    target = chat.messages[0]["id"]
    chat.start_edit(target)
    await chat.ask_resend({"text": "q2"})
    history.delete_message(user_id, int(target))  # another tab
    await chat.confirm_resend()
    calls = len(fake_ai.requests)
    await _background(chat, "stream_rerun", target, "q2")
    assert "no longer there" in chat.error
    assert _shown(chat) == [("assistant", "a")] == _stored(user_id, conv)
    assert len(fake_ai.requests) == calls and not chat.streaming
