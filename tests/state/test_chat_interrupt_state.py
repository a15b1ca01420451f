"""A tab that comes back (a reconnect, a lost state) without a browser (issue 15, faults 2 and
4): a reply whose process died is marked interrupted with a Retry, one that still streams is
left to finish, and a tab whose state is gone opens the conversation its address names."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from tests.fakes.ai_provider import Reply, make_fixture
from tests.state.conftest import root_of, state_of
from vopix.core import sessions
from vopix.core.agent import history, profile, turn_lease
from vopix.core.agent.runtime import TurnEvent
from vopix.core.clock import utcnow
from vopix.core.kinds import MessageStatus, TurnEventKind
from vopix.state import chat_interrupt
from vopix.state.chat import ChatState
from vopix.state.chat_rows import message_row, new_row

pytestmark = pytest.mark.asyncio
fake_ai = make_fixture()


async def _background(state: ChatState, name: str, *args: object) -> None:
    # A background event, called the way the event processor calls it.
    await ChatState.event_handlers[name].fn(state, *args)


def _at(chat: ChatState, cookie: str, address: str) -> None:
    """As if the tab's events came from `address` (Reflex sends the live address with each)."""
    path, _, query = address.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&") if p)
    root_of(chat).router = RouterData.from_router_data(
        {"headers": {"cookie": cookie}, "sid": "", "pathname": path, "asPath": address, "query": params}
    )


def _person(make_user, fake_ai) -> tuple[int, str]:
    user_id, _, _ = make_user()
    profile.update_provider(
        user_id, kind="openai", model="m", base_url=fake_ai.openai_base_url, api_key="sk-state-test-0000",
    )
    token, _ = sessions.start_session(user_id)
    return user_id, f"{sessions.COOKIE_NAME}={token}"


def _stored(user_id: int, conv: int) -> list[tuple[str, str, str]]:
    return [(m.role, m.content, m.status) for m in history.messages_page(user_id, conv)[0]]


def _handlers(reply: object) -> list[str]:
    events = reply if isinstance(reply, list) else [reply]
    return [e.fn.__name__ for e in events if isinstance(e, rx.event.EventHandler)]


async def _tab_left_by_a_dead_turn(make_user, fake_ai, monkeypatch) -> tuple[int, int, ChatState]:
    """What Redis holds of a tab whose reply's process was killed mid-stream: streaming, the
    person's message stored, part of the reply shown, the turn's lease left to run out."""
    user_id, cookie = _person(make_user, fake_ai)
    chat = state_of(ChatState, cookie)
    await chat.load()
    conv = history.create_conversation(user_id).id
    asked = history.add_message(user_id, conv, "user", "Tell me a story")
    lease = turn_lease.Lease(turn_lease.new_key(), user_id, conv)
    await lease.start()
    turn_lease.keeper.drop(lease)  # killed: no renewal, no end
    lease.seen(TurnEvent(TurnEventKind.USER_MESSAGE, asked.content, asked.id, conv))
    chat.current_id, chat.streaming, chat._turn_key = conv, True, lease.key
    chat.messages = [
        message_row(asked, "UTC"),
        {**new_row("assistant", "UTC"), "status": MessageStatus.STREAMING, "content": "Once upon a"},
    ]
    moment = utcnow() + timedelta(seconds=turn_lease.LEASE_S + 1)
    monkeypatch.setattr(turn_lease, "utcnow", lambda: moment)
    return user_id, conv, chat


async def test_a_reconnected_tab_marks_a_dead_reply_interrupted_and_retry_answers(
    make_user, fake_ai, monkeypatch
) -> None:
    user_id, conv, chat = await _tab_left_by_a_dead_turn(make_user, fake_ai, monkeypatch)
    # The reconnect (on another instance) runs on_load: the tab waits for the turn's lease.
    assert "watch_turn" in _handlers(await chat.load())
    await _background(chat, "watch_turn")

    assert not chat.streaming
    assert [(m["role"], m["content"], m["status"]) for m in chat.messages] == _stored(user_id, conv) == [
        ("user", "Tell me a story", MessageStatus.COMPLETE),
        ("assistant", "Once upon a", MessageStatus.INTERRUPTED),
    ]
    assert chat.regenerable_id == chat.messages[-1]["id"]  # its Retry

    fake_ai.script(Reply("Once upon a time, the end."))
    await chat.regenerate()  # what Retry sends
    await _background(chat, "stream_rerun", "", "")
    assert _stored(user_id, conv) == [
        ("user", "Tell me a story", MessageStatus.COMPLETE),
        ("assistant", "Once upon a time, the end.", MessageStatus.COMPLETE),
    ]
    assert [m["content"] for m in chat.messages] == ["Tell me a story", "Once upon a time, the end."]


