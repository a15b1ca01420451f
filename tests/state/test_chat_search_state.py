"""Chat search in the state: a hit opens its conversation on the page around it, the person
pages newer from there, and a message written from that page goes after the latest one."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import Message
from vopix.state.chat import ChatState

pytestmark = pytest.mark.asyncio


def _conversation(user_id: int, n: int, hit_at: int) -> int:
    conv = history.create_conversation(user_id, "Long").id
    texts = [f"line {i}" for i in range(n)]
    texts[hit_at] = "the kiwi recipe"
    with session_scope() as s:
        s.execute(insert(Message), [
            {"conversation_id": conv, "user_id": user_id, "role": "user", "content": t,
             "channel": "web", "status": "complete", "created_at": utcnow()}
            for t in texts
        ])
    return conv


async def test_a_hit_opens_around_its_message_and_pages_newer_to_the_end(logged_in) -> None:
    user_id, state = logged_in(ChatState)
    conv = _conversation(user_id, 160, hit_at=30)
    await state.load()
    await state.search({"query": "kiwi"})
    [hit] = state.search_results
    assert [p["text"] for p in hit["parts"] if p["mark"]] == ["kiwi"]
    await state.open_hit(hit["conversation_id"], hit["message_id"])
    assert state.current_id == conv and state.focus_id == hit["message_id"]
    texts = [m["content"] for m in state.messages]
    assert "the kiwi recipe" in texts and "line 159" not in texts
    assert state.older_more and state.newer_more
    while state.newer_more:
        await state.load_newer()
    texts = [m["content"] for m in state.messages]
    assert texts[-1] == "line 159" and len(texts) == len(set(texts)) == 160 - 5


async def test_writing_from_a_hit_page_puts_the_message_after_the_latest(logged_in) -> None:
    user_id, state = logged_in(ChatState)
    _conversation(user_id, 160, hit_at=30)
    await state.load()
    await state.search({"query": "kiwi"})
    await state.open_hit(state.search_results[0]["conversation_id"], state.search_results[0]["message_id"])
    await state.send({"message": "and now?"})
    texts = [m["content"] for m in state.messages]
    assert texts[-2:] == ["line 159", "and now?"] and not state.newer_more and state.focus_id == ""


async def test_a_hit_of_someone_else_opens_nothing(logged_in) -> None:
    owner, _ = logged_in(ChatState)
    conv = _conversation(owner, 3, hit_at=1)
    _, state = logged_in(ChatState)
    await state.load()
    message_id = history.messages_page(owner, conv)[0][1].id
    await state.open_hit(str(conv), str(message_id))
    assert state.current_id == 0 and state.messages == [] and state.error
