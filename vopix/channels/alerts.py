"""Security alerts on the person's linked Telegram/WhatsApp chats, besides the mail.

The sink runs inside the alert's transaction, so it only queues an outbound row (no inbound
event: nothing to answer); `deliver_queued` sends such rows after the commit, from a loop in
every app process (`run`). A row is claimed by a conditional UPDATE, so each goes out once even
with several processes; a claim left by a crashed process is taken again after CLAIM_LEASE.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from vopix.channels import queue
from vopix.core import claim_loop, security_alerts
from vopix.core.clock import utcnow
from vopix.core.kinds import OutboundStatus
from vopix.db import session_scope
from vopix.models import ChannelLink, OutboundMessage

log = logging.getLogger("vopix.channels.alerts")

POLL_SECONDS = 2.0
CLAIM_LEASE = timedelta(minutes=5)
OUTSIDE_WINDOW = "outside the 24-hour window"


def install() -> None:
    """vopix.platform.install calls this: alerts also go to the linked chats."""
    security_alerts.on_alert(queue_alert)


def alert_text(alert: security_alerts.Alert) -> str:
    return (
        f"VOPIX security alert: {alert.sentence}\n"
        f"When: {alert.when}\nFrom: {alert.device}, {alert.ip}\n"
        "If this wasn't you, use the link in the mail we sent you, or change your password in "
        "VOPIX (Account)."
    )


def queue_alert(s: Session, alert: security_alerts.Alert) -> None:
    """A row per chat linked now (an unlinked chat is already gone, so it hears nothing).
    WhatsApp allows free text only within 24 hours of the person's last message: outside,
    the row is recorded as skipped, with the reason."""
    from vopix.channels.whatsapp import window_open

    chats = s.exec(select(ChannelLink).where(ChannelLink.user_id == alert.user_id)).all()
    text = alert_text(alert)
    for chat in chats:
        closed = chat.channel == "whatsapp" and not window_open(chat.last_inbound_at)
        s.add(
            OutboundMessage(
                user_id=alert.user_id, channel=chat.channel, inbound_event_id=None, kind="text",
                body="" if closed else text,
                status=OutboundStatus.SKIPPED if closed else OutboundStatus.QUEUED,
                error=OUTSIDE_WINDOW if closed else "", status_at=utcnow() if closed else None,
            )
        )


@dataclass(frozen=True)
class _Claimed:
    item: queue.Outbound
    to: str | None  # the chat linked now; None when it was unlinked meanwhile


def _claimable(now: object) -> object:
    return and_(
        col(OutboundMessage.inbound_event_id).is_(None),
        or_(
            col(OutboundMessage.status) == OutboundStatus.QUEUED,
            and_(col(OutboundMessage.status) == OutboundStatus.SENDING,
                 col(OutboundMessage.status_at) < now - CLAIM_LEASE),  # type: ignore[operator]
        ),
    )


def claim_next() -> _Claimed | None:
    now = utcnow()
    with session_scope() as s:
        while True:
            row = s.exec(
                select(OutboundMessage).where(_claimable(now)).order_by(col(OutboundMessage.id)).limit(1)
            ).first()
            if row is None:
                return None
            taken = s.exec(  # type: ignore[call-overload]
                update(OutboundMessage)
                .where(col(OutboundMessage.id) == row.id, _claimable(now))
                .values(status=OutboundStatus.SENDING, status_at=now)
            ).rowcount
            if not taken:  # another process took it first
                s.expire(row)
                continue
            link = s.exec(
                select(ChannelLink).where(
                    ChannelLink.user_id == row.user_id, ChannelLink.channel == row.channel
                )
            ).first()
            item = queue.Outbound(row.id or 0, row.user_id, row.channel, row.seq, row.kind, row.body)
            return _Claimed(item, link.external_id if link else None)


async def _deliver(claimed: _Claimed) -> None:
    from vopix.channels import telegram, whatsapp

    item = claimed.item
    if claimed.to is None:
        await asyncio.to_thread(queue.mark_failed, item.id, "the chat was unlinked", OutboundStatus.SKIPPED)
        return
    if item.channel == "telegram" and telegram.enabled():
        await telegram.TelegramTransport().deliver(item, claimed.to, None)
    elif item.channel == "whatsapp" and whatsapp.enabled():
        await whatsapp.WhatsAppTransport().deliver(item, claimed.to, None)
    else:
        await asyncio.to_thread(queue.mark_failed, item.id, "channel not set up", OutboundStatus.SKIPPED)


async def _deliver_or_fail(claimed: _Claimed) -> None:
    try:
        await _deliver(claimed)
    except Exception as exc:  # the provider is down: the mail carries the alert anyway
        log.warning("alert message %s not sent (%s)", claimed.item.id, type(exc).__name__)
        await asyncio.to_thread(queue.mark_failed, claimed.item.id, f"error: {type(exc).__name__}")


async def deliver_queued(limit: int = 100) -> int:
    """Send the queued alert messages now (the loop below; tests). Returns how many."""
    return await claim_loop.drain(claim_next, _deliver_or_fail, limit)


async def run(poll: float = POLL_SECONDS) -> None:
    """Lifespan loop: deliver alert messages every few seconds."""
    while True:
        try:
            await deliver_queued()
        except Exception as exc:
            log.warning("alert messages: %s; retrying", type(exc).__name__)
        await asyncio.sleep(poll)
