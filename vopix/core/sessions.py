"""Login sessions carried by one opaque, rotating refresh token in an HttpOnly cookie.

Only SHA-256 hashes of tokens are stored. Rotation keeps the old hash: if it is
presented again after a short grace period (two tabs refreshing at once), the
whole session is revoked, because someone else holds a copy of it.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vopix.core import account_standing, live, security_alerts
from vopix.core.clock import utcnow
from vopix.core.passwords import sha256_hex
from vopix.db import session_scope
from vopix.models import AuthSession, KnownSignIn, RefreshToken, User
from vopix.settings import get_settings

COOKIE_NAME = "vopix_session"
TOUCH_EVERY = timedelta(seconds=60)
SOCKET_GRACE = timedelta(hours=12)


@dataclass(frozen=True)
class SessionInfo:
    session_id: int
    user_id: int
    expires_at: datetime


@dataclass(frozen=True)
class SessionRow:
    id: int
    device: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


@dataclass(frozen=True)
class RefreshResult:
    info: SessionInfo
    new_token: str | None  # set when the cookie must be replaced


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _lifetime() -> timedelta:
    return timedelta(days=get_settings().session_days)


def start_session(user_id: int, *, ip: str = "", user_agent: str = "") -> tuple[str, SessionInfo]:
    now = utcnow()
    token = _new_token()
    with session_scope() as s:
        row = AuthSession(
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + _lifetime(),
            ip=ip[:64],
            user_agent=user_agent[:400],
        )
        s.add(row)
        s.flush()
        assert row.id is not None
        s.add(RefreshToken(session_id=row.id, token_hash=sha256_hex(token), created_at=now))
        _note_sign_in(s, user_id, ip, user_agent, now)
        return token, SessionInfo(row.id, user_id, row.expires_at)


def network_of(ip: str) -> str:
    """The network a sign-in came from, as Mastodon compares them: the /16 of an IPv4 address,
    the /64 of an IPv6 one; '' when the address is unknown."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    prefix = 16 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def _note_sign_in(s: Session, user_id: int, ip: str, user_agent: str, now: datetime) -> None:
    """Remember the sign-in's network and device; a new one raises an alert (P12), once. The
    account's first sign-in (its sign-up) is only recorded: there is nothing to compare with."""
    known = {
        (k.kind, k.value): k for k in s.exec(select(KnownSignIn).where(KnownSignIn.user_id == user_id)).all()
    }
    device = describe_user_agent(user_agent)
    new = False
    for kind, value in (("network", network_of(ip)), ("device", device)):
        if not value:
            continue
        seen = known.get((kind, value))
        if seen is not None:
            seen.last_seen_at = now
            s.add(seen)
            continue
        try:
            # A savepoint: a parallel sign-in that recorded the same one first has alerted.
            with s.begin_nested():
                s.add(KnownSignIn(user_id=user_id, kind=kind, value=value, first_seen_at=now,
                                  last_seen_at=now))
            new = True
        except IntegrityError:
            pass
    if new and known:
        security_alerts.raise_alert(s, user_id, security_alerts.AlertKind.NEW_SIGN_IN, ip=ip, device=device)


def _revoke(s: Session, row: AuthSession, reason: str, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_reason = reason
        s.add(row)
        live.changed(s, row.user_id, live.SESSION)  # its open tabs go to the login page
        if reason == "token_reuse":
            # A security alert (P12): someone replayed an old copy of this login's cookie.
            security_alerts.raise_alert(
                s, row.user_id, security_alerts.AlertKind.TOKEN_REPLAYED, ip=row.ip,
                device=describe_user_agent(row.user_agent),
            )


def _lookup(
    s: Session, token: str, now: datetime, *, proven_on_open_socket: bool = False
) -> tuple[RefreshToken, AuthSession] | None:
    """The token's row and live session; a replayed rotated token revokes its session.

    An open socket keeps the cookie of its handshake, so a socket that proved this token
    before it was rotated (`proven_on_open_socket`) may go on using it for a while, without
    the revocation a replay triggers. Anything else presenting a rotated token (the refresh
    route, a route, a new socket's handshake) after the reuse grace is a replay.
    """
    if not token or len(token) > 200:
        return None
    tok = s.exec(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(token))).first()
    if tok is None:
        return None
    row = s.get(AuthSession, tok.session_id)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = s.get(User, row.user_id)
    if user is None or account_standing.standing(user) != "active":
        return None  # suspended or being deleted: its sessions ended, and none resolves
    if tok.rotated_at is not None:
        if proven_on_open_socket:
            return (tok, row) if now - tok.rotated_at <= SOCKET_GRACE else None
        grace = timedelta(seconds=get_settings().token_reuse_grace_seconds)
        if now - tok.rotated_at > grace:
            _revoke(s, row, "token_reuse", now)
            return None
    return tok, row


