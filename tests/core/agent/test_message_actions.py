"""Message actions: delete with undo, edit and resend, regenerate — on a real database and a
loopback provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import insert

from tests.core.agent.conftest import collect
from tests.fakes.ai_provider import Reply
from vopix.core import usage
from vopix.core.agent import history, message_actions, runtime
from vopix.db import session_scope
from vopix.models import Message, Plan


def _contents(user_id: int, conversation_id: int) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in history.messages_page(user_id, conversation_id)[0]]


def _talk(user_id: int, *pairs: tuple[str, str]) -> tuple[int, list[int]]:
    conv = history.create_conversation(user_id).id
    ids = []
    for question, answer in pairs:
        ids.append(history.add_message(user_id, conv, "user", question).id)
        ids.append(history.add_message(user_id, conv, "assistant", answer).id)
    return conv, ids


@pytest.fixture
def two_message_plan() -> Iterator[None]:
    with session_scope() as s:
        plan = s.get(Plan, "free")
        old, plan.messages_per_month = plan.messages_per_month, 2
        s.add(plan)
    yield
    with session_scope() as s:
        plan = s.get(Plan, "free")
        plan.messages_per_month = old
        s.add(plan)


# -- delete and undo ------------------------------------------------------------------------


def test_a_deleted_message_comes_back_in_its_place_with_its_time(make_user) -> None:
    user, _, _ = make_user()
    conv, ids = _talk(user, ("plan the zebra trip", "Sure."), ("and the lunch?", "Soup."))
    before = history.get_message(user, ids[1])
    kept = message_actions.delete_for_undo(user, ids[1])
    assert _contents(user, conv) == [("user", "plan the zebra trip"), ("user", "and the lunch?"),
                                     ("assistant", "Soup.")]
    restored = message_actions.restore(user, kept)
    assert restored.id == ids[1]
    assert _contents(user, conv) == [("user", "plan the zebra trip"), ("assistant", "Sure."),
                                     ("user", "and the lunch?"), ("assistant", "Soup.")]
    again = history.get_message(user, ids[1])
    assert (again.created_at, again.status, again.channel) == (before.created_at, before.status, before.channel)


def test_restoring_twice_leaves_one_copy_and_search_finds_it_again(make_user) -> None:
    user, _, _ = make_user()
    conv, ids = _talk(user, ("where is the aardvark", "In the garden."))
    kept = message_actions.delete_for_undo(user, ids[0])
    assert history.search_messages(user, "aardvark") == []
    message_actions.restore(user, kept)
    message_actions.restore(user, kept)
    assert _contents(user, conv) == [("user", "where is the aardvark"), ("assistant", "In the garden.")]
    assert [h.message_id for h in history.search_messages(user, "aardvark")] == [ids[0]]


def test_a_restore_whose_id_was_taken_keeps_the_message_after_those_before_it(make_user) -> None:
    user, _, _ = make_user()
    other, _, _ = make_user()
    conv, ids = _talk(user, ("first", "second"))
    kept = message_actions.delete_for_undo(user, ids[1])
    # Someone else's new message got the freed id (SQLite reuses the highest id).
    elsewhere = history.create_conversation(other).id
    with session_scope() as s:
        s.execute(insert(Message), [{
            "id": ids[1], "conversation_id": elsewhere, "user_id": other, "role": "user",
            "content": "not yours", "channel": "web", "status": "complete",
            "created_at": kept.created_at,
        }])
    restored = message_actions.restore(user, kept)
    assert restored.id != ids[1]
    message_actions.restore(user, kept)
    assert _contents(user, conv) == [("user", "first"), ("assistant", "second")]
    assert _contents(other, elsewhere) == [("user", "not yours")]


def test_nobody_else_can_delete_or_restore_and_a_deleted_conversation_stays_deleted(make_user) -> None:
    alice, _, _ = make_user()
    mallory, _, _ = make_user()
    conv, ids = _talk(alice, ("secret", "kept"))
    with pytest.raises(history.NotFound):
        message_actions.delete_for_undo(mallory, ids[0])
    kept = message_actions.delete_for_undo(alice, ids[0])
    with pytest.raises(history.NotFound):
        message_actions.restore(mallory, kept)
    history.delete_conversation(alice, conv)
    with pytest.raises(history.NotFound):
        message_actions.restore(alice, kept)
    assert history.list_conversations(alice) == []


# -- edit and resend, regenerate ------------------------------------------------------------


@pytest.mark.asyncio
async def test_edit_and_resend_replaces_what_followed_and_counts_as_a_message(agent_user, fake_ai) -> None:
    conv, ids = _talk(agent_user, ("weather in Oslo?", "Cold."), ("and in Rome?", "Warm."))
    before = usage.month_usage(agent_user).messages
    fake_ai.script(Reply("Mild, 14 degrees.", chunks=2))
    rewind = message_actions.edit_rewind(agent_user, conv, ids[0], "  weather in Lisbon?  ")
    events = await collect(runtime.respond(agent_user, conv, rewind=rewind))
    assert events[-1].kind == "done"
    assert _contents(agent_user, conv) == [("user", "weather in Lisbon?"), ("assistant", "Mild, 14 degrees.")]
    sent = fake_ai.requests[-1].body["messages"]
    assert sent[-1] == {"role": "user", "content": "weather in Lisbon?"}
    assert all("Rome" not in str(m.get("content")) for m in sent)
    assert usage.month_usage(agent_user).messages == before + 1


@pytest.mark.asyncio
async def test_regenerate_replaces_only_the_last_answer(agent_user, fake_ai) -> None:
    conv, _ = _talk(agent_user, ("name a fruit", "Apple."), ("another one", "Pear."))
    notice = history.add_message(agent_user, conv, "notice", "The provider failed.")
    before = usage.month_usage(agent_user).messages
    fake_ai.script(Reply("Mango.", chunks=1))
    events = await collect(
        runtime.respond(agent_user, conv, rewind=message_actions.regenerate_rewind(agent_user, conv))
    )
    assert events[-1].kind == "done"
    assert _contents(agent_user, conv) == [("user", "name a fruit"), ("assistant", "Apple."),
                                           ("user", "another one"), ("assistant", "Mango.")]
    assert fake_ai.requests[-1].body["messages"][-1] == {"role": "user", "content": "another one"}
    assert usage.month_usage(agent_user).messages == before + 1
    with pytest.raises(history.NotFound):
        history.get_message(agent_user, notice.id)


@pytest.mark.asyncio
async def test_over_quota_an_edit_or_regenerate_changes_nothing(
    agent_user, fake_ai, two_message_plan
) -> None:
    conv, ids = _talk(agent_user, ("q1", "a1"), ("q2", "a2"))
    await collect(runtime.run_turn(agent_user, "q3", conversation_id=conv))
    await collect(runtime.run_turn(agent_user, "q4", conversation_id=conv))
    calls = len(fake_ai.requests)
    for rewind in (message_actions.edit_rewind(agent_user, conv, ids[0], "changed"),
                   message_actions.regenerate_rewind(agent_user, conv)):
        events = await collect(runtime.respond(agent_user, conv, rewind=rewind))
        assert events[-1].kind == "error" and "used all 2 messages" in events[-1].text
    assert len(fake_ai.requests) == calls
    shown = _contents(agent_user, conv)
    assert shown[:4] == [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]
    assert [r for r, _ in shown[4:]] == ["user", "assistant", "user", "assistant", "notice", "notice"]
    assert usage.month_usage(agent_user).messages == 2


@pytest.mark.asyncio
async def test_only_ones_own_message_can_be_edited(agent_user, make_user, fake_ai) -> None:
    conv, ids = _talk(agent_user, ("mine", "the agent's"))
    other, _, _ = make_user()
    before = usage.month_usage(agent_user).messages
    calls = len(fake_ai.requests)
    for rewind in (message_actions.edit_rewind(agent_user, conv, ids[1], "rewritten answer"),
                   message_actions.edit_rewind(other, conv, ids[0], "hijacked")):
        with pytest.raises(history.NotFound):
            await collect(runtime.respond(agent_user, conv, rewind=rewind))
    with pytest.raises(ValueError):
        message_actions.edit_rewind(agent_user, conv, ids[0], "   ")
    assert _contents(agent_user, conv) == [("user", "mine"), ("assistant", "the agent's")]
    assert usage.month_usage(agent_user).messages == before
    assert len(fake_ai.requests) == calls
