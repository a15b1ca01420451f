"""Conversations and messages: ownership, paging, search, deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlmodel import select

from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import Message


def test_another_users_conversation_and_message_ids_are_refused(make_user) -> None:
    alice, _, _ = make_user()
    mallory, _, _ = make_user()
    conv = history.create_conversation(alice, "Alice's plans").id
    msg = history.add_message(alice, conv, "user", "my secret plan")
    for attempt in (
        lambda: history.get_conversation(mallory, conv),
        lambda: history.messages_page(mallory, conv),
        lambda: history.rename_conversation(mallory, conv, "mine now"),
        lambda: history.delete_conversation(mallory, conv),
        lambda: history.add_message(mallory, conv, "user", "injected"),
        lambda: history.delete_message(mallory, msg.id),
        lambda: history.get_message(mallory, msg.id),
    ):
        with pytest.raises(history.NotFound):
            attempt()
    history.update_message(mallory, msg.id, content="overwritten")  # silently matches nothing
    assert history.search_messages(mallory, "secret") == []
    assert history.list_conversations(mallory) == []
    page, _ = history.messages_page(alice, conv)
    assert [m.content for m in page] == ["my secret plan"]
    assert history.get_conversation(alice, conv).title == "Alice's plans"


def test_a_10000_message_conversation_opens_on_its_latest_page(make_user) -> None:
    user, _, _ = make_user()
    conv = history.create_conversation(user).id
    now = utcnow()
    rows = [
        {"conversation_id": conv, "user_id": user, "role": "user" if i % 2 == 0 else "assistant",
         "content": f"message {i}", "channel": "web", "status": "complete", "created_at": now}
        for i in range(10_000)
    ]
    with session_scope() as s:
        s.execute(insert(Message), rows)
    page, more = history.messages_page(user, conv)
    assert len(page) == history.PAGE and more
    assert page[-1].content == "message 9999" and page[0].content == f"message {10_000 - history.PAGE}"
    older, more = history.messages_page(user, conv, before_id=page[0].id)
    assert older[-1].content == f"message {10_000 - history.PAGE - 1}" and more
    assert history.count_messages(user, conv) == 10_000


def test_conversations_list_newest_first_and_paginates(make_user) -> None:
    user, _, _ = make_user()
    ids = [history.create_conversation(user, f"c{i}").id for i in range(5)]
    history.add_message(user, ids[0], "user", "bump the oldest")
    first = history.list_conversations(user, limit=3)
    assert first[0].id == ids[0]
    rest = history.list_conversations(user, before=first[-1].updated_at, limit=3)
    assert {c.id for c in first} | {c.id for c in rest} == set(ids)
    assert not {c.id for c in first} & {c.id for c in rest}


def test_first_message_names_the_conversation(make_user) -> None:
    user, _, _ = make_user()
    conv = history.create_conversation(user).id
    history.add_message(user, conv, "user", "Plan a trip to Lisbon in May with my sister")
    assert history.get_conversation(user, conv).title.startswith("Plan a trip to Lisbon")


def test_full_text_search_finds_own_messages_with_prefixes(make_user) -> None:
    user, _, _ = make_user()
    conv = history.create_conversation(user, "Garden").id
    history.add_message(user, conv, "user", "When should I plant tomatoes?")
    history.add_message(user, conv, "assistant", "Plant tomatoes after the last frost.")
    history.add_message(user, conv, "user", "Thanks!")
    hits = history.search_messages(user, "tomat")
    assert len(hits) == 2 and all(h.conversation_title == "Garden" for h in hits)
    assert [p.text for p in hits[0].parts if p.marked] == ["tomatoes"]  # the match is marked
    assert "[" not in hits[0].snippet
    assert history.search_messages(user, '"); DROP TABLE message; --') == []
    assert history.search_messages(user, "   ") == []


@pytest.mark.promise("P25")
def test_deleting_messages_removes_them_from_the_database(make_user) -> None:
    user, _, _ = make_user()
    conv = history.create_conversation(user).id
    keep = history.add_message(user, conv, "user", "keep me")
    gone = history.add_message(user, conv, "user", "forget this unique-marker-123")
    history.delete_message(user, gone.id)
    with session_scope() as s:
        assert s.get(Message, gone.id) is None
        assert s.get(Message, keep.id) is not None
    assert history.search_messages(user, "unique") == []  # gone from the search index too

    other = history.create_conversation(user).id
    history.add_message(user, other, "user", "another unique-marker-456")
    history.delete_conversation(user, other)
    history.delete_all_conversations(user)
    with session_scope() as s:
        assert s.exec(select(Message).where(Message.user_id == user)).all() == []
        if s.get_bind().dialect.name == "sqlite":
            assert s.execute(text("SELECT count(*) FROM message_fts WHERE message_fts MATCH 'unique*'")).scalar() == 0


def test_channel_messages_go_to_the_recent_conversation(make_user) -> None:
    user, _, _ = make_user()
    first = history.conversation_for_channel(user)
    history.add_message(user, first, "user", "from telegram", channel="telegram")
    assert history.conversation_for_channel(user) == first
    page, _ = history.messages_page(user, first)
    assert page[0].channel == "telegram"
