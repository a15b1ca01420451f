"""Telegram end to end: real-shaped updates through the webhook route, the worker, the fake
Bot API. Linking, a conversation that shows in the web history, forged secrets, duplicates,
malformed bodies, strangers, long replies, rate limits."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.channels.helpers import (
    drain,
    inbound_events,
    link_telegram,
    post_streamed,
    post_update,
    telegram_code,
)
from tests.fakes.ai_provider import Reply
from tests.fakes.telegram_api import (
    html_to_plain,
    make_start_update,
    make_text_update,
    make_voice_update,
)
from vopix.channels import links, telegram
from vopix.core import http
from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import ChannelLink, Message, OutboundMessage

pytestmark = pytest.mark.asyncio
CHAT = 555_000_111


@pytest.mark.promise("P03")
@pytest.mark.promise("P07")
@pytest.mark.promise("P22")
async def test_link_then_a_telegram_conversation_lands_in_the_web_history(
    api, agent_user, telegram_api, fake_ai
) -> None:
    code = telegram_code(agent_user)
    assert links.get_link(agent_user, "telegram") is None
    with session_scope() as s:  # P07: nothing about the chat before it is linked
        assert s.exec(select(ChannelLink)).all() == []

    assert await post_update(api, make_start_update(1001, CHAT, code, username="ada_l")) == 200
    assert await drain() == 1
    assert telegram_api.sent_messages[-1]["chat_id"] == CHAT
    assert telegram_api.sent_messages[-1]["text"].startswith("Linked!")
    link = links.get_link(agent_user, "telegram")
    assert link is not None and link.external_id == str(CHAT) and link.display_name == "@ada_l"

    fake_ai.script(Reply("It is **sunny** today.", chunks=3))
    assert await post_update(api, make_text_update(1002, CHAT, "What's the weather?")) == 200
    assert await drain() == 1
    assert any(c["action"] == "typing" for c in telegram_api.calls_to("sendChatAction"))
    reply = telegram_api.sent_messages[-1]
    assert reply["parse_mode"] == "HTML" and reply["text"] == "It is <b>sunny</b> today."

    # The same conversation, channel marked, in the web app's history.
    [conv] = history.list_conversations(agent_user)
    page, _ = history.messages_page(agent_user, conv.id)
    assert [(m.role, m.content, m.channel) for m in page] == [
        ("user", "What's the weather?", "telegram"),
        ("assistant", "It is **sunny** today.", "telegram"),
    ]
    # The agent got the message through the person's chosen provider, with the channel known.
    assert "What's the weather?" in json.dumps(fake_ai.requests[-1].body["messages"])
    # Processed events keep no content; the outbound row keeps only delivery facts.
    assert all(e.payload == "" and e.status == "done" for e in inbound_events())
    with session_scope() as s:
        [out] = s.exec(select(OutboundMessage)).all()
    assert out.status == "sent" and out.body == "" and out.provider_message_id


async def test_forged_or_missing_secret_is_refused_and_nothing_is_stored(api, telegram_api) -> None:
    update = make_text_update(2001, CHAT, "hi")
    assert await post_update(api, update, secret="wrong-secret") == 403
    response = await api.post("/api/telegram/webhook", json=update)
    assert response.status_code == 403
    assert inbound_events() == []


async def test_a_repeated_update_is_answered_once(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    update = make_text_update(3001, CHAT, "Only once please")
    assert await post_update(api, update) == 200
    assert await post_update(api, update) == 200  # Telegram retried
    await drain()
    assert await post_update(api, update) == 200  # and again after we answered
    await drain()
    assert len(inbound_events()) == 1
    assert len(telegram_api.sent_messages) == 1
    assert len(fake_ai.requests) == 1


async def test_malformed_bodies_get_400_and_are_logged_without_content(api, caplog) -> None:
    caplog.set_level(logging.WARNING)
    secret_text = "my-bank-pin-is-4321"
    bodies = [
        b'{"update_id": 1, "message": ' + secret_text.encode(),  # broken JSON
        json.dumps({"update_id": "x", "text": secret_text}).encode(),  # wrong type
        json.dumps({"update_id": 7, "message": {"chat": secret_text, "text": secret_text}}).encode(),
        json.dumps([secret_text]).encode(),
        b"\xff\xfe" + secret_text.encode(),
    ]
    for body in bodies:
        response = await api.post(
            "/api/telegram/webhook",
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": "tg-webhook-secret_0123456789"},
        )
        assert response.status_code == 400
        assert secret_text not in response.text
    assert "malformed body" in caplog.text
    assert secret_text not in caplog.text
    assert inbound_events() == []


async def test_a_huge_body_is_refused_without_reading_it_all(api) -> None:
    """A 50 MB POST must not be read into memory: refused once past the route's limit,
    whether the size is declared up front or the body just keeps streaming."""
    from vopix.api.telegram_routes import MAX_BODY_BYTES

    secret = {"X-Telegram-Bot-Api-Secret-Token": "tg-webhook-secret_0123456789"}
    big = 50 * 1024 * 1024
    status, pulled = await post_streamed("/api/telegram/webhook", secret, big)
    assert status == 413 and pulled <= MAX_BODY_BYTES + 64 * 1024
    status, pulled = await post_streamed("/api/telegram/webhook", {**secret, "Content-Length": str(big)}, big)
    assert status == 413 and pulled <= 64 * 1024
    assert inbound_events() == []


@pytest.mark.promise("P07")
async def test_an_unlinked_sender_gets_how_to_link_and_leaves_nothing_behind(api, make_user, telegram_api) -> None:
    make_user()
    stranger = 987_654_321
    assert await post_update(api, make_text_update(4001, stranger, "hello, I am Bob, +1 555 0100")) == 200
    await drain()
    assert telegram_api.sent_messages[-1]["chat_id"] == stranger
    assert "link this chat" in telegram_api.sent_messages[-1]["text"]
    # A second message soon after is not answered again (no reply storms to strangers).
    assert await post_update(api, make_text_update(4002, stranger, "hello?")) == 200
    await drain()
    assert len(telegram_api.sent_messages) == 1
    with session_scope() as s:
        assert s.exec(select(ChannelLink)).all() == []
        assert s.exec(select(Message)).all() == []
        assert s.exec(select(OutboundMessage)).all() == []
    for event in inbound_events():
        assert event.payload == "" and event.user_id is None
        assert str(stranger) not in event.sender_hash and len(event.sender_hash) == 64
        assert "Bob" not in repr(event.model_dump())


async def test_link_codes_are_single_use_expire_and_never_steal_a_chat(api, make_user, telegram_api) -> None:
    first, _, _ = make_user()
    second, _, _ = make_user()

    async def start(update_id: int, chat: int, code: str) -> str:
        assert await post_update(api, make_start_update(update_id, chat, code)) == 200
        await drain()
        return telegram_api.sent_messages[-1]["text"]

    code = telegram_code(first)
    assert (await start(5001, CHAT, code)).startswith("Linked!")
    # The same code from a second chat: already used, nothing changes.
    assert "already used" in await start(5002, CHAT + 1, code)
    # A code of another account from the already linked chat: refused.
    assert "another VOPIX account" in await start(5003, CHAT, telegram_code(second))
    # An expired code.
    old = links.create_code(second, "telegram", now=utcnow() - timedelta(minutes=16))
    assert "expired" in await start(5004, CHAT + 2, old.code)
    # A made-up code.
    assert "not valid" in await start(5005, CHAT + 3, "made-up-code")
    # The first account cannot link a second chat without unlinking.
    assert "already linked to another Telegram chat" in await start(5006, CHAT + 4, telegram_code(first))
    with session_scope() as s:
        rows = s.exec(select(ChannelLink)).all()
    assert [(r.user_id, r.external_id) for r in rows] == [(first, str(CHAT))]
    # Unlinking forgets the chat id; the chat is a stranger again.
    assert links.unlink(first, "telegram") is True
    with session_scope() as s:
        assert s.exec(select(ChannelLink)).all() == []


async def test_a_long_reply_is_split_within_telegram_limits(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum **dolor** sit amet. " * 30 for i in range(12)]
    answer = "\n\n".join(paragraphs)
    assert len(answer) > 4096 * 2
    fake_ai.script(Reply(answer, chunks=20))
    await post_update(api, make_text_update(6001, CHAT, "Tell me a long story"))
    await drain()
    sent = telegram_api.sent_messages
    assert len(sent) >= 3
    assert all(len(html_to_plain(m["text"])) <= 4096 for m in sent)  # what Telegram counts
    assert sent[0]["text"].startswith("Paragraph 0:") and "Paragraph 11:" in sent[-1]["text"]
    assert all(m["text"].rstrip().endswith(".") for m in sent)  # cut between paragraphs/sentences
    with session_scope() as s:
        rows = s.exec(select(OutboundMessage).order_by(OutboundMessage.seq)).all()
    assert [r.seq for r in rows] == list(range(len(sent)))
    assert all(r.status == "sent" for r in rows)


async def test_429_retry_after_is_honoured(api, agent_user, telegram_api, fake_ai, monkeypatch) -> None:
    link_telegram(agent_user, CHAT)
    fake_ai.script(Reply("Answer after a flood wait"))
    telegram_api.fail_next("sendMessage", 1, retry_after=1)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(http, "default_sleep", record)
    await post_update(api, make_text_update(7001, CHAT, "hi"))
    await drain()
    assert waits == [1.0]  # Telegram's retry_after, waited once before the second try
    texts = [m["text"] for m in telegram_api.sent_messages]
    assert texts == ["Answer after a flood wait", "Answer after a flood wait"]  # refused, then sent
    with session_scope() as s:
        [row] = s.exec(select(OutboundMessage)).all()
    assert row.status == "sent"


async def test_voice_notes_get_a_clear_answer(api, agent_user, telegram_api, fake_ai) -> None:
    # Photos and documents are saved to the workspace: tests/channels/test_attachments.py.
    link_telegram(agent_user, CHAT)
    await post_update(api, make_voice_update(8001, CHAT))
    await drain()
    assert "voice notes" in telegram_api.sent_messages[-1]["text"]
    assert fake_ai.requests == []
    with session_scope() as s:
        assert s.exec(select(Message)).all() == []


async def test_start_without_code_explains_or_greets(api, make_user, telegram_api) -> None:
    user, _, _ = make_user()
    await post_update(api, make_start_update(9001, CHAT, None))
    await drain()
    assert "Connect Telegram" in telegram_api.sent_messages[-1]["text"]
    link_telegram(user, CHAT + 5)
    await post_update(api, make_start_update(9002, CHAT + 5, None))
    await drain()
    assert telegram_api.sent_messages[-1]["text"] == telegram.GREETING


async def test_group_chats_are_ignored(api, agent_user, telegram_api) -> None:
    await post_update(api, make_text_update(9101, -100123, "hello group", chat_type="group"))
    await drain()
    assert telegram_api.sent_messages == []
    assert [e.outcome for e in inbound_events()] == ["ignored"]


async def test_html_refused_by_telegram_falls_back_to_plain_text(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    fake_ai.script(Reply("Some **bold** words"))
    telegram_api.fail_next(
        "sendMessage", 1, error_code=400, description="Bad Request: can't parse entities: oops", retry_after=None
    )
    await post_update(api, make_text_update(9201, CHAT, "hi"))
    await drain()
    first, second = telegram_api.sent_messages
    assert first["parse_mode"] == "HTML" and "parse_mode" not in second
    assert second["text"] == "Some **bold** words"


async def test_a_blocked_bot_marks_the_reply_failed_and_moves_on(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    telegram_api.block_chat(CHAT)
    await post_update(api, make_text_update(9301, CHAT, "hi"))
    await drain()
    with session_scope() as s:
        [row] = s.exec(select(OutboundMessage)).all()
    assert row.status == "failed" and "blocked" in row.error
    assert [e.status for e in inbound_events()] == ["done"]
