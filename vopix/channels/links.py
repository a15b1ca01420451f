"""Linking a Telegram chat or a WhatsApp number to an account with a one-time code.

Codes are random, shown once, stored only as SHA-256, valid 15 minutes and used once. A chat
id or number is written to the database only when the link succeeds (P07); unlinking deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vopix.core import security_alerts, vault
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import ChannelLink, ChannelLinkCode, InboundEvent

CODE_TTL = timedelta(minutes=15)
CHANNELS = ("telegram", "whatsapp")
# WhatsApp codes are typed by hand: no 0/O or 1/I/L. 8 characters: 31^8 ~ 8.5e11 codes.
_WA_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_WA_CODE_LEN = 8
_WA_LINK = re.compile(r"^\s*link\s+([A-Za-z0-9][A-Za-z0-9 -]{3,20})\s*$", re.IGNORECASE)
# Abuse prevention: failed link attempts per sender in the code lifetime.
MAX_FAILED_ATTEMPTS = 8


class LinkReply(StrEnum):
    """What a chat is told about linking; the refusals are also LinkRefused reasons."""

    HOW_TO_LINK = "how_to_link"
    GREETING = "greeting"
    LINKED = "linked"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    OTHER_ACCOUNT = "other_account"
    SAME_ACCOUNT = "same_account"
    ACCOUNT_HAS_OTHER = "account_has_other"
    THROTTLED = "throttled"


# One wording for both channels; the words that differ are filled in per channel.
REPLIES: dict[LinkReply, str] = {
    LinkReply.HOW_TO_LINK: "Hi! {intro} To talk to your agent here, link this {chat} first: in "
    "VOPIX open Channels, press “{button}” and {how}.",
    LinkReply.GREETING: "You're connected to your VOPIX agent. Send a message to start.",
    LinkReply.LINKED: "Linked! This {chat} now talks to your VOPIX agent, with the same history "
    "as the web app. Send a message to start.",
    LinkReply.UNKNOWN: "{this_code} is not valid. In VOPIX, open Channels and press “{button}” "
    "for a new one.",
    LinkReply.EXPIRED: "{this_code} has expired ({code}s work for 15 minutes). In VOPIX, open "
    "Channels and press “{button}” for a new one.",
    LinkReply.USED: "{this_code} was already used; each {code} works once. In VOPIX, open "
    "Channels for a new one.",
    LinkReply.OTHER_ACCOUNT: "This {channel_chat} is already linked to another VOPIX account. "
    "Unlink it there first (Channels → Unlink).",
    LinkReply.SAME_ACCOUNT: "This {chat} is already linked to your VOPIX account. Just send a "
    "message.",
    LinkReply.ACCOUNT_HAS_OTHER: "Your VOPIX account is already linked to another "
    "{channel_chat}. Unlink that one first in VOPIX (Channels → Unlink).",
    LinkReply.THROTTLED: "Too many link attempts from this {chat}. Wait 15 minutes and try again.",
}
_WORDS: dict[str, dict[str, str]] = {
    "telegram": {
        "intro": "I'm the VOPIX bot.", "chat": "chat", "channel_chat": "Telegram chat",
        "this_code": "This link", "code": "link", "button": "Connect Telegram",
        "how": "open the link it shows (or scan its QR code)",
    },
    "whatsapp": {
        "intro": "This is VOPIX.", "chat": "number", "channel_chat": "WhatsApp number",
        "this_code": "That code", "code": "code", "button": "Connect WhatsApp",
        "how": "send the message it shows (LINK and a code)",
    },
}


def reply(channel: str, which: str) -> str:
    """The text for `which` (a LinkReply or a refusal reason) in `channel`'s words; a reason
    not in the table gets the "not valid" reply."""
    _check_channel(channel)
    key = which if which in REPLIES else LinkReply.UNKNOWN
    return REPLIES[LinkReply(key)].format(**_WORDS[channel])


class LinkRefused(Exception):
    """A link attempt that changes nothing; `reason` picks the reply sent to the chat."""

    def __init__(self, reason: LinkReply) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkView:
    channel: str
    external_id: str
    display_name: str
    linked_at: datetime
    last_inbound_at: datetime | None


@dataclass(frozen=True)
class NewCode:
    code: str
    expires_at: datetime


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def normalise_whatsapp_code(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw).upper()


def parse_link_command(text: str | None) -> str | None:
    """The code of a WhatsApp "LINK <code>" message, or None if it is not one."""
    match = _WA_LINK.match(text or "")
    return normalise_whatsapp_code(match.group(1)) if match else None


def sender_hash(channel: str, external_id: str | int) -> str:
    """A keyed hash of a sender (chat id or number) for rate limiting: not reversible by a
    dictionary of phone numbers without the vault key."""
    ring = vault.keyring()
    key = _sender_key(ring.keys[ring.active_id])
    return hmac.new(key, f"{channel}:{external_id}".encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _sender_key(vault_key: bytes) -> bytes:
    return hashlib.sha256(b"vopix-channel-sender:" + vault_key).digest()


_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp"}


def _describe(channel: str, display_name: str, external_id: str) -> str:
    """'Telegram (@name)', 'WhatsApp (…4321)': enough to recognise the chat in an alert."""
    shown = display_name or (f"…{external_id[-4:]}" if channel == "whatsapp" and external_id else "")
    return f"{_NAMES[channel]} ({shown})" if shown else _NAMES[channel]


def _view(link: ChannelLink) -> LinkView:
    return LinkView(link.channel, link.external_id, link.display_name, link.linked_at, link.last_inbound_at)


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")


def create_code(user_id: int, channel: str, now: datetime | None = None) -> NewCode:
    """A fresh one-time code; earlier unused codes of this person for this channel stop working."""
    _check_channel(channel)
    moment = now or utcnow()
    if channel == "telegram":
        code = secrets.token_urlsafe(24)  # 32 characters of A-Za-z0-9_-
    else:
        code = "".join(secrets.choice(_WA_ALPHABET) for _ in range(_WA_CODE_LEN))
    with session_scope() as s:
        s.exec(  # type: ignore[call-overload]
            delete(ChannelLinkCode).where(
                col(ChannelLinkCode.user_id) == user_id,
                col(ChannelLinkCode.channel) == channel,
                col(ChannelLinkCode.used_at).is_(None),
            )
        )
        s.add(
            ChannelLinkCode(
                user_id=user_id,
                channel=channel,
                code_hash=hash_code(code),
                created_at=moment,
                expires_at=moment + CODE_TTL,
            )
        )
    return NewCode(code, moment + CODE_TTL)


def get_link(user_id: int, channel: str) -> LinkView | None:
    with session_scope() as s:
        link = s.exec(
            select(ChannelLink).where(ChannelLink.user_id == user_id, ChannelLink.channel == channel)
        ).first()
        return _view(link) if link else None


def links_for(user_id: int) -> dict[str, LinkView]:
    with session_scope() as s:
        rows = s.exec(select(ChannelLink).where(ChannelLink.user_id == user_id)).all()
        return {r.channel: _view(r) for r in rows}


def find_user(channel: str, external_id: str | int) -> int | None:
    """The account a chat or number is linked to."""
    with session_scope() as s:
        return s.exec(
            select(ChannelLink.user_id).where(
                ChannelLink.channel == channel, ChannelLink.external_id == str(external_id)
            )
        ).first()


def failed_attempts(s: Session, sender: str, now: datetime) -> int:
    return int(
        s.exec(
            select(func.count()).where(
                InboundEvent.sender_hash == sender,
                InboundEvent.outcome == "link_refused",
                col(InboundEvent.received_at) > now - CODE_TTL,
            )
        ).one()
    )


def redeem(
    channel: str,
    code: str,
    external_id: str | int,
    display_name: str = "",
    *,
    now: datetime | None = None,
) -> int:
    """Link the chat/number to the code's account and return the user id.

    Raises LinkRefused(reason) and changes nothing when the code is unknown, expired or used,
    when this chat is linked to another account, or the account already has another chat.
    """
    _check_channel(channel)
    moment = now or utcnow()
    external = str(external_id)
    with session_scope() as s:
        if failed_attempts(s, sender_hash(channel, external), moment) >= MAX_FAILED_ATTEMPTS:
            raise LinkRefused(LinkReply.THROTTLED)
        row = s.exec(
            select(ChannelLinkCode).where(
                ChannelLinkCode.code_hash == hash_code(code), ChannelLinkCode.channel == channel
            )
        ).first()
        if row is None:
            raise LinkRefused(LinkReply.UNKNOWN)
        if row.used_at is not None:
            raise LinkRefused(LinkReply.USED)
        if row.expires_at <= moment:
            raise LinkRefused(LinkReply.EXPIRED)
        existing = s.exec(
            select(ChannelLink).where(ChannelLink.channel == channel, ChannelLink.external_id == external)
        ).first()
        if existing is not None:
            same = existing.user_id == row.user_id
            raise LinkRefused(LinkReply.SAME_ACCOUNT if same else LinkReply.OTHER_ACCOUNT)
        mine = s.exec(
            select(ChannelLink).where(ChannelLink.user_id == row.user_id, ChannelLink.channel == channel)
        ).first()
        if mine is not None:
            raise LinkRefused(LinkReply.ACCOUNT_HAS_OTHER)
        row.used_at = moment
        s.add(row)
        # Before the new link exists: the chats already linked hear of it, the new one has
        # just been told "Linked!". A refusal below rolls the alert back with the rest.
        security_alerts.raise_alert(
            s, row.user_id, security_alerts.AlertKind.CHANNEL_LINKED, device=_NAMES[channel],
            detail=_describe(channel, display_name[:120], external),
        )
        s.add(
            ChannelLink(
                user_id=row.user_id,
                channel=channel,
                external_id=external,
                display_name=display_name[:120],
                linked_at=moment,
                last_inbound_at=moment if channel == "whatsapp" else None,
            )
        )
        try:
            s.flush()
        except IntegrityError:  # a concurrent redeem of another code won the race
            raise LinkRefused(LinkReply.OTHER_ACCOUNT) from None
        return row.user_id


def unlink(user_id: int, channel: str, *, ip: str = "", device: str = "") -> bool:
    """Forget the linked chat or number (the id itself is deleted, not hidden); the alert
    goes to the mail and the other linked chat, not to the one unlinked."""
    with session_scope() as s:
        link = s.exec(
            select(ChannelLink).where(ChannelLink.user_id == user_id, ChannelLink.channel == channel)
        ).first()
        detail = _describe(channel, link.display_name, link.external_id) if link else ""
        n = s.exec(  # type: ignore[call-overload]
            delete(ChannelLink).where(
                col(ChannelLink.user_id) == user_id, col(ChannelLink.channel) == channel
            )
        ).rowcount
        if n:
            security_alerts.raise_alert(
                s, user_id, security_alerts.AlertKind.CHANNEL_UNLINKED, ip=ip, device=device, detail=detail
            )
        s.exec(  # type: ignore[call-overload]
            delete(ChannelLinkCode).where(
                col(ChannelLinkCode.user_id) == user_id, col(ChannelLinkCode.channel) == channel
            )
        )
        return bool(n)


def touch_inbound(channel: str, external_id: str, at: datetime) -> None:
    """Remember the person's latest message time (WhatsApp's 24-hour window starts there)."""
    with session_scope() as s:
        link = s.exec(
            select(ChannelLink).where(ChannelLink.channel == channel, ChannelLink.external_id == external_id)
        ).first()
        if link is not None and (link.last_inbound_at is None or link.last_inbound_at < at):
            link.last_inbound_at = at
            s.add(link)


def purge_codes(now: datetime) -> int:
    """Scheduled: drop codes that expired or were used (every 15 minutes)."""
    with session_scope() as s:
        n = s.exec(  # type: ignore[call-overload]
            delete(ChannelLinkCode).where(
                (col(ChannelLinkCode.expires_at) < now) | col(ChannelLinkCode.used_at).is_not(None)
            )
        ).rowcount
        return int(n or 0)
