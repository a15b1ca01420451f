"""A message that cannot be processed never holds up its chat: broken text is stored through the
web's history code, and an event that keeps failing is ended quickly and the person told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.channels.helpers import (
    drain,
    inbound_events,
    link_telegram,
    link_whatsapp,
    post_update,
    post_whatsapp,
)
from tests.fakes.ai_provider import Reply
from tests.fakes.telegram_api import make_text_update
from tests.fakes.whatsapp_api import make_text_webhook
from vopix.channels import queue, turns
from vopix.core.agent import history
from vopix.core.clock import utcnow

pytestmark = pytest.mark.asyncio
CHAT = 555_000_222
NUMBER = "15557654321"


def _history(user_id: int) -> list[tuple[str, str]]:
    [conv] = history.list_conversations(user_id)
    page, _ = history.messages_page(user_id, conv.id)
    return [(m.role, m.content) for m in page]


async def test_a_telegram_message_with_a_lone_surrogate_is_answered(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    fake_ai.script(Reply("Got it."))
    # json.dumps writes the lone surrogate as the escape "\ud83d", as a client library may.
    assert await post_update(api, make_text_update(7001, CHAT, "broken \ud83d emoji")) == 200
    assert await drain() == 1
    assert [m["text"] for m in telegram_api.sent_messages] == ["Got it."]
    assert _history(agent_user) == [("user", "broken \ufffd emoji"), ("assistant", "Got it.")]
    assert [(e.status, e.outcome) for e in inbound_events()] == [("done", "answered")]


async def test_a_whatsapp_message_with_a_lone_surrogate_is_answered(api, agent_user, whatsapp_api, fake_ai) -> None:
    link_whatsapp(agent_user, NUMBER)
    fake_ai.script(Reply("Got it."))
    assert await post_whatsapp(api, make_text_webhook("wamid.SUR1", NUMBER, "half \udc00 a pair")) == 200
    assert await drain() == 1
    assert _history(agent_user) == [("user", "half \ufffd a pair"), ("assistant", "Got it.")]
    assert [(e.status, e.outcome) for e in inbound_events()] == [("done", "answered")]


async def test_a_poisoned_message_is_given_up_the_person_told_and_the_next_one_answered(
    api, agent_user, telegram_api, fake_ai, monkeypatch
) -> None:
    link_telegram(agent_user, CHAT)
    original = queue.store_user_message
    tries = {"n": 0}

    def store_unless_poison(event_id, user_id, conversation_id, content, channel):
        if content == "poison":
            tries["n"] += 1
            raise RuntimeError("this message always breaks something")
        return original(event_id, user_id, conversation_id, content, channel)

    monkeypatch.setattr(queue, "store_user_message", store_unless_poison)
    monkeypatch.setattr(queue, "RETRY_BACKOFF", (0.0, 0.0, 0.0, 0.0))
    await post_update(api, make_text_update(7101, CHAT, "poison"))
    await post_update(api, make_text_update(7102, CHAT, "hello after"))
    fake_ai.script(Reply("Hello to you."))

    await drain()
    poisoned, after = inbound_events()
    assert tries["n"] == queue.MAX_ATTEMPTS == poisoned.attempts
    assert (poisoned.status, poisoned.outcome, poisoned.payload) == ("failed", "gave_up", "")
    assert [m["text"] for m in telegram_api.sent_messages] == [turns.COULD_NOT_ANSWER, "Hello to you."]
    assert (after.status, after.outcome, after.attempts) == ("done", "answered", 1)
    assert _history(agent_user) == [("user", "hello after"), ("assistant", "Hello to you.")]


async def test_after_a_failed_attempt_the_event_is_retried_within_seconds_not_a_lease(
    api, agent_user, telegram_api, monkeypatch
) -> None:
    link_telegram(agent_user, CHAT)
    await post_update(api, make_text_update(7201, CHAT, "flaky"))

    def blip(*args, **kwargs):
        raise RuntimeError("database blip")

    monkeypatch.setattr(queue, "store_user_message", blip)
    assert await drain() == 1
    [event] = inbound_events()
    assert (event.status, event.attempts) == ("processing", 1)
    retry_at = event.claimed_at + queue.LEASE  # the lease was cut short to the back-off
    assert queue.claim("another-worker", now=retry_at - timedelta(seconds=0.1)) is None
    soon = utcnow() + timedelta(seconds=queue.RETRY_BACKOFF[0] + 0.5)
    claimed = queue.claim("another-worker", now=soon)
    assert claimed is not None and (claimed.id, claimed.attempts) == (event.id, 2)


async def test_a_message_whose_conversation_was_deleted_mid_turn_is_closed_quietly(
    api, agent_user, telegram_api, monkeypatch
) -> None:
    link_telegram(agent_user, CHAT)
    await post_update(api, make_text_update(7301, CHAT, "forget I asked"))

    async def delete_then_crash(user_id, conversation_id, channel):
        history.delete_conversation(user_id, conversation_id)  # from the web app, meanwhile
        raise RuntimeError("the worker died")

    monkeypatch.setattr(turns, "run_agent", delete_then_crash)
    monkeypatch.setattr(queue, "RETRY_BACKOFF", (0.0, 0.0, 0.0, 0.0))
    await drain()
    [event] = inbound_events()
    assert (event.status, event.outcome, event.attempts) == ("done", "deleted", 2)
    assert (event.conversation_id, event.user_message_id) == (None, None)
    assert telegram_api.sent_messages == []  # no apology for a message the person deleted
    assert history.list_conversations(agent_user) == []
