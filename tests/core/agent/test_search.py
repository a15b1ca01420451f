"""Message search as a person sees its results: the match marked inside the snippet, the most
relevant first, and a hit opening on the page of messages around it. Runs on SQLite and, with
VOPIX_TEST_DB=postgres, on PostgreSQL: the same answers from FTS5 and tsvector."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.core.fulltext import Part, snippet
from vopix.db import session_scope
from vopix.models import Message

FILLER = " ".join(f"filler{i}" for i in range(60))


def _marked(parts: tuple[Part, ...] | list[Part]) -> list[str]:
    return [p.text for p in parts if p.marked]


def test_a_match_deep_in_a_long_message_is_inside_its_snippet(make_user) -> None:
    user, _, _ = make_user()
    conv = history.create_conversation(user, "Long").id
    history.add_message(user, conv, "user", f"{FILLER} the avocado\nwent bad {FILLER}")
    [hit] = history.search_messages(user, "avocado")
    assert _marked(hit.parts) == ["avocado"]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) <= 150 and "the avocado went bad" in hit.snippet


def test_every_word_of_the_query_is_marked_and_markup_in_the_text_stays_text(make_user) -> None:
    user, _, _ = make_user()
    conv = history.create_conversation(user).id
    history.add_message(user, conv, "user", 'Buy <b onclick="x()">olive</b> oil and olives today')
    [hit] = history.search_messages(user, "oliv oil")
    assert _marked(hit.parts) == ["olive", "oil", "olives"]
    # The text comes back as text: the page renders parts as text, marks as <mark> elements.
    assert hit.snippet == 'Buy <b onclick="x()">olive</b> oil and olives today'
    assert "[" not in hit.snippet


def test_the_most_relevant_message_comes_first_then_the_newest(make_user) -> None:
    user, _, _ = make_user()
    trip = history.create_conversation(user, "Trip").id
    chat = history.create_conversation(user, "Chat").id
    strong = history.add_message(user, trip, "user", "Lisbon Lisbon Lisbon: Lisbon trip")
    weak = history.add_message(
        user, chat, "user", "we might go to Lisbon one day if the weather is good and the flights are cheap"
    )
    assert [h.message_id for h in history.search_messages(user, "lisbon")] == [strong.id, weak.id]

    # Equally relevant: the one said last comes first (by its time, not the order of ids).
    old = history.add_message(user, trip, "assistant", "remember the umbrella")
    new = history.add_message(user, chat, "assistant", "remember the umbrella")
    assert [h.message_id for h in history.search_messages(user, "umbrella")] == [new.id, old.id]
    with session_scope() as s:
        s.execute(update(Message).where(Message.id == old.id).values(created_at=utcnow() + timedelta(minutes=5)))
    assert [h.message_id for h in history.search_messages(user, "umbrella")] == [old.id, new.id]


def _long_conversation(user: int, n: int) -> tuple[int, list[int]]:
    conv = history.create_conversation(user, "Ten thousand words").id
    with session_scope() as s:
        s.execute(insert(Message), [
            {"conversation_id": conv, "user_id": user, "role": "user", "content": f"line {i}",
             "channel": "web", "status": "complete", "created_at": utcnow()}
            for i in range(n)
        ])
    page, _ = history.messages_page(user, conv, limit=n)
    return conv, [m.id for m in page]


def test_a_hit_opens_on_the_page_around_it_with_older_and_newer_beyond(make_user) -> None:
    user, _, _ = make_user()
    conv, ids = _long_conversation(user, 300)
    page, older, newer = history.messages_around(user, conv, ids[150], limit=50)
    assert [m.id for m in page] == ids[125:175] and older and newer
    # Paging on from there, both ways, meets every message once.
    before, _ = history.messages_page(user, conv, before_id=page[0].id, limit=50)
    after = history.messages_after(user, conv, page[-1].id, limit=50)
    assert [m.id for m in before] == ids[75:125] and [m.id for m in after] == ids[175:225]

    near_start, older, newer = history.messages_around(user, conv, ids[3], limit=50)
    assert [m.id for m in near_start] == ids[:50] and not older and newer
    near_end, older, newer = history.messages_around(user, conv, ids[-2], limit=50)
    assert [m.id for m in near_end] == ids[-27:] and older and not newer


def test_a_hit_in_someone_elses_conversation_or_elsewhere_is_not_found(make_user) -> None:
    alice, _, _ = make_user()
    mallory, _, _ = make_user()
    conv = history.create_conversation(alice).id
    other = history.create_conversation(alice).id
    msg = history.add_message(alice, conv, "user", "private")
    with pytest.raises(history.NotFound):
        history.messages_around(mallory, conv, msg.id)
    with pytest.raises(history.NotFound):
        history.messages_around(alice, other, msg.id)


def test_snippet_folds_case_and_accents_and_starts_at_a_word() -> None:
    parts = snippet("Un CAFÉ crème, s'il vous plaît", ["cafe", "creme"])
    assert _marked(parts) == ["CAFÉ", "crème"]
    text = "word " * 40 + "needle " + "word " * 40
    cut = "".join(p.text for p in snippet(text, ["needle"]))
    assert cut.startswith("… word ") and "needle" in cut and cut.endswith(" word …")
    assert _marked(snippet("no match here", ["zzz"])) == []
