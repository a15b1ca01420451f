"""WhatsApp end to end: Meta's verification, signed deliveries, linking with LINK <code>, the
one history, the 24-hour window and its template fallback, delivery status callbacks."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.channels.conftest import WHATSAPP_TEMPLATE, WHATSAPP_VERIFY_TOKEN
from tests.channels.helpers import drain, link_whatsapp, post_streamed, post_whatsapp
from tests.fakes.ai_provider import Reply
from tests.fakes.whatsapp_api import (
    make_audio_webhook,
    make_status_webhook,
    make_text_webhook,
    sign,
)
from vopix.channels import links
from vopix.core import usage
from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import ChannelLink, InboundEvent, Message, OutboundMessage

pytestmark = pytest.mark.asyncio
NUMBER = "15551234567"


def _outbound() -> list[OutboundMessage]:
    with session_scope() as s:
        return list(s.exec(select(OutboundMessage).order_by(OutboundMessage.id)))


async def test_meta_verification_challenge(api) -> None:
    ok = await api.get(
        "/api/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = await api.get(
        "/api/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )
    assert bad.status_code == 403


async def test_forged_signature_is_refused_and_nothing_is_stored(api, whatsapp_api) -> None:
    assert await post_whatsapp(api, make_text_webhook("wamid.F1", NUMBER, "hi"), secret="not-the-secret") == 401
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    unsigned = await api.post("/api/whatsapp/webhook", content=body)
    assert unsigned.status_code == 401
    with session_scope() as s:
        assert s.exec(select(InboundEvent)).all() == []


async def test_a_huge_unsigned_body_is_refused_without_reading_it_all(api) -> None:
    """The signature covers the raw body, so the body is read before it can be checked: anyone
    can POST here. A 50 MB body must be refused once past the route's limit, not buffered."""
    from vopix.api.whatsapp_routes import MAX_BODY_BYTES

    big = 50 * 1024 * 1024
    status, pulled = await post_streamed("/api/whatsapp/webhook", {}, big)
    assert status == 413 and pulled <= MAX_BODY_BYTES + 64 * 1024
    status, pulled = await post_streamed("/api/whatsapp/webhook", {"Content-Length": str(big)}, big)
    assert status == 413 and pulled <= 64 * 1024
    with session_scope() as s:
        assert s.exec(select(InboundEvent)).all() == []


async def test_malformed_signed_body_gets_400_without_logging_content(api, caplog) -> None:
    caplog.set_level(logging.WARNING)
    for body in (b'{"object": "whatsapp_business_account", "entry": [ secret-words', b'{"object": 5}'):
        headers = {"X-Hub-Signature-256": sign(body, "wa-app-secret-abcdef")}
        response = await api.post("/api/whatsapp/webhook", content=body, headers=headers)
        assert response.status_code == 400
    assert "malformed body" in caplog.text and "secret-words" not in caplog.text


@pytest.mark.promise("P03")
@pytest.mark.promise("P07")
@pytest.mark.promise("P22")
async def test_link_with_a_code_then_talk_with_one_history(api, agent_user, whatsapp_api, fake_ai) -> None:
    code = links.create_code(agent_user, "whatsapp").code
    with session_scope() as s:
        assert s.exec(select(ChannelLink)).all() == []
    assert await post_whatsapp(api, make_text_webhook("wamid.L1", NUMBER, f"link {code[:4]}-{code[4:].lower()}")) == 200
    await drain()
    assert whatsapp_api.texts_to(NUMBER)[-1].startswith("Linked!")
    link = links.get_link(agent_user, "whatsapp")
    assert link is not None and link.external_id == NUMBER

    fake_ai.script(Reply("Here is a **plan**:\n\n- step one\n- step two"))
    assert await post_whatsapp(api, make_text_webhook("wamid.T1", NUMBER, "Plan my day")) == 200
    await drain()
    assert whatsapp_api.texts_to(NUMBER)[-1] == "Here is a *plan*:\n\n• step one\n• step two"
    assert "wamid.T1" in whatsapp_api.read_receipts
    [conv] = history.list_conversations(agent_user)
    page, _ = history.messages_page(agent_user, conv.id)
    assert [(m.role, m.channel) for m in page] == [("user", "whatsapp"), ("assistant", "whatsapp")]
    assert page[0].content == "Plan my day"
    [out] = _outbound()
    assert out.provider_message_id == whatsapp_api.sent[-1]["_wamid"] and out.status == "sent"


