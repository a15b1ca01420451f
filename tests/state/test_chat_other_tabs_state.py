"""Issue 14: what one tab does to a conversation reaches the person's other open tabs: a
regenerated answer replaces the old one there too, and so do an edit and resend, a deletion and
its Undo. Each change sends a live notice (vopix/core/live.py) to the person's tabs, and the
other tab, told, shows what is stored (issue 15: a notice, not a poll timer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from reflex.istate.data import RouterData

from tests.fakes.ai_provider import Reply, make_fixture
from tests.state.conftest import root_of, state_of
from vopix.core import live, sessions
from vopix.core.agent import history, profile
from vopix.state import session as session_state
from vopix.state.chat import ChatState
from vopix.state.session import SessionState

pytestmark = pytest.mark.asyncio
fake_ai = make_fixture()


async def _background(state: ChatState, name: str, *args: object) -> None:
    await ChatState.event_handlers[name].fn(state, *args)


async def _two_tabs(make_user, fake_ai, *pairs: tuple[str, str]) -> tuple[int, int, ChatState, ChatState]:
    user_id, _, _ = make_user()
    profile.update_provider(
        user_id, kind="openai", model="m", base_url=fake_ai.openai_base_url, api_key="sk-state-test-0000",
    )
    conv = history.create_conversation(user_id).id
    for question, answer in pairs:
        history.add_message(user_id, conv, "user", question)
        history.add_message(user_id, conv, "assistant", answer)
    tabs = []
    for _ in range(2):
        token, _ = sessions.start_session(user_id)
        tab = state_of(ChatState, f"{sessions.COOKIE_NAME}={token}")
        await tab.load()
        await tab.open_conversation(str(conv))
        tabs.append(tab)
    return user_id, conv, tabs[0], tabs[1]


async def _told(there: ChatState, user_id: int, change: Callable[[], Awaitable[object]]) -> None:
    """Make `change` while `there` listens as its watcher does: a notice comes, and `there`,
    told, shows what changed."""
    async with live.subscribe(user_id) as ear:
        await change()
        assert live.HISTORY in await ear.wait(10)
    assert await there._show_changes(user_id)


def _events(reply) -> list:
    return reply if isinstance(reply, list) else [reply]


def _shown(chat: ChatState) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in chat.messages]


async def test_a_regenerated_answer_replaces_the_old_one_in_the_other_tab(make_user, fake_ai) -> None:
    user_id, _, here, there = await _two_tabs(make_user, fake_ai, ("a", "first a"), ("b", "first b"))
    fake_ai.script(Reply("second b"))

    async def regenerate() -> None:
        await here.regenerate()
        await _background(here, "stream_rerun", "", "")

    await _told(there, user_id, regenerate)
    assert _shown(here)[-1] == ("assistant", "second b")
    assert _shown(there) == [("user", "a"), ("assistant", "first a"), ("user", "b"), ("assistant", "second b")]
    assert await there._show_changes(user_id)  # nothing changed since: the same rows
    assert _shown(there) == _shown(here)


async def test_an_edit_and_resend_reaches_the_other_tab(make_user, fake_ai) -> None:
    user_id, _, here, there = await _two_tabs(make_user, fake_ai, ("one", "uno"), ("two", "dos"))
    fake_ai.script(Reply("eins"))
    first = here.messages[0]["id"]

    async def edit_and_resend() -> None:
        here.start_edit(first)
        await here.ask_resend({"text": "one, but in German"})
        await here.confirm_resend()
        await _background(here, "stream_rerun", first, "one, but in German")

    await _told(there, user_id, edit_and_resend)
    assert _shown(there) == [("user", "one, but in German"), ("assistant", "eins")]


async def test_a_deletion_and_its_undo_reach_the_other_tab(make_user, fake_ai) -> None:
    user_id, _, here, there = await _two_tabs(make_user, fake_ai, ("one", "uno"), ("two", "dos"))
    await _told(there, user_id, lambda: here.delete_message(here.messages[1]["id"]))
    assert _shown(there) == [("user", "one"), ("user", "two"), ("assistant", "dos")]
    await _told(there, user_id, here.undo_delete)
    assert _shown(there) == [("user", "one"), ("assistant", "uno"), ("user", "two"), ("assistant", "dos")]


async def _until(check: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout=10)


async def test_a_message_from_telegram_shows_in_the_open_tab_by_itself(make_user, fake_ai, monkeypatch) -> None:
    """The whole path: the tab's watcher waits (no timer, no event from the page); a message
    stored from Telegram, in a worker thread as the channel does, appears in it; a message of
    someone else's wakes nothing; the watcher ends when its socket goes."""
    links = {"": "tab-socket"}
    monkeypatch.setattr(session_state, "linked_socket", links.get)
    user_id, conv, _, _ = await _two_tabs(make_user, fake_ai, ("one", "uno"))
    other_id, _, _ = make_user()
    other_conv = history.create_conversation(other_id).id
    token, _ = sessions.start_session(user_id)
    tab = state_of(ChatState, f"{sessions.COOKIE_NAME}={token}", "tab-socket")
    root_of(tab).router = RouterData.from_router_data(
        {"headers": {"cookie": f"{sessions.COOKIE_NAME}={token}"}, "sid": "tab-socket", "pathname": "/chat"}
    )
    assert SessionState.watch_session in _events(await tab.load())
    await tab.open_conversation(str(conv))
    watcher = asyncio.create_task(SessionState.event_handlers["watch_session"].fn(tab))
    await _until(lambda: live.hub.waiting(user_id) == 1)

    await asyncio.to_thread(history.add_message, user_id, conv, "user", "from Telegram", channel="telegram")
    await _until(lambda: _shown(tab)[-1] == ("user", "from Telegram"))
    assert live.hub.waiting(other_id) == 0  # nobody listens for the other person here
    await asyncio.to_thread(history.add_message, other_id, other_conv, "user", "not yours", channel="telegram")
    await asyncio.sleep(0.2)
    assert all(text != "not yours" for _, text in _shown(tab))

    links[""] = "another-socket"  # the tab reconnected elsewhere: that socket has its own watcher
    await asyncio.to_thread(history.add_message, user_id, conv, "user", "wakes it", channel="telegram")
    assert await asyncio.wait_for(watcher, timeout=10) is None
    assert live.hub.waiting(user_id) == 0
