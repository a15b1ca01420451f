"""Password reset (P16: reset, not reveal) and the "this wasn't me" link of security alerts.

Asking for a reset gets one answer whatever the address: a mail goes only to an existing
account, at most ACCOUNT_LIMIT an hour, and each new link revokes the earlier ones. The link
works once for RESET_TTL; using it sets the password, ends every session of the account,
clears its login throttle and raises the "password changed" alert, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from vopix.core import action_tokens, live, security_alerts
from vopix.core.accounts import AccountError, normalize_email
from vopix.core.action_tokens import TokenInvalid
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind, TokenPurpose
from vopix.core.mail import outbox
from vopix.core.mail.addresses import BadAddress, checked_address
from vopix.core.passwords import PasswordRejected, check_password_rules, hash_password
from vopix.core.sessions import describe_user_agent
from vopix.db import session_scope
from vopix.models import ActionToken, AgentProfile, AuthSession, LoginAttempt, LoginNonce, User
from vopix.settings import get_settings

RESET_TTL = timedelta(minutes=30)
ACCOUNT_LIMIT = 3  # reset mails per account per ACCOUNT_WINDOW
ACCOUNT_WINDOW = timedelta(hours=1)
IP_LIMIT = 10  # reset requests per client address per login window (VOPIX_LOGIN_WINDOW_MINUTES)
# Reset requests are counted in the login throttle's table under this name: it has no "@", so
# it is never a normalised address and never counts as a failed login of anyone.
IP_BUCKET = "#password-reset"
MAX_INPUT = 320  # longer input is refused before any parsing

ANSWER = (
    "If an account exists for that address, we sent a link to reset its password. "
    "It works for 30 minutes."
)

PROBLEMS: dict[TokenPurpose, dict[str, str]] = {
    TokenPurpose.PASSWORD_RESET: {
        "unknown": "This reset link is not valid: it may be incomplete or mistyped. "
                   "Copy the whole link from the mail, or ask for a new one.",
        "used": "This reset link was already used, or a newer link replaced it. "
                "Each link works once.",
        "expired": "This reset link has expired: links work for 30 minutes. Ask for a new one.",
    },
    TokenPurpose.NOT_ME: {
        "unknown": "This link is not valid: it may be incomplete or mistyped. Copy the whole "
                   "link from the security alert, or reset your password yourself.",
        "used": "This link was already used: your sessions were signed out then and a reset "
                "link was sent.",
        "expired": "This link has expired: links in security alerts work for 7 days. You can "
                   "still reset your password.",
    },
}


def problem_text(purpose: TokenPurpose, reason: str) -> str:
    return PROBLEMS[purpose].get(reason, PROBLEMS[purpose]["unknown"])


def checked_email(raw: str) -> str:
    """The normalised address typed into the form, or AccountError saying what is wrong."""
    if not raw or not raw.strip():
        raise AccountError("Enter the email address of your account.")
    if len(raw) > MAX_INPUT:
        raise AccountError("That email address is too long.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise AccountError("That email address contains a line break or a control character.")
    try:
        address = checked_address(raw)
    except BadAddress as exc:
        raise AccountError(str(exc)) from None
    return normalize_email(address)


def request_reset(email: str, *, ip: str = "") -> str:
    """Send a reset link to the account of `email`, if there is one and it is not throttled.
    The answer (ANSWER) is the same in every case; bad input raises AccountError."""
    address = checked_email(email)
    now = utcnow()
    with session_scope() as s:
        # The request is written first: on SQLite that takes the write lock, so parallel
        # requests are counted one after the other.
        s.add(LoginAttempt(email=IP_BUCKET, ip=ip[:64], at=now))
        s.flush()
        if _requests_from(s, ip, now) > IP_LIMIT:
            return ANSWER
        # The row lock (PostgreSQL) serialises requests for one account: the limit holds.
        user = s.exec(select(User).where(User.email == address).with_for_update()).first()
        if user is None or user.id is None:
            return ANSWER
        if _links_since(s, user.id, now - ACCOUNT_WINDOW) >= ACCOUNT_LIMIT:
            return ANSWER
        send_link(s, user)
    return ANSWER


def send_link(s: Session, user: User) -> None:
    """Revoke the account's earlier reset links and queue a mail with a new one."""
    assert user.id is not None
    action_tokens.revoke_all(s, user.id, TokenPurpose.PASSWORD_RESET)
    token = action_tokens.issue(s, user.id, TokenPurpose.PASSWORD_RESET, RESET_TTL)
    profile = s.get(AgentProfile, user.id)
    outbox.enqueue(
        s, to=user.email, kind=MailKind.PASSWORD_RESET, template="password_reset", user_id=user.id,
        language=(profile.language if profile else "") or "en", email=user.email,
        action_url=outbox.link(f"/reset?token={token}"),
    )