async def test_a_repeated_delivery_is_answered_once(api, agent_user, whatsapp_api, fake_ai) -> None:
    link_whatsapp(agent_user, NUMBER)
    payload = make_text_webhook("wamid.D1", NUMBER, "once")
    for _ in range(3):
        assert await post_whatsapp(api, payload) == 200
    await drain()
    assert len(whatsapp_api.texts_to(NUMBER)) == 1
    assert len(fake_ai.requests) == 1


@pytest.mark.promise("P07")
async def test_an_unlinked_number_is_told_how_to_link_and_not_stored(api, make_user, whatsapp_api) -> None:
    make_user()
    stranger = "447700900123"
    await post_whatsapp(api, make_text_webhook("wamid.U1", stranger, "who are you?", profile_name="Eve"))
    await drain()
    assert "LINK" in whatsapp_api.texts_to(stranger)[-1]
    with session_scope() as s:
        assert s.exec(select(ChannelLink)).all() == []
        assert s.exec(select(Message)).all() == []
        events = s.exec(select(InboundEvent)).all()
    assert [(e.payload, e.user_id, e.outcome) for e in events] == [("", None, "unlinked")]
    assert stranger not in repr(events[0].model_dump()) and "Eve" not in repr(events[0].model_dump())


async def test_wrong_link_codes_change_nothing(api, make_user, whatsapp_api) -> None:
    user, _, _ = make_user()
    code = links.create_code(user, "whatsapp").code
    await post_whatsapp(api, make_text_webhook("wamid.W1", NUMBER, "LINK ZZZZZZZZ"))
    await drain()
    assert "not valid" in whatsapp_api.texts_to(NUMBER)[-1]
    await post_whatsapp(api, make_text_webhook("wamid.W2", NUMBER, f"LINK {code}"))
    await post_whatsapp(api, make_text_webhook("wamid.W3", "15559876543", f"LINK {code}"))
    await drain()
    assert "already used" in whatsapp_api.texts_to("15559876543")[-1]
    assert links.find_user("whatsapp", "15559876543") is None
    assert links.find_user("whatsapp", NUMBER) == user


async def test_long_replies_are_split_for_whatsapp(api, agent_user, whatsapp_api, fake_ai) -> None:
    link_whatsapp(agent_user, NUMBER)
    fake_ai.script(Reply("\n\n".join(f"Part {i}. " + "Words and more words. " * 60 for i in range(8))))
    await post_whatsapp(api, make_text_webhook("wamid.S1", NUMBER, "long please"))
    await drain()
    texts = whatsapp_api.texts_to(NUMBER)
    assert len(texts) >= 2 and all(len(t) <= 4096 for t in texts)
    assert texts[0].startswith("Part 0.") and "Part 7." in texts[-1]


