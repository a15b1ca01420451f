"""A web turn's lease (issue 15, fault 2): a reply whose process died is told from one that
still streams, and is stored as interrupted exactly once, whoever notices first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from vopix.core.agent import history, turn_lease
from vopix.core.agent.runtime import TurnEvent
from vopix.core.agent.turn_lease import Lease, Liveness
from vopix.core.clock import utcnow
from vopix.core.kinds import MessageStatus, TurnEventKind

pytestmark = pytest.mark.asyncio


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch):
    """later(seconds): the lease's clock that far ahead (the turn's process stopped renewing)."""

    def move(seconds: float) -> None:
        moment = utcnow() + timedelta(seconds=seconds)
        monkeypatch.setattr(turn_lease, "utcnow", lambda: moment)

    return move


async def _died_while_streaming(user_id: int, text: str) -> tuple[str, int]:
    """A turn that stored the person's message, streamed `text`, then lost its process: its
    lease is left behind, renewed once with the text, never released."""
    conv = history.create_conversation(user_id)
    asked = history.add_message(user_id, conv.id, "user", "Tell me a story")
    lease = Lease(turn_lease.new_key(), user_id, None)
    await lease.start()
    turn_lease.keeper.drop(lease)  # the process is gone: no more renewals, no end()
    lease.seen(TurnEvent(TurnEventKind.USER_MESSAGE, "Tell me a story", asked.id, conv.id))
    for piece in text.split(" "):
        lease.seen(TurnEvent(TurnEventKind.TEXT, piece + " ", None, conv.id))
    assert turn_lease.renew(lease.key, lease.text, lease.conversation_id)
    return lease.key, conv.id


async def test_a_dead_turns_reply_is_stored_interrupted_once(make_user, later) -> None:
    user_id, _, _ = make_user()
    key, conversation_id = await _died_while_streaming(user_id, "Once upon a time")
    assert turn_lease.look(key) == Liveness.ALIVE
    assert turn_lease.settle(key, user_id, "Once upon") is None  # alive: not touched

    later(turn_lease.LEASE_S + 1)
    assert turn_lease.look(key) == Liveness.EXPIRED
    stored = turn_lease.settle(key, user_id, "Once upon")  # the tab saw less than the lease holds
    assert stored is not None
    assert turn_lease.settle(key, user_id, "Once upon") is None  # a second tab, another instance
    assert turn_lease.settle_expired(user_id, conversation_id) == 0
    assert turn_lease.look(key) == Liveness.MISSING

    page, _ = history.messages_page(user_id, conversation_id)
    assert [(m.role, m.status) for m in page] == [
        ("user", MessageStatus.COMPLETE), ("assistant", MessageStatus.INTERRUPTED)
    ]
    assert page[-1].content == "Once upon a time " and page[-1].id == stored


async def test_the_tab_keeps_the_longer_text_it_saw(make_user, later) -> None:
    user_id, _, _ = make_user()
    key, conversation_id = await _died_while_streaming(user_id, "Once")
    later(turn_lease.LEASE_S + 1)
    turn_lease.settle(key, user_id, "Once upon a time, after the last renewal")
    page, _ = history.messages_page(user_id, conversation_id)
    assert page[-1].content == "Once upon a time, after the last renewal"


async def test_a_conversation_opened_later_settles_its_dead_turn(make_user, later) -> None:
    """No tab came back for the reply (closed meanwhile): whoever opens the conversation next
    sees it interrupted; another person's conversation and a live turn are left alone."""
    user_id, _, _ = make_user()
    other_id, _, _ = make_user()
    _, conversation_id = await _died_while_streaming(user_id, "Half a reply")
    _, others = await _died_while_streaming(other_id, "Not yours")
    assert turn_lease.settle_expired(user_id, conversation_id) == 0  # still within its lease
    later(turn_lease.LEASE_S + 1)
    assert turn_lease.settle_expired(other_id, conversation_id) == 0
    assert turn_lease.settle_expired(user_id, conversation_id) == 1
    assert history.messages_page(user_id, conversation_id)[0][-1].status == MessageStatus.INTERRUPTED
    assert history.messages_page(other_id, others)[0][-1].role == "user"


async def test_a_turn_that_ends_leaves_no_lease_and_nothing_to_settle(make_user, later) -> None:
    user_id, _, _ = make_user()
    conv = history.create_conversation(user_id)
    lease = Lease(turn_lease.new_key(), user_id, conv.id)
    await lease.start()
    lease.seen(TurnEvent(TurnEventKind.TEXT, "All of it", None, conv.id))
    lease.seen(TurnEvent(TurnEventKind.DONE, "All of it", 7, conv.id))  # stored by the turn
    assert lease.text == ""
    await lease.end()
    later(turn_lease.LEASE_S + 1)
    assert turn_lease.look(lease.key) == Liveness.MISSING
    assert turn_lease.settle(lease.key, user_id) is None
    assert history.messages_page(user_id, conv.id)[0] == []


async def test_one_beat_renews_every_running_lease_of_the_process_and_stores_the_new_texts(
    make_user, later
) -> None:
    """The keeper's beat: every lease of the process pushed on in one transaction, the text of
    those whose reply grew stored with it, the others' left as they were."""
    from sqlmodel import select

    from vopix.db import session_scope
    from vopix.models import WebTurn

    user_id, _, _ = make_user()
    conv = history.create_conversation(user_id).id
    streaming, waiting = Lease(turn_lease.new_key(), user_id, conv), Lease(turn_lease.new_key(), user_id, conv)
    for lease in (streaming, waiting):
        await lease.start()
        turn_lease.keeper.drop(lease)  # beats driven by hand below
    later(turn_lease.LEASE_S - 1)  # both close to running out
    turn_lease.renew_many([streaming.key, waiting.key], {streaming.key: ("Once upon", conv)})
    later(turn_lease.LEASE_S + 1)  # past the first lease, within the renewed one
    assert turn_lease.look(streaming.key) == turn_lease.look(waiting.key) == Liveness.ALIVE
    with session_scope() as s:
        texts = {t.key: t.text for t in s.exec(select(WebTurn))}
    assert (texts[streaming.key], texts[waiting.key]) == ("Once upon", "")
    for lease in (streaming, waiting):
        await lease.end()
    assert turn_lease.look(streaming.key) == Liveness.MISSING