def link_problem(token: str, purpose: TokenPurpose) -> str:
    """'' when the link would work now, else the sentence that says why it does not."""
    try:
        action_tokens.peek(token, purpose)
    except TokenInvalid as exc:
        return problem_text(purpose, exc.reason)
    return ""


@dataclass(frozen=True)
class Done:
    user_id: int
    sessions_ended: int


def reset_password(token: str, new: str, repeat: str, *, ip: str = "", user_agent: str = "") -> Done:
    """Use a reset link. AccountError: the password breaks a rule (the link still works);
    TokenInvalid: the link is wrong, used or expired (nothing changed)."""
    action_tokens.peek(token, TokenPurpose.PASSWORD_RESET)  # a dead link says so before a typo does
    if new != repeat:
        raise AccountError("The two passwords are not the same. Type the new password twice.")
    try:
        check_password_rules(new)  # the sign-up rules
    except PasswordRejected as exc:
        raise AccountError(str(exc)) from None
    new_hash = hash_password(new)  # slow: before the transaction, not inside it
    with session_scope() as s:
        user_id = action_tokens.redeem(s, token, TokenPurpose.PASSWORD_RESET).user_id
        user = s.get(User, user_id)
        if user is None:
            raise TokenInvalid("unknown")
        user.password_hash = new_hash
        user.updated_at = utcnow()
        s.add(user)
        action_tokens.revoke_all(s, user_id, TokenPurpose.PASSWORD_RESET)  # other links die too
        ended = end_all_sessions(s, user_id, "password_reset")
        s.execute(delete(LoginAttempt).where(col(LoginAttempt.email) == user.email))
        security_alerts.raise_alert(
            s, user_id, security_alerts.AlertKind.PASSWORD_CHANGED, ip=ip,
            device=describe_user_agent(user_agent),
        )
    return Done(user_id, ended)


def not_me(token: str) -> Done:
    """"This wasn't me" in a security alert: every session of the account ends and a reset link
    goes to its address (whatever the reset throttle says: only the account's own mailbox
    has this single-use link). TokenInvalid: wrong, used or expired (nothing changed)."""
    with session_scope() as s:
        user_id = action_tokens.redeem(s, token, TokenPurpose.NOT_ME).user_id
        user = s.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None:
            raise TokenInvalid("unknown")
        ended = end_all_sessions(s, user_id, "not_me")
        send_link(s, user)
    return Done(user_id, ended)


def end_all_sessions(s: Session, user_id: int, reason: str) -> int:
    """Every login of the account ends in the caller's transaction, and so do the one-time
    login codes not yet traded for a cookie."""
    s.execute(delete(LoginNonce).where(col(LoginNonce.user_id) == user_id))
    live.changed(s, user_id, live.SESSION)  # its open tabs go to the login page
    result = s.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _requests_from(s: Session, ip: str, now: datetime) -> int:
    since = now - timedelta(minutes=get_settings().login_window_minutes)
    return int(s.exec(
        select(func.count()).where(
            LoginAttempt.email == IP_BUCKET, LoginAttempt.ip == ip[:64], LoginAttempt.at >= since
        )
    ).one())


def _links_since(s: Session, user_id: int, since: datetime) -> int:
    """Reset links issued to the account since then, used and revoked ones included."""
    return int(s.exec(
        select(func.count()).where(
            ActionToken.user_id == user_id, ActionToken.purpose == TokenPurpose.PASSWORD_RESET,
            ActionToken.created_at >= since,
        )
    ).one())