async def test_outside_the_24h_window_only_the_template_is_sent_and_the_web_app_says_so(
    api, agent_user, whatsapp_api, fake_ai
) -> None:
    link_whatsapp(agent_user, NUMBER)
    whatsapp_api.close_window(NUMBER)  # Meta says: more than 24 hours since the person wrote
    fake_ai.script(Reply("A long and free-form answer."))
    await post_whatsapp(api, make_text_webhook("wamid.X1", NUMBER, "remind me"))
    await drain()
    assert whatsapp_api.texts_to(NUMBER) == []
    [template] = [m for m in whatsapp_api.sent if m["type"] == "template"]
    assert template["template"]["name"] == WHATSAPP_TEMPLATE and template["to"] == NUMBER
    assert [(o.kind, o.status) for o in _outbound()] == [("text", "failed"), ("template", "sent")]
    # Linking raised a security notice too (the chat-linked alert); this one is the window's.
    [notice] = [n for n in usage.unread_notices(agent_user) if n.kind == "whatsapp_window"]
    assert "could not reply freely on WhatsApp" in notice.text
    [conv] = history.list_conversations(agent_user)
    page, _ = history.messages_page(agent_user, conv.id)
    assert [m.role for m in page] == ["user", "assistant", "notice"]
    assert page[1].content == "A long and free-form answer."  # readable in the web app


async def test_a_late_delivery_outside_the_window_goes_straight_to_the_template(
    api, agent_user, whatsapp_api, fake_ai
) -> None:
    link_whatsapp(agent_user, NUMBER)
    with session_scope() as s:
        link = s.exec(select(ChannelLink)).one()
        link.last_inbound_at = utcnow() - timedelta(hours=30)
        s.add(link)
    old = utcnow() - timedelta(hours=25)  # Meta retried this delivery for a day
    await post_whatsapp(api, make_text_webhook("wamid.X2", NUMBER, "late", timestamp=old))
    await drain()
    assert [m["type"] for m in whatsapp_api.sent] == ["template"]
    assert all(c.get("type") != "text" for c in whatsapp_api.calls)  # no free-form attempt
    assert usage.unread_notices(agent_user)


async def test_status_callbacks_update_the_outbound_message(api, agent_user, whatsapp_api, fake_ai) -> None:
    link_whatsapp(agent_user, NUMBER)
    await post_whatsapp(api, make_text_webhook("wamid.Q1", NUMBER, "status please"))
    await drain()
    wamid = whatsapp_api.sent[-1]["_wamid"]
    assert await post_whatsapp(api, make_status_webhook(wamid, NUMBER, "delivered")) == 200
    assert _outbound()[0].status == "delivered"
    await post_whatsapp(api, make_status_webhook(wamid, NUMBER, "read"))
    await post_whatsapp(api, make_status_webhook(wamid, NUMBER, "delivered"))  # late, out of order
    assert _outbound()[0].status == "read"
    await post_whatsapp(api, make_status_webhook("wamid.unknown", NUMBER, "delivered"))  # not ours: ignored

    fake_ai.script(Reply("second"))
    await post_whatsapp(api, make_text_webhook("wamid.Q2", NUMBER, "again"))
    await drain()
    second = whatsapp_api.sent[-1]["_wamid"]
    await post_whatsapp(api, make_status_webhook(second, NUMBER, "failed", error_code=131047))
    rows = _outbound()
    assert rows[-1].status == "failed" and "Re-engagement" in rows[-1].error
    assert any("could not reply freely" in n.text for n in usage.unread_notices(agent_user))


async def test_voice_notes_get_a_clear_answer(api, agent_user, whatsapp_api, fake_ai) -> None:
    # Photos and documents are saved to the workspace: tests/channels/test_attachments.py.
    link_whatsapp(agent_user, NUMBER)
    await post_whatsapp(api, make_audio_webhook("wamid.M1", NUMBER, "media-1"))
    await drain()
    assert "voice notes" in whatsapp_api.texts_to(NUMBER)[-1]
    assert fake_ai.requests == []


async def test_rate_limited_sends_are_retried(api, agent_user, whatsapp_api, fake_ai) -> None:
    link_whatsapp(agent_user, NUMBER)
    fake_ai.script(Reply("after the throttle"))
    whatsapp_api.fail_next_rate_limited(1)
    await post_whatsapp(api, make_text_webhook("wamid.R1", NUMBER, "hi"))
    await drain()
    assert whatsapp_api.texts_to(NUMBER) == ["after the throttle"]
    assert [o.status for o in _outbound()] == ["sent"]
