"""Security alerts (P12): what happened to a person's account, said by email (always: it
cannot be turned off) and in the app, with when (in their time zone), from where, and a
"this wasn't me" link that signs out every session and starts a password reset.

`raise_alert(s, ...)` runs in the transaction of the event: the mail is queued with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from vopix.core import action_tokens, clock, support
from vopix.core.clock import utcnow, zone_or_utc
from vopix.core.kinds import MailKind, NoticeKind, TokenPurpose
from vopix.core.mail import outbox
from vopix.models import AgentProfile, Notice, User

NOT_ME_TTL = timedelta(days=7)


class AlertKind(StrEnum):
    NEW_SIGN_IN = "new_sign_in"
    PASSWORD_CHANGED = "password_changed"
    EMAIL_CHANGED = "email_changed"
    TOKEN_REPLAYED = "token_replayed"
    CHANNEL_LINKED = "channel_linked"
    CHANNEL_UNLINKED = "channel_unlinked"
    INTEGRATION_CONNECTED = "integration_connected"
    INTEGRATION_DISCONNECTED = "integration_disconnected"
    INTEGRATION_NEEDS_RECONNECT = "integration_needs_reconnect"


# kind -> (short subject, the sentence that says what happened)
WORDING: dict[AlertKind, tuple[str, str]] = {
    AlertKind.NEW_SIGN_IN: (
        "new sign-in", "Your account was signed in to from a device or network it had not used before."
    ),
    AlertKind.PASSWORD_CHANGED: ("password changed", "The password of your account was changed."),
    AlertKind.EMAIL_CHANGED: ("email address changed", "The email address of your account was changed."),
    AlertKind.TOKEN_REPLAYED: (
        "session signed out",
        "An old copy of a login cookie of your account was used, so we signed that session out.",
    ),
    AlertKind.CHANNEL_LINKED: ("chat linked", "A chat was linked to your agent: {detail}."),
    AlertKind.CHANNEL_UNLINKED: ("chat unlinked", "A chat was unlinked from your agent: {detail}."),
    AlertKind.INTEGRATION_CONNECTED: (
        "service connected", "A service was connected to your agent: {detail}."
    ),
    AlertKind.INTEGRATION_DISCONNECTED: (
        "service disconnected", "A service was disconnected from your agent: {detail}."
    ),
    AlertKind.INTEGRATION_NEEDS_RECONNECT: (
        "reconnect a service", "A connected service no longer accepts your agent's access: {detail}. "
        "Reconnect it on the Integrations page to use it again."
    ),
}


@dataclass(frozen=True)
class Alert:
    user_id: int
    kind: AlertKind
    sentence: str
    when: str
    device: str
    ip: str


# Other deliveries of an alert (the person's linked Telegram/WhatsApp chat): registered by
# the channels at install, called after the alert is queued.
_sinks: list[Callable[[Session, Alert], None]] = []


def on_alert(fn: Callable[[Session, Alert], None]) -> None:
    if fn not in _sinks:
        _sinks.append(fn)


def approximate_ip(ip: str) -> str:
    """Enough to recognise a network, not a household: 203.0.113.x, 2001:db8:1:2::/64."""
    import ipaddress

    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return "an unknown address"
    if addr.version == 4:
        return ".".join(str(addr).split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{addr}/64", strict=False))


def local_time(s: Session, user_id: int, moment: datetime) -> str:
    """The pages' format plus the zone's name: a mail read elsewhere says which zone it means."""
    profile = s.get(AgentProfile, user_id)
    zone = str(zone_or_utc(profile.timezone if profile else None))
    return f"{clock.local_time(moment, zone)} ({zone})"


def raise_alert(
    s: Session,
    user_id: int,
    kind: AlertKind,
    *,
    ip: str = "",
    device: str = "",
    detail: str = "",
    to: str | None = None,
    template: str = "security_alert",
    action_url: str | None = None,
    **params: str,
) -> Alert | None:
    """Queue the alert mail (to the account's address, or `to`: an email change alerts the
    old one), add the in-app notice and hand it to the other deliveries. An alert that has its
    own mail (the email change: `template` with an undo link as `action_url` and its `params`)
    is still one mail."""
    user = s.get(User, user_id)
    if user is None:
        return None
    now = utcnow()
    subject, sentence = WORDING[kind]
    sentence = sentence.format(detail=detail or "unknown")
    alert = Alert(user_id, kind, sentence, local_time(s, user_id, now), device or "an unknown device",
                  approximate_ip(ip) if ip else "an unknown address")
    if action_url is None:
        not_me = action_tokens.issue(s, user_id, TokenPurpose.NOT_ME, NOT_ME_TTL)
        action_url = outbox.link(f"/not-me?token={not_me}")
    profile = s.get(AgentProfile, user_id)
    language = (profile.language if profile else "") or "en"
    outbox.enqueue(
        s, to=to or user.email, kind=MailKind.SECURITY, template=template, user_id=user_id,
        language=language, what=subject, what_sentence=sentence, when=alert.when, device=alert.device,
        ip=alert.ip, action_url=action_url, **params,
    )
    s.add(Notice(user_id=user_id, key=f"security:{kind}:{now.isoformat()}", kind=NoticeKind.SECURITY,
                 level="warning", text=f"{sentence} ({alert.when}, {alert.device}, {alert.ip}) If that was "
                 f"not you, use the link in the mail we sent you.{support.contact_sentence()}",
                 link="/account"))
    for sink in list(_sinks):
        sink(s, alert)
    return alert
