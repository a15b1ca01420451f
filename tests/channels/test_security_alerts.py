"""Security alerts also reach the person's linked chats (P12): linking and unlinking a chat
mails the account and messages the other linked chat, never the one just linked (it was told
"Linked!") or unlinked; WhatsApp outside its 24-hour window is skipped with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from tests.channels.helpers import link_telegram, link_whatsapp
from tests.core.mail.conftest import smtp  # noqa: F401
from tests.fakes.smtp import FakeSMTP
from vopix.channels import alerts, links
from vopix.core import accounts
from vopix.core.clock import utcnow
from vopix.core.mail import worker
from vopix.db import session_scope
from vopix.models import ChannelLink, OutboundMessage

pytestmark = [pytest.mark.asyncio, pytest.mark.promise("P12")]
NUMBER = "15550001234"


async def _mail_subjects(server: FakeSMTP, address: str) -> list[str]:
    await worker.drain()
    return [m.message["Subject"] for m in server.received if m.rcpt_tos == [address]]


def _outbound() -> list[OutboundMessage]:
    with session_scope() as s:
        return list(s.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))))


async def test_linking_and_unlinking_alert_by_mail_and_on_the_chats_still_linked(
    smtp: FakeSMTP, channels_env, make_user  # noqa: F811
) -> None:
    tg, wa = channels_env["telegram"], channels_env["whatsapp"]
    user_id, email, _ = make_user()
    link_telegram(user_id, 4242)
    assert await _mail_subjects(smtp, email) == ["VOPIX security alert: chat linked"]
    assert "A chat was linked to your agent: Telegram (Ada)." in smtp.received[0].text
    assert await alerts.deliver_queued() == 0  # no other chat to tell
    assert tg.sent_messages == []

    link_whatsapp(user_id, NUMBER)
    assert tg.sent_messages == []  # queued in the transaction, sent after it
    assert await alerts.deliver_queued() == 1
    [message] = tg.sent_messages
    assert message["chat_id"] == 4242 and "A chat was linked to your agent: WhatsApp (Ada)" in message["text"]
    assert wa.texts_to(NUMBER) == []

    assert links.unlink(user_id, "telegram", ip="203.0.113.4", device="Firefox on Linux")
    assert await _mail_subjects(smtp, email) == ["VOPIX security alert: chat linked"] * 2 + [
        "VOPIX security alert: chat unlinked"
    ]
    assert "From: Firefox on Linux, 203.0.113.x" in smtp.received[-1].text
    await alerts.deliver_queued()
    assert len(tg.sent_messages) == 1  # the unlinked chat hears nothing more
    [text] = wa.texts_to(NUMBER)  # linking opened WhatsApp's window
    assert "A chat was unlinked from your agent: Telegram (Ada)" in text
    assert all(row.status == "sent" and row.body == "" for row in _outbound())
    assert await alerts.deliver_queued() == 0  # each goes out once


async def test_whatsapp_outside_its_window_is_skipped_with_the_reason(
    smtp: FakeSMTP, channels_env, make_user  # noqa: F811
) -> None:
    wa = channels_env["whatsapp"]
    user_id, _, password = make_user()
    link_whatsapp(user_id, NUMBER)
    await alerts.deliver_queued()
    sent = len(wa.sent)
    with session_scope() as s:
        link = s.exec(select(ChannelLink).where(ChannelLink.user_id == user_id)).one()
        link.last_inbound_at = utcnow() - timedelta(hours=25)
        s.add(link)
    accounts.change_password(user_id, password, "a-brand-new-pass-7")
    assert await alerts.deliver_queued() == 0
    assert len(wa.sent) == sent
    last = _outbound()[-1]
    assert (last.status, last.error) == ("skipped", "outside the 24-hour window")
