"""The two links of an email change: the new address confirms it (/confirm-email), then the
old address can take it back for 7 days (/undo-email). accounts.change_email sends the first.

A wrong, used or expired link, or an address another account took meanwhile, is an
EmailLinkError whose message is shown on the page; it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from vopix.core import action_tokens, password_reset, security_alerts, sessions, support
from vopix.core.accounts import AccountError, email_taken
from vopix.core.clock import utcnow
from vopix.core.kinds import TokenPurpose
from vopix.core.mail import outbox
from vopix.core.security_alerts import AlertKind
from vopix.db import session_scope
from vopix.models import User

UNDO_TTL = timedelta(days=7)
_REASONS = {
    "unknown": "This link is not valid. Copy the whole link from the mail, or ask for a new one on "
    "your Account page.",
    "used": "This link was already used; each link works once.",
    "expired": "This link has expired. Ask for a new one on your Account page.",
}


class EmailLinkError(AccountError):
    """Why a link did nothing, in words for the page."""


@dataclass(frozen=True)
class EmailLinkDone:
    user_id: int
    email: str  # the account's address now
    other_email: str  # the address it had before this link
    sessions_ended: int


def _redeem(s: Session, token: str, purpose: TokenPurpose) -> tuple[User, str]:
    try:
        redeemed = action_tokens.redeem(s, token, purpose)
    except action_tokens.TokenInvalid as exc:
        raise EmailLinkError(_REASONS.get(exc.reason, _REASONS["unknown"])) from None
    user = s.get(User, redeemed.user_id)
    if user is None:
        raise EmailLinkError(_REASONS["unknown"])
    return user, redeemed.data


def _move(s: Session, user: User, address: str, refusal: str) -> None:
    """Set the address unless another account has it (checked, and held by the unique index
    against a parallel sign-up)."""
    assert user.id is not None
    if email_taken(s, address, besides=user.id):
        raise EmailLinkError(refusal)
    user.email, user.updated_at = address, utcnow()
    s.add(user)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError:
        raise EmailLinkError(refusal) from None


def confirm(
    token: str, *, keep_session_id: int | None = None, ip: str = "", device: str = ""
) -> EmailLinkDone:
    """Move the account to the confirmed address, sign out every other session and alert the
    old address (one mail, with the undo link: P12)."""
    with session_scope() as s:
        user, new = _redeem(s, token, TokenPurpose.EMAIL_CONFIRM)
        assert user.id is not None
        old = user.email
        if new == old:
            raise EmailLinkError(f"Your account already uses {new}.")
        _move(s, user, new, f"Another account started using {new} in the meantime, so your account "
                            f"keeps {old}.")
        action_tokens.revoke_all(s, user.id, TokenPurpose.EMAIL_CONFIRM)
        undo = action_tokens.issue(s, user.id, TokenPurpose.EMAIL_UNDO, UNDO_TTL, data=old)
        security_alerts.raise_alert(
            s, user.id, AlertKind.EMAIL_CHANGED, ip=ip, device=device, to=old, template="email_changed",
            action_url=outbox.link(f"/undo-email?token={undo}"), old_email=old, new_email=new,
        )
        user_id = user.id
    ended = sessions.end_other_sessions(user_id, keep_session_id)
    return EmailLinkDone(user_id, new, old, ended)


def undo_preview(token: str) -> str:
    """The address an undo link would put back (its page shows it before the button)."""
    try:
        return action_tokens.peek(token, TokenPurpose.EMAIL_UNDO).data
    except action_tokens.TokenInvalid as exc:
        raise EmailLinkError(_REASONS.get(exc.reason, _REASONS["unknown"])) from None


def undo(token: str) -> EmailLinkDone:
    """Put the old address back, sign out every session (whoever changed it may be in) and
    mail a password reset link to the restored address: they may know the password too."""
    with session_scope() as s:
        user, old = _redeem(s, token, TokenPurpose.EMAIL_UNDO)
        assert user.id is not None
        current = user.email
        if current != old:
            _move(s, user, old, f"Another account uses {old} now, so it cannot be put back."
                                f"{support.contact_sentence()}")
        # Nothing pending may move the account again.
        action_tokens.revoke_all(s, user.id, TokenPurpose.EMAIL_CONFIRM)
        action_tokens.revoke_all(s, user.id, TokenPurpose.EMAIL_UNDO)
        ended = password_reset.end_all_sessions(s, user.id, "email_undo")
        password_reset.send_link(s, user)
        user_id = user.id
    return EmailLinkDone(user_id, old, current, ended)
