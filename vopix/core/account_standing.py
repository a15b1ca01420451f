"""Account standing: active, suspended by staff, or being deleted (inside its grace period).

A suspended or deleting account cannot log in (the refusal is told only after the right
password), no session of it resolves, and nothing should run for it: `is_active(user_id)` for
one account, `active_user_filter()` for a query over many.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from vopix.core import support
from vopix.core.clock import local_time, utcnow
from vopix.db import session_scope
from vopix.models import User

Standing = Literal["active", "suspended", "deleting"]
REASON_MAX = 300


class StandingError(ValueError):
    """A refusal whose message is safe to show (to staff or to the person)."""


def standing(user: User) -> Standing:
    # Deleting wins: a suspended account whose deletion was asked for is on its way out.
    if user.deletion_requested_at is not None:
        return "deleting"
    if user.suspended_at is not None:
        return "suspended"
    return "active"


def standing_of(user_id: int) -> Standing | None:
    """The account's standing, None when there is no such account (purged or never was)."""
    with session_scope() as s:
        user = s.get(User, user_id)
        return standing(user) if user is not None else None


def is_active(user_id: int) -> bool:
    """True only for an existing account that is neither suspended nor being deleted."""
    return standing_of(user_id) == "active"


def active_user_filter() -> ColumnElement[bool]:
    """A WHERE clause on User for the accounts in good standing: join User and add it."""
    return and_(col(User.suspended_at).is_(None), col(User.deletion_requested_at).is_(None))


def active_user_ids() -> SelectOfScalar[int | None]:
    """A subquery of the ids in good standing: `.where(col(X.user_id).in_(active_user_ids()))`."""
    return select(User.id).where(active_user_filter())


def refusal(user: User) -> str | None:
    """What a login of this account is told, or None when it may log in."""
    match standing(user):
        case "suspended":
            address = support.support_email()
            return "This account is suspended." + (f" Write to {address}." if address else "")
        case "deleting":
            until = local_time(user.purge_after, None) if user.purge_after else "the end of the grace period"
            return (
                "This account is being deleted. The email we sent has a link to restore it "
                f"until {until}."
            )
    return None


def end_every_session(s: Session, user_id: int, reason: str) -> int:
    """Every login of the account ends in the caller's transaction (open tabs and sockets see
    their session revoked at their next check and go to the login page)."""
    from vopix.core.password_reset import end_all_sessions  # imports accounts, which imports us

    return end_all_sessions(s, user_id, reason)


def suspend(user_id: int, reason: str, *, now: datetime | None = None) -> bool:
    """Suspend the account (staff, with a required reason): every session ends at once.
    False when there is no such account; suspending again keeps the first time, new reason."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise StandingError("Give a reason for the suspension.")
    if len(reason) > REASON_MAX:
        raise StandingError(f"Keep the reason under {REASON_MAX} characters.")
    with session_scope() as s:
        user = s.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None:
            return False
        moment = now or utcnow()
        user.suspended_at = user.suspended_at or moment
        user.suspended_reason = reason
        user.updated_at = moment
        s.add(user)
        end_every_session(s, user_id, "suspended")
        return True


def unsuspend(user_id: int) -> bool:
    """Lift a suspension; the person logs in afresh. False when there is no such account."""
    with session_scope() as s:
        user = s.exec(select(User).where(User.id == user_id).with_for_update()).first()
        if user is None:
            return False
        user.suspended_at = None
        user.suspended_reason = None
        user.updated_at = utcnow()
        s.add(user)
        return True
