"""Where a task's message goes: the person's preferred channel (a setting: web, Telegram or
WhatsApp), else the web chat. Every message is in the history anyway (the task's own
conversation, marked as from a task), so "falling back to the web chat" means: nothing more is
sent, the run says why, and a notice (once a day per channel, with a mail) tells the person
that their channel did not work. WhatsApp outside the 24-hour window gets the approved
template message instead (it tells the person a message waits in VOPIX).

Sending uses the channels' own transports (vopix/channels/telegram.py, whatsapp.py) on an
outbound_message row this module creates; nothing here retries a send: a retried occurrence
never sends twice (worker.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vopix.core import support
from vopix.core.clock import local_time
from vopix.core.kinds import MailKind, NoticeKind, OutboundStatus
from vopix.core.mail import outbox
from vopix.models import AgentProfile, ChannelLink, Notice, OutboundMessage, User

log = logging.getLogger("vopix.tasks")

CHANNEL_NAMES = {"web": "the web chat", "telegram": "Telegram", "whatsapp": "WhatsApp"}
TEMPLATE = "template"  # the route for WhatsApp outside the 24-hour window
TASKS_LINK = "/tasks"


class Lost(Exception):
    """Another worker moved this run first: it carries on, this one stops."""


@dataclass(frozen=True)
class Route:
    channel: str  # web | telegram | whatsapp | template
    to: str = ""
    reason: str = ""  # why not the preferred channel ("" when it is the preferred one)


def choose(s: Session, user_id: int, preferred: str, now: datetime) -> Route:
    """The route for one message now. Telegram and WhatsApp need the channel set up on the
    platform and linked by the person; WhatsApp free text needs its 24-hour window open."""
    if preferred not in ("telegram", "whatsapp"):
        return Route("web")
    link = s.exec(
        select(ChannelLink).where(ChannelLink.user_id == user_id, ChannelLink.channel == preferred)
    ).first()
    return route_for(preferred, link, now)


def route_for(preferred: str, link: ChannelLink | None, now: datetime) -> Route:
    """choose, given the person's link on their preferred channel (read already)."""
    if preferred not in ("telegram", "whatsapp"):
        return Route("web")
    from vopix.channels import telegram, whatsapp

    name = CHANNEL_NAMES[preferred]
    enabled = telegram.enabled() if preferred == "telegram" else whatsapp.enabled()
    if not enabled:
        return Route("web", reason=f"{name} is not set up on this VOPIX")
    if link is None:
        return Route("web", reason=f"{name} is not linked")
    if preferred == "whatsapp" and not whatsapp.window_open(link.last_inbound_at, now):
        return Route(TEMPLATE, link.external_id, "outside WhatsApp's 24-hour window")
    return Route(preferred, link.external_id)


def new_outbound(s: Session, user_id: int, route: Route, body: str, now: datetime) -> int:
    """The row a send is recorded on, made 'sending' so that the alert loop (which sends the
    queued rows without an inbound event) leaves it alone."""
    row = outbound_row(user_id, route, body, now)
    s.add(row)
    s.flush()
    assert row.id is not None
    return row.id


def outbound_row(user_id: int, route: Route, body: str, now: datetime) -> OutboundMessage:
    """new_outbound's row, not yet added (a batch adds its rows together)."""
    return OutboundMessage(
        user_id=user_id, channel="whatsapp" if route.channel == TEMPLATE else route.channel,
        inbound_event_id=None, kind="template" if route.channel == TEMPLATE else "text",
        body=body if route.channel != TEMPLATE else "", status=OutboundStatus.SENDING, status_at=now,
    )


async def send(route: Route, outbound_id: int, user_id: int, body: str, *,
               check: bool = True, before_send: Callable[[], Awaitable[None]] | None = None,
               ) -> tuple[bool, str]:
    """Hand the message to its channel; (sent, why not). A provider failure is a refusal
    here: the web chat has the message. check=False: (True, "") once handed over, the caller
    reads what the channel said (outcome_in) in a transaction of its own. `before_send` is
    awaited when nothing is left to wait for but the request itself (after Telegram's pacing);
    an exception from it (Lost) stops the send."""
    from vopix.channels import queue, telegram, whatsapp

    kind = "template" if route.channel == TEMPLATE else "text"
    channel = "whatsapp" if route.channel == TEMPLATE else route.channel
    item = queue.Outbound(outbound_id, user_id, channel, 0, kind, body)
    try:
        if channel == "telegram":
            await telegram.TelegramTransport().deliver(item, route.to, None, before_send=before_send)
        else:
            if before_send is not None:
                await before_send()
            await whatsapp.WhatsAppTransport().deliver(item, route.to, None)
    except Lost:
        raise
    except Exception as exc:  # the provider is down: the web chat carries the message
        log.warning("task message %s not sent (%s)", outbound_id, type(exc).__name__)
        await asyncio.to_thread(queue.mark_failed, outbound_id, f"error: {type(exc).__name__}")
        return False, f"{CHANNEL_NAMES[channel]} failed ({type(exc).__name__})"
    return await asyncio.to_thread(outcome_of, outbound_id) if check else (True, "")


def outcome_of(outbound_id: int) -> tuple[bool, str]:
    from vopix.db import session_scope

    with session_scope() as s:
        return outcome_in(s, outbound_id)


def outcome_in(s: Session, outbound_id: int) -> tuple[bool, str]:
    """What the channel said of a message handed to it: (sent, why not)."""
    row = s.get(OutboundMessage, outbound_id)
    if row is None:
        return False, "the message record is gone"
    if row.status in (OutboundStatus.SENT, OutboundStatus.DELIVERED, OutboundStatus.READ):
        return True, ""
    name = CHANNEL_NAMES.get(row.channel, row.channel)
    return False, f"{name}: {row.error or row.status}"


def tell_undelivered(s: Session, user_id: int, channel: str, reason: str, now: datetime) -> None:
    """A notice in the app and a mail, at most once a day per channel: a task message could
    not go to the person's channel and waits in the web chat."""
    profile = s.get(AgentProfile, user_id)
    zone = profile.timezone if profile else "UTC"
    day = local_time(now, zone)[:10]
    name = CHANNEL_NAMES.get(channel, channel)
    text = (
        f"A message from one of your tasks could not be delivered on {name} ({reason}). It is in "
        "the web chat, in the task's conversation. Check Channels, or choose where tasks deliver "
        "on the Tasks page."
    )
    try:
        with s.begin_nested():
            s.add(Notice(user_id=user_id, key=f"task-undelivered:{channel}:{day}", kind=NoticeKind.GENERAL,
                         level="warning", text=text, link=TASKS_LINK, created_at=now))
    except IntegrityError:  # told today already
        return
    user = s.get(User, user_id)
    if user is None:
        return
    try:
        outbox.enqueue(
            s, to=user.email, kind=MailKind.TASK, template="task_undelivered",
            user_id=user_id, language=(profile.language if profile else "") or "en",
            action_url=outbox.link(TASKS_LINK), channel=name, reason=reason,
            support=support.contact_sentence(),
        )
    except ValueError as exc:  # an address the outbox refuses: the notice is enough
        log.info("task notice mail not queued (%s)", type(exc).__name__)


def undelivered_notices(s: Session, user_id: int) -> int:
    return len(s.exec(select(Notice.id).where(
        Notice.user_id == user_id, col(Notice.key).startswith("task-undelivered:"))).all())
