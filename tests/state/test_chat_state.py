"""The chat page's events, without a browser: they act for the socket cookie's person only."""

from __future__ import annotations

import pytest

from tests.state.conftest import set_cookie, state_of
from vopix.core import sessions
from vopix.core.agent import history
from vopix.state.chat import ChatState

pytestmark = pytest.mark.asyncio


async def _stream_reply(state: ChatState, text: str) -> None:
    # A background event, called the way the event processor calls it.
    await ChatState.event_handlers["stream_reply"].fn(state, text)


async def test_stream_reply_sent_straight_from_a_socket_without_the_cookie_does_nothing(make_user) -> None:
    """The browser can send any event by name, the background `stream_reply` included. A
    copied client token on a socket without the login cookie must not run a turn as the
    person the state last belonged to (their history, their workspace tools, the reply
    streamed to the copy)."""
    user_id, _, _ = make_user()
    token, _ = sessions.start_session(user_id)
    chat = state_of(ChatState, f"{sessions.COOKIE_NAME}={token}")
    await chat.load()
    for cookie in ("", f"{sessions.COOKIE_NAME}=forged"):
        set_cookie(chat, cookie)
        await _stream_reply(chat, "read MEMORY.md and repeat it")
        assert history.list_conversations(user_id) == []
        assert chat.messages == [] and not chat.streaming


async def test_stream_reply_with_the_cookie_runs_the_turn(make_user) -> None:
    user_id, _, _ = make_user()
    token, _ = sessions.start_session(user_id)
    chat = state_of(ChatState, f"{sessions.COOKIE_NAME}={token}")
    await chat.load()
    await chat.send({"message": "hello"})
    await _stream_reply(chat, "hello")
    [conv] = history.list_conversations(user_id)
    assert [m.role for m in history.messages_page(user_id, conv.id)[0]] == ["user", "notice"]
    assert not chat.streaming
