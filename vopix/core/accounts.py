"""Sign-up, login checks with throttling, and account changes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from vopix.core import account_standing, action_tokens, security_alerts, sessions
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind, TokenPurpose
from vopix.core.mail import outbox
from vopix.core.mail.addresses import BadAddress
from vopix.core.passwords import (
    PasswordRejected,
    check_password_rules,
    hash_password,
    sha256_hex,
    verify_password,
)
from vopix.core.security_alerts import AlertKind
from vopix.db import session_scope
from vopix.models import AgentProfile, LoginAttempt, LoginNonce, User
from vopix.settings import get_settings

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LOGIN_FAILED = "Email or password is incorrect."
NONCE_SECONDS = 60


class AccountError(ValueError):
    """A refusal whose message is safe to show to the person."""


class LoginThrottled(AccountError):
    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, (retry_after_s + 59) // 60)
        super().__init__(
            f"Too many failed attempts for this account. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}."
        )
        self.retry_after_s = retry_after_s


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower()
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise AccountError("Enter a valid email address, like name@example.com.")
    return value


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    marketing_opt_in: bool
    subscription_status: str
    created_at: datetime


def _view(user: User) -> UserView:
    assert user.id is not None
    return UserView(
        id=user.id,
        email=user.email,
        marketing_opt_in=user.marketing_opt_in,
        subscription_status=user.subscription_status,
        created_at=user.created_at,
    )


def sign_up(email: str, password: str, *, age_confirmed: bool, marketing_opt_in: bool = False) -> UserView:
    if not age_confirmed:
        raise AccountError("You must confirm that you are 16 or older to use VOPIX.")
    normalized = normalize_email(email)
    try:
        check_password_rules(password)
    except PasswordRejected as exc:
        raise AccountError(str(exc)) from exc
    password_hash = hash_password(password)
    with session_scope() as s:
        if s.exec(select(User.id).where(User.email == normalized)).first() is not None:
            raise AccountError("An account with this email already exists. Log in instead.")
        now = utcnow()
        user = User(
            email=normalized,
            password_hash=password_hash,
            age_confirmed_at=now,
            marketing_opt_in=bool(marketing_opt_in),
        )
        s.add(user)
        s.flush()
        from vopix.core import hooks

        hooks.run_user_created(s, user.id)  # type: ignore[arg-type]
        return _view(user)


def get_user(user_id: int) -> UserView | None:
    with session_scope() as s:
        user = s.get(User, user_id)
        return _view(user) if user else None


def _throttle_check(s: Session, email: str, now: datetime, *, besides: int | None = None) -> None:
    """LoginThrottled when the email is locked; `besides` leaves one attempt row out."""
    cfg = get_settings()
    window_start = now - timedelta(minutes=cfg.login_window_minutes)
    query = select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.email == email, LoginAttempt.at >= window_start
    )
    if besides is not None:
        query = query.where(LoginAttempt.id != besides)
    failures = s.exec(query).one()
    count, last = failures
    if count >= cfg.login_max_failures and last is not None:
        # func.max keeps the column type, so `last` comes back as aware UTC.
        until = last + timedelta(minutes=cfg.login_lockout_minutes)
        if until > now:
            raise LoginThrottled(int((until - now).total_seconds()))


def _counted_check(email: str, password: str, ip: str) -> User | None:
    """The one throttled password check, for logins and for re-checks inside a session alike:
    the same counter and lockout (LoginThrottled) per email. Returns the matching user."""
    now = utcnow()
    with session_scope() as s:
        _throttle_check(s, email, now)
        user = s.exec(select(User).where(User.email == email)).first()
        # Counted as a failure before the slow password check, then the lock is checked again
        # with every other attempt in flight visible: parallel guesses cannot all slip through
        # (one refused here still counts: it was a guess).
        attempt = LoginAttempt(email=email, ip=ip[:64], at=now)
        s.add(attempt)
        s.flush()
        attempt_id = attempt.id
    with session_scope() as s:
        _throttle_check(s, email, now, besides=attempt_id)
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None:
        return None
    with session_scope() as s:
        s.exec(delete(LoginAttempt).where(LoginAttempt.email == email))  # type: ignore[call-overload]
    return user


def check_credentials(email: str, password: str, *, ip: str = "") -> UserView:
    """The password check shared by every login path. Same answer for unknown email and wrong
    password, after the same bcrypt work; repeated failures lock the email for a while."""
    try:
        normalized = normalize_email(email)
    except AccountError:
        verify_password(password, None)
        raise AccountError(LOGIN_FAILED) from None
    user = _counted_check(normalized, password, ip)
    if user is None:
        raise AccountError(LOGIN_FAILED)
    # Told only after the right password: a guess learns nothing about the account's standing.
    refused = account_standing.refusal(user)
    if refused:
        raise AccountError(refused)
    return _view(user)


def verify_current_password(user_id: int, password: str, *, ip: str = "") -> User:
    """Re-check the password of a logged-in person before a sensitive change. Every such check
    goes through here: guesses count with the login throttle and lock it the same way, so a
    stolen session cannot guess its way to the account (LoginThrottled, as at login)."""
    user = get_user(user_id)
    if user is None:
        raise AccountError("Account not found.")
    checked = _counted_check(user.email, password, ip)
    if checked is None or checked.id != user_id:
        raise AccountError("Your current password is not correct.")
    return checked


def issue_login_nonce(user_id: int) -> str:
    """A one-time code the browser trades at POST /api/auth/session for the cookie."""
    nonce = secrets.token_urlsafe(32)
    with session_scope() as s:
        s.add(
            LoginNonce(
                user_id=user_id,
                nonce_hash=sha256_hex(nonce),
                expires_at=utcnow() + timedelta(seconds=NONCE_SECONDS),
            )
        )
    return nonce


def redeem_login_nonce(nonce: str) -> int | None:
    if not nonce or len(nonce) > 128:
        return None
    now = utcnow()
    with session_scope() as s:
        row = s.exec(select(LoginNonce).where(LoginNonce.nonce_hash == sha256_hex(nonce))).first()
        if row is None:
            return None
        s.delete(row)
        s.exec(delete(LoginNonce).where(LoginNonce.expires_at < now))  # type: ignore[call-overload]
        return row.user_id if row.expires_at > now else None


@dataclass(frozen=True)
class AccountChange:
    user: UserView
    sessions_ended: int  # the account's other logins, signed out by the change


@dataclass(frozen=True)
class EmailChangeRequested:
    user: UserView  # unchanged until the new address confirms
    new_email: str  # "" when it was already the account's address


EMAIL_CONFIRM_TTL = timedelta(hours=24)


def _changed(
    verified: User, kind: AlertKind, change: Callable[[Session, User], None], keep_session_id: int | None,
    *, ip: str, device: str,
) -> AccountChange:
    """Apply `change` to the account verified a moment ago, raise the security alert (P12:
    mail, notice, linked chat) in the same transaction, then sign out every other session:
    whoever made the change may be the only one who should still be in."""
    assert verified.id is not None
    user_id = verified.id
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            raise AccountError("Account not found.")
        if user.password_hash != verified.password_hash or user.email != verified.email:
            raise AccountError("Your account changed meanwhile. Try again.")
        change(s, user)
        user.updated_at = utcnow()
        s.add(user)
        security_alerts.raise_alert(s, user_id, kind, ip=ip, device=device)
        view = _view(user)
    ended = sessions.end_other_sessions(user_id, keep_session_id)
    return AccountChange(view, ended)


def change_password(
    user_id: int, current: str, new: str, *, keep_session_id: int | None = None, ip: str = "",
    device: str = "",
) -> AccountChange:
    """Set a new password after a throttled check of the current one; other sessions end."""
    if current == new:
        raise AccountError("Choose a password different from your current one.")
    try:
        check_password_rules(new)
    except PasswordRejected as exc:
        raise AccountError(str(exc)) from exc
    verified = verify_current_password(user_id, current, ip=ip)
    new_hash = hash_password(new)

    def apply(_s: Session, user: User) -> None:
        user.password_hash = new_hash

    return _changed(verified, AlertKind.PASSWORD_CHANGED, apply, keep_session_id, ip=ip, device=device)


def email_taken(s: Session, email: str, *, besides: int) -> bool:
    found = s.exec(select(User.id).where(User.email == email, User.id != besides)).first()
    return found is not None


def change_email(user_id: int, password: str, new_email: str, *, ip: str = "") -> EmailChangeRequested:
    """Ask the new address to confirm an email change, after a throttled password check.
    Nothing changes yet: the mail's link (email_change.confirm) moves the account."""
    normalized = normalize_email(new_email)
    verified = verify_current_password(user_id, password, ip=ip)
    if normalized == verified.email:
        return EmailChangeRequested(_view(verified), "")
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            raise AccountError("Account not found.")
        if email_taken(s, normalized, besides=user_id):
            raise AccountError("Another account already uses this email.")
        # One pending change at a time: an earlier link stops working.
        action_tokens.revoke_all(s, user_id, TokenPurpose.EMAIL_CONFIRM)
        token = action_tokens.issue(
            s, user_id, TokenPurpose.EMAIL_CONFIRM, EMAIL_CONFIRM_TTL, data=normalized
        )
        try:
            outbox.enqueue(
                s, to=normalized, kind=MailKind.EMAIL_CONFIRM, template="email_confirm", user_id=user_id,
                language=_language(s, user_id), old_email=user.email, new_email=normalized,
                action_url=outbox.link(f"/confirm-email?token={token}"),
            )
        except BadAddress as exc:
            raise AccountError(str(exc)) from exc
        return EmailChangeRequested(_view(user), normalized)


def _language(s: Session, user_id: int) -> str:
    profile = s.get(AgentProfile, user_id)
    return (profile.language if profile else "") or "en"


def delete_account(user_id: int, reason: str = "operator command") -> bool:
    """Delete the account at once, every step of a deletion included (sessions, chats,
    integrations, Stripe) and its purge: privacy/purge.delete_now. False: no such account."""
    from vopix.core.privacy import purge  # deletion imports this module

    return purge.delete_now(user_id, reason)


def find_user_id(email: str) -> int | None:
    with session_scope() as s:
        return s.exec(select(User.id).where(User.email == normalize_email(email))).first()