def _touch(s: Session, row: AuthSession, now: datetime, ip: str, user_agent: str) -> None:
    if now - row.last_seen_at >= TOUCH_EVERY or (ip and ip[:64] != row.ip):
        row.last_seen_at = now
        if ip:
            row.ip = ip[:64]
        if user_agent:
            row.user_agent = user_agent[:400]
        s.add(row)


def resolve(
    token: str, *, ip: str = "", user_agent: str = "", proven_on_open_socket: bool = False
) -> SessionInfo | None:
    """Who this cookie belongs to, if anyone. `proven_on_open_socket`: the caller is a socket
    whose earlier event already proved this very token (see _lookup)."""
    now = utcnow()
    with session_scope() as s:
        found = _lookup(s, token, now, proven_on_open_socket=proven_on_open_socket)
        if found is None:
            return None
        _, row = found
        _touch(s, row, now, ip, user_agent)
        assert row.id is not None
        return SessionInfo(row.id, row.user_id, row.expires_at)


def refresh(token: str, *, ip: str = "", user_agent: str = "") -> RefreshResult | None:
    """Rotate the token once it is older than VOPIX_TOKEN_ROTATE_SECONDS."""
    now = utcnow()
    with session_scope() as s:
        found = _lookup(s, token, now)
        if found is None:
            return None
        tok, row = found
        _touch(s, row, now, ip, user_agent)
        assert row.id is not None
        new_token = None
        age = (now - tok.created_at).total_seconds()
        if tok.rotated_at is None and age >= get_settings().token_rotate_seconds:
            tok.rotated_at = now
            s.add(tok)
            new_token = _new_token()
            s.add(RefreshToken(session_id=row.id, token_hash=sha256_hex(new_token), created_at=now))
            row.expires_at = now + _lifetime()
            s.add(row)
        return RefreshResult(SessionInfo(row.id, row.user_id, row.expires_at), new_token)


def is_active(session_id: int, user_id: int) -> bool:
    """Is this login of `user_id` still on: not revoked, not expired, and its account neither
    suspended nor being deleted. One query over two primary keys (a tab's session watcher asks
    it every couple of seconds)."""
    now = utcnow()
    with session_scope() as s:
        found = s.exec(
            select(AuthSession.id)
            .join(User, col(User.id) == AuthSession.user_id)
            .where(
                AuthSession.id == session_id,
                AuthSession.user_id == user_id,
                col(AuthSession.revoked_at).is_(None),
                AuthSession.expires_at > now,
                account_standing.active_user_filter(),
            )
        ).first()
        return found is not None


def end_session(session_id: int, *, user_id: int, reason: str = "logout") -> bool:
    """End one of the user's own sessions; another user's id changes nothing."""
    with session_scope() as s:
        row = s.get(AuthSession, session_id)
        if row is None or row.user_id != user_id or row.revoked_at is not None:
            return False
        _revoke(s, row, reason, utcnow())
        return True


def end_other_sessions(user_id: int, keep_session_id: int | None) -> int:
    now = utcnow()
    with session_scope() as s:
        rows = s.exec(
            select(AuthSession).where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))
        ).all()
        ended = 0
        for row in rows:
            if row.id != keep_session_id:
                _revoke(s, row, "ended_by_user", now)
                ended += 1
        return ended


def list_sessions(user_id: int, current_session_id: int | None) -> list[SessionRow]:
    now = utcnow()
    with session_scope() as s:
        rows = s.exec(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                col(AuthSession.revoked_at).is_(None),
                AuthSession.expires_at > now,
            )
            .order_by(col(AuthSession.last_seen_at).desc())
        ).all()
        return [
            SessionRow(
                id=r.id or 0,
                device=describe_user_agent(r.user_agent),
                ip=r.ip,
                created_at=r.created_at,
                last_seen_at=r.last_seen_at,
                current=r.id == current_session_id,
            )
            for r in rows
        ]


_BROWSERS = [
    ("Edge", r"Edg/"),
    ("Opera", r"OPR/"),
    ("Chrome", r"(?:Headless)?Chrom(?:e|ium)/"),
    ("Firefox", r"Firefox/"),
    ("Safari", r"Version/.*Safari/"),
    ("curl", r"^curl/"),
]
_SYSTEMS = [
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
]


def describe_user_agent(user_agent: str) -> str:
    """'Chrome on Linux' from a User-Agent header; 'Unknown device' when it says nothing."""
    browser = next((name for name, rx in _BROWSERS if re.search(rx, user_agent)), None)
    system = next((name for name, rx in _SYSTEMS if re.search(rx, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def token_from_cookie_header(cookie_header: str | None) -> str:
    """The session token in a Cookie header, or ''."""
    if not cookie_header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:
        return ""
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel else ""
