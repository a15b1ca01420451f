"""A crash or restart mid-turn: unfinished inbound events are answered exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.channels.helpers import drain, link_telegram, post_update
from tests.fakes.ai_provider import Reply
from tests.fakes.telegram_api import make_text_update
from vopix.channels import queue, worker
from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import InboundEvent, Message

pytestmark = pytest.mark.asyncio
CHAT = 424_242


def _event() -> InboundEvent:
    with session_scope() as s:
        [event] = s.exec(select(InboundEvent)).all()
        return event


def _messages(user_id: int) -> list[tuple[str, str, str]]:
    with session_scope() as s:
        rows = s.exec(select(Message).where(Message.user_id == user_id).order_by(Message.id)).all()
        return [(m.role, m.content, m.status) for m in rows]


async def _restart(monkeypatch) -> int:
    """A new process: the dead worker's lease has run out, a fresh worker drains."""
    monkeypatch.setattr(queue, "LEASE", timedelta(0))
    return await drain()


@pytest.mark.promise("P03")
async def test_event_stored_but_never_processed_is_answered_after_restart(
    api, agent_user, telegram_api, fake_ai
) -> None:
    link_telegram(agent_user, CHAT)
    await post_update(api, make_text_update(1, CHAT, "Are you there?"))  # acknowledged, then crash
    assert _event().status == "pending"
    fake_ai.script(Reply("Yes, I am here."))
    assert await drain() == 1  # start-up of the next process
    assert [m["text"] for m in telegram_api.sent_messages] == ["Yes, I am here."]
    assert await drain() == 0
    assert len(telegram_api.sent_messages) == 1


async def test_crash_while_the_agent_was_answering_resumes_once(
    api, agent_user, telegram_api, fake_ai, monkeypatch
) -> None:
    link_telegram(agent_user, CHAT)
    await post_update(api, make_text_update(2, CHAT, "Write me a haiku"))
    fake_ai.script(Reply("Autumn moonlight, a worm digs silently", chunks=8, delay=0.3))
    dead = queue.claim("dead-worker")
    assert dead is not None
    crashing = asyncio.create_task(worker.process(dead, "dead-worker"))
    for _ in range(100):  # wait until the reply is being streamed
        await asyncio.sleep(0.05)
        if fake_ai.requests:
            break
    await asyncio.sleep(0.5)
    assert not crashing.done()
    crashing.cancel()  # the process dies mid-turn
    with pytest.raises(asyncio.CancelledError):
        await crashing
    event = _event()
    assert (event.status, event.stage) == ("processing", "stored")
    assert telegram_api.sent_messages == []

    assert await drain() == 0  # the lease of the dead worker still holds
    fake_ai.script(Reply("Over the old pond, a frog."))
    assert await _restart(monkeypatch) == 1
    assert [m["text"] for m in telegram_api.sent_messages] == ["Over the old pond, a frog."]
    rows = _messages(agent_user)
    assert [r for r in rows if r[0] == "user"] == [("user", "Write me a haiku", "complete")]
    assert [r for r in rows if r[0] == "assistant"] == [("assistant", "Over the old pond, a frog.", "complete")]
    assert (_event().status, _event().stage) == ("done", "done")
    assert await _restart(monkeypatch) == 0
    assert len(telegram_api.sent_messages) == 1


async def test_crash_after_the_reply_was_queued_sends_it_without_asking_the_agent_again(
    api, agent_user, telegram_api, fake_ai, monkeypatch
) -> None:
    link_telegram(agent_user, CHAT)
    await post_update(api, make_text_update(3, CHAT, "Short answer please"))
    fake_ai.script(Reply("Short answer."))
    original = queue.queue_reply

    def queue_then_crash(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("power cut")

    monkeypatch.setattr(queue, "queue_reply", queue_then_crash)
    assert await drain() == 1
    assert _event().stage == "answered" and telegram_api.sent_messages == []
    monkeypatch.setattr(queue, "queue_reply", original)
    assert len(fake_ai.requests) == 1
    assert await _restart(monkeypatch) == 1
    assert [m["text"] for m in telegram_api.sent_messages] == ["Short answer."]
    assert len(fake_ai.requests) == 1  # the agent was not asked twice
    [conv] = history.list_conversations(agent_user)
    page, _ = history.messages_page(agent_user, conv.id)
    assert [m.role for m in page] == ["user", "assistant"]


async def test_two_workers_never_take_the_same_event(api, agent_user, telegram_api) -> None:
    link_telegram(agent_user, CHAT)
    for update_id in (10, 11):
        await post_update(api, make_text_update(update_id, CHAT, f"message {update_id}"))
    first = queue.claim("worker-a")
    assert first is not None
    # The chat's next message waits until the first is finished: order is kept per chat.
    assert queue.claim("worker-b") is None
    queue.finish(first.id, "answered")
    second = queue.claim("worker-b")
    assert second is not None and second.id != first.id
    assert queue.claim("worker-a", now=utcnow()) is None


async def test_an_event_that_keeps_failing_is_given_up(api, agent_user, telegram_api, monkeypatch) -> None:
    link_telegram(agent_user, CHAT)
    await post_update(api, make_text_update(20, CHAT, "boom"))

    async def broken(event):
        raise RuntimeError("bug")

    monkeypatch.setitem(worker.HANDLERS, "telegram", broken)
    monkeypatch.setattr(queue, "RETRY_BACKOFF", (0.0, 0.0, 0.0, 0.0))
    await drain()  # each failed attempt is retried at once, the last one ends the event
    assert (_event().status, _event().outcome) == ("failed", "gave_up")
