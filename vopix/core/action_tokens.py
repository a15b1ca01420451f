"""Single-use links (password reset, email confirmation, undoing an email change): a random
token in the link, only its SHA-256 stored, one purpose, an expiry, used at most once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from vopix.core.clock import utcnow
from vopix.core.kinds import TokenPurpose
from vopix.core.passwords import sha256_hex
from vopix.db import session_scope
from vopix.models import ActionToken

MAX_TOKEN_CHARS = 200


class TokenInvalid(Exception):
    """`reason`: unknown | used | expired — each gets its own clear page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Redeemed:
    user_id: int
    data: str


def issue(s: Session, user_id: int, purpose: TokenPurpose, ttl: timedelta, data: str = "") -> str:
    """A new token for `purpose`, in the caller's transaction; the raw token (for the link)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    s.add(ActionToken(user_id=user_id, purpose=purpose, token_hash=sha256_hex(token), data=data[:400],
                      created_at=now, expires_at=now + ttl))
    return token


def peek(token: str, purpose: TokenPurpose) -> Redeemed:
    """What a token would do, without using it (a page showing the form); TokenInvalid."""
    with session_scope() as s:
        row = _find(s, token, purpose)
        return Redeemed(row.user_id, row.data)


def redeem(s: Session, token: str, purpose: TokenPurpose) -> Redeemed:
    """Use the token, in the caller's transaction (the change it allows commits with it). A
    conditional UPDATE: two clicks at once use it once."""
    row = _find(s, token, purpose)
    used = s.execute(
        update(ActionToken)
        .where(col(ActionToken.id) == row.id, col(ActionToken.used_at).is_(None))
        .values(used_at=utcnow())
    ).rowcount  # type: ignore[attr-defined]
    if not used:
        raise TokenInvalid("used")
    return Redeemed(row.user_id, row.data)


def revoke_all(s: Session, user_id: int, purpose: TokenPurpose) -> None:
    """Earlier links of this purpose stop working (a new reset mail supersedes the last)."""
    s.execute(
        update(ActionToken)
        .where(col(ActionToken.user_id) == user_id, col(ActionToken.purpose) == purpose,
               col(ActionToken.used_at).is_(None))
        .values(used_at=utcnow())
    )


def _find(s: Session, token: str, purpose: TokenPurpose) -> ActionToken:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenInvalid("unknown")
    row = s.exec(
        select(ActionToken).where(ActionToken.token_hash == sha256_hex(token), ActionToken.purpose == purpose)
    ).first()
    if row is None:
        raise TokenInvalid("unknown")
    if row.used_at is not None:
        raise TokenInvalid("used")
    if row.expires_at <= utcnow():
        raise TokenInvalid("expired")
    return row


def purge(now: object) -> int:
    """Scheduled: tokens a day past their expiry."""
    with session_scope() as s:
        n = s.execute(delete(ActionToken).where(col(ActionToken.expires_at) < utcnow() - timedelta(days=1)))
        return int(n.rowcount or 0)  # type: ignore[attr-defined]