async def test_a_reply_that_still_streams_elsewhere_is_not_interrupted(
    make_user, fake_ai, monkeypatch
) -> None:
    """A reconnect while the instance running the turn lives: the reply goes on and ends."""
    monkeypatch.setattr(chat_interrupt, "WATCH_S", 0.05)
    monkeypatch.setattr(turn_lease, "BEAT_S", 0.05)
    user_id, cookie = _person(make_user, fake_ai)
    chat = state_of(ChatState, cookie)
    await chat.load()
    fake_ai.script(Reply("one two three four five six", chunks=6, delay=0.1))
    await chat.send({"message": "Count slowly"})
    turn = asyncio.create_task(_background(chat, "stream_reply", "Count slowly"))
    while not chat._turn_key or turn_lease.look(chat._turn_key) != turn_lease.Liveness.ALIVE:
        await asyncio.sleep(0.01)
    assert "watch_turn" in _handlers(await chat.load())  # the reconnect
    await asyncio.gather(turn, _background(chat, "watch_turn"))
    [conv] = history.list_conversations(user_id)
    assert [(r, s) for r, _, s in _stored(user_id, conv.id)] == [
        ("user", MessageStatus.COMPLETE), ("assistant", MessageStatus.COMPLETE)
    ]
    assert chat.messages[-1]["content"] == "one two three four five six"
    assert chat.messages[-1]["status"] == MessageStatus.COMPLETE and not chat.streaming


async def test_a_tab_whose_state_is_gone_reopens_the_conversation_of_its_address(make_user, fake_ai) -> None:
    """Redis restarted: the tab's next event finds a fresh state. The address (?c=) says which
    conversation was open; it opens again, and the next message lands in it."""
    user_id, cookie = _person(make_user, fake_ai)
    conv = history.create_conversation(user_id).id
    history.add_message(user_id, conv, "user", "First question")
    history.add_message(user_id, conv, "assistant", "Before the restart.")
    history.create_conversation(user_id)  # a newer one, listed first

    reloaded = state_of(ChatState, cookie)  # the tab's next event is its on_load (a reconnect)
    _at(reloaded, cookie, f"/chat?c={conv}")
    await reloaded.load()
    assert reloaded.current_id == conv
    assert [m["content"] for m in reloaded.messages] == ["First question", "Before the restart."]

    fresh = state_of(ChatState, cookie)  # or it is Send, before any on_load
    _at(fresh, cookie, f"/chat?c={conv}")
    fake_ai.script(Reply("After the restart."))
    await fresh.send({"message": "Second question"})
    await _background(fresh, "stream_reply", "Second question")
    assert [c for _, c, _ in _stored(user_id, conv)] == [
        "First question", "Before the restart.", "Second question", "After the restart."
    ]
    assert [m["content"] for m in fresh.messages][-2:] == ["Second question", "After the restart."]


async def test_an_address_naming_someone_elses_conversation_opens_nothing(make_user, fake_ai) -> None:
    user_id, cookie = _person(make_user, fake_ai)
    other_id, _, _ = make_user()
    theirs = history.create_conversation(other_id).id
    history.add_message(other_id, theirs, "user", "private")
    chat = state_of(ChatState, cookie)
    _at(chat, cookie, f"/chat?c={theirs}")
    await chat.load()
    assert chat.current_id == 0 and chat.messages == []
    fake_ai.script(Reply("Hello."))
    await chat.send({"message": "Mine"})
    await _background(chat, "stream_reply", "Mine")
    assert [c for _, c, _ in _stored(other_id, theirs)] == ["private"]
    [mine] = history.list_conversations(user_id)
    assert [c for _, c, _ in _stored(user_id, mine.id)] == ["Mine", "Hello."]


async def test_a_tab_whose_state_was_emptied_finds_the_dead_reply_from_its_address(
    make_user, fake_ai, monkeypatch
) -> None:
    """The reconnect's state knows nothing of the reply (emptied on the way, or lost with
    Redis): the address names the conversation, whose lease says a reply was streaming."""
    user_id, conv, left = await _tab_left_by_a_dead_turn(make_user, fake_ai, monkeypatch)
    monkeypatch.setattr(turn_lease, "utcnow", utcnow)  # the lease still runs: the turn may live
    cookie = left.router.headers.cookie
    fresh = state_of(ChatState, cookie)
    _at(fresh, cookie, f"/chat?c={conv}")
    assert "watch_turn" in _handlers(await fresh.load())
    assert fresh.streaming and fresh.messages[-1]["status"] == MessageStatus.STREAMING
    moment = utcnow() + timedelta(seconds=turn_lease.LEASE_S + 1)
    monkeypatch.setattr(turn_lease, "utcnow", lambda: moment)  # ...and runs out
    await _background(fresh, "watch_turn")
    assert not fresh.streaming
    assert _stored(user_id, conv)[-1][0::2] == ("assistant", MessageStatus.INTERRUPTED)
    assert fresh.regenerable_id == fresh.messages[-1]["id"]
