"""Who a socket acts for: a rotated cookie works only on the socket that proved it, and a
background task writes only into a state that still belongs to the person it started for."""

from __future__ import annotations

import asyncio

import pytest
import reflex as rx
from reflex_base.event import Event
from sqlmodel import select

from tests.conftest import rotate_token
from tests.fakes.ai_provider import FakeAIProvider, Reply, make_fixture
from tests.state.conftest import root_of, set_cookie, state_of
from vopix.core import sessions
from vopix.core.agent import history, profile
from vopix.db import session_scope
from vopix.models import Notice
from vopix.state import session as session_state
from vopix.state.chat import ChatState
from vopix.state.guard import CookieBoundState

pytestmark = pytest.mark.asyncio
fake_ai = make_fixture()


def _chat_tab(token: str, sid: str) -> ChatState:
    """The chat state of one tab whose socket `sid` was opened with this login cookie."""
    return state_of(ChatState, f"{sessions.COOKIE_NAME}={token}", sid)


async def _connect_copy(state: ChatState, cookie: str, sid: str) -> None:
    """What Reflex does when another browser opens a socket with this tab's client token: the
    state is re-linked to the new socket, then that socket's hydrate event runs the guard."""
    set_cookie(state, cookie, sid)
    hydrate = Event(
        name=f"{rx.State.get_full_name()}.hydrate",
        router_data={"headers": {"cookie": cookie}, "sid": sid},
    )
    await CookieBoundState().preprocess(None, root_of(state), hydrate)


def _reuse_notices(user_id: int) -> list[str]:
    with session_scope() as s:
        rows = s.exec(select(Notice).where(Notice.user_id == user_id)).all()
        # security_alerts.raise_alert names the notice by kind and time (was token_reuse:<id>).
        return [n.key for n in rows if n.key.startswith("security:token_replayed:")]


async def test_a_new_socket_with_a_rotated_cookie_is_refused_and_ends_that_login(
    make_user, settings_env, sessions_clock
) -> None:
    """A stolen copy of an old cookie must not open the account on a new socket."""
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0")
    user_id, _, _ = make_user()
    old, info = sessions.start_session(user_id)
    open_tab = _chat_tab(old, "socket-of-the-open-tab")
    assert await open_tab.current_user_id() == user_id
    rotate_token(old)  # a page load rotated the cookie; the open tab's socket keeps `old`
    sessions_clock.advance(hours=1)

    # The tab whose socket proved `old` before the rotation goes on working until it reconnects.
    assert await open_tab.current_user_id() == user_id
    assert sessions.is_active(info.session_id, user_id)

    thief = _chat_tab(old, "socket-of-another-browser")
    assert "/login" in str(await thief.load())  # sent to the login page
    assert thief._user_id == 0 and thief.user_email == ""
    assert not sessions.is_active(info.session_id, user_id)
    assert len(_reuse_notices(user_id)) == 1
    assert await open_tab.current_user_id() is None  # the whole login ended


async def test_a_rotated_cookie_within_the_grace_opens_a_new_socket(make_user, settings_env, sessions_clock) -> None:
    """Two tabs loading at once: the second may still carry the cookie the first just rotated."""
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0", VOPIX_TOKEN_REUSE_GRACE_SECONDS="30")
    user_id, _, _ = make_user()
    old, info = sessions.start_session(user_id)
    new = rotate_token(old)
    sessions_clock.advance(seconds=5)
    assert await _chat_tab(old, "second-tab").current_user_id() == user_id
    assert sessions.is_active(info.session_id, user_id)
    sessions_clock.advance(seconds=60)
    assert await _chat_tab(new, "third-tab").current_user_id() == user_id


async def test_a_hydrate_on_a_new_socket_with_a_rotated_cookie_empties_the_state(
    make_user, settings_env, sessions_clock
) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0")
    user_id, email, _ = make_user()
    old, info = sessions.start_session(user_id)
    tab = _chat_tab(old, "first-socket")
    await tab.load()
    assert tab.user_email == email
    rotate_token(old)
    sessions_clock.advance(hours=1)
    await _connect_copy(tab, f"{sessions.COOKIE_NAME}={old}", "copied-socket")
    assert tab._user_id == 0 and tab.user_email == ""
    assert not sessions.is_active(info.session_id, user_id)


async def test_a_client_token_copied_mid_stream_receives_nothing_of_the_first_person(
    make_user, fake_ai: FakeAIProvider
) -> None:
    owner, _, _ = make_user()
    profile.update_provider(
        owner, kind="openai", model="gpt-4o-mini", base_url=fake_ai.openai_base_url,
        api_key="sk-test-abcdefghijklmnop1234",
    )
    secret_reply = "The owner's private answer: " + " ".join(f"word{i}" for i in range(40))
    fake_ai.script(Reply(secret_reply, chunks=20, delay=0.05))
    other, _, _ = make_user()
    owner_token, _ = sessions.start_session(owner)
    other_token, _ = sessions.start_session(other)

    tab = _chat_tab(owner_token, "owner-socket")
    await tab.load()
    await tab.send({"message": "tell me my secret"})
    stream = asyncio.create_task(ChatState.event_handlers["stream_reply"].fn(tab, "tell me my secret"))
    for _ in range(200):
        if any("private answer" in m["content"] for m in tab.messages):
            break
        await asyncio.sleep(0.02)
    assert any("private answer" in m["content"] for m in tab.messages)  # mid-stream

    # A second browser, logged in as someone else, opens a socket with the copied client token.
    await _connect_copy(tab, f"{sessions.COOKIE_NAME}={other_token}", "other-browser-socket")
    assert tab.messages == [] and tab.conversations == []
    await asyncio.wait_for(stream, timeout=20)

    shown = repr(tab.get_delta()) + repr(tab.dict())
    assert "word39" not in shown and "private answer" not in shown
    assert tab.messages == [] and tab.conversations == [] and tab.notices == []
    # The owner's turn itself finished and was kept for them.
    [conv] = history.list_conversations(owner)
    page, _ = history.messages_page(owner, conv.id)
    assert page[-1].role == "assistant" and page[-1].content == secret_reply


async def test_a_copy_linked_before_the_state_hears_of_it_gets_no_write(
    make_user, fake_ai: FakeAIProvider, monkeypatch
) -> None:
    """Reflex links a token to a new socket at connect, before the state's socket id changes:
    the live link is what a write checks."""
    owner, _, _ = make_user()
    profile.update_provider(
        owner, kind="openai", model="gpt-4o-mini", base_url=fake_ai.openai_base_url,
        api_key="sk-test-abcdefghijklmnop1234",
    )
    fake_ai.script(Reply("private " + " ".join(f"w{i}" for i in range(40)), chunks=20, delay=0.05))
    token, _ = sessions.start_session(owner)
    links = {"": "owner-socket"}  # client token -> the socket it is linked to now
    monkeypatch.setattr(session_state, "linked_socket", links.get)

    tab = _chat_tab(token, "owner-socket")
    await tab.load()
    await tab.send({"message": "go"})
    stream = asyncio.create_task(ChatState.event_handlers["stream_reply"].fn(tab, "go"))
    for _ in range(200):
        if any("private" in m["content"] for m in tab.messages):
            break
        await asyncio.sleep(0.02)
    shown = [dict(m) for m in tab.messages]
    links[""] = "copy-socket"  # linked at connect; no event of the copy has run yet
    await asyncio.wait_for(stream, timeout=20)
    assert [dict(m) for m in tab.messages] == shown  # not one more word reached the copy
    assert tab.streaming  # nor the end of the stream
