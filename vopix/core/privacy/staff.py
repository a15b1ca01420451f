"""Staff roles and what staff may see and do (P17, P33).

Roles (support, admin) are granted and revoked only by the operator command. Every function a
staff member calls takes their user id, re-reads their role from the database, and refuses
(`NotStaff`) without the role it needs; every look and action is written to the audit log with
the reason given. What a look returns is metadata only: never message or file content, tokens,
keys, password hashes, or chat ids and numbers in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from vopix.core import account_standing, accounts, plans, usage
from vopix.core.clock import utcnow
from vopix.core.privacy import audit
from vopix.core.privacy.audit import Action
from vopix.db import session_scope
from vopix.models import BillingAccount, ChannelLink, IntegrationConnection, StaffRole, User, WorkspaceUsage

SUPPORT = "support"
ADMIN = "admin"
ROLES = (SUPPORT, ADMIN)


class NotStaff(PermissionError):
    """The caller holds no role (or not the one needed): answer as if nothing were there."""


class StaffError(ValueError):
    """A refusal whose message is safe to show to the staff member."""


# -- roles: the operator command only ---------------------------------------------------------

@dataclass(frozen=True)
class RoleRow:
    user_id: int
    email: str
    role: str
    granted_at: datetime
    granted_by: str


def grant(email: str, role: str, *, by: str) -> RoleRow:
    if role not in ROLES:
        raise StaffError(f"the role must be one of {', '.join(ROLES)}")
    user_id = accounts.find_user_id(email)
    if user_id is None:
        raise StaffError(f"no account with the email {email}")
    with session_scope() as s:
        row = s.exec(select(StaffRole).where(StaffRole.user_id == user_id)).first()
        row = row or StaffRole(user_id=user_id, role=role, granted_by=by)
        row.role, row.granted_at, row.granted_by = role, utcnow(), by[:120]
        row.revoked_at = row.revoked_by = None
        s.add(row)
        s.flush()
        user = s.get(User, user_id)
        assert user is not None
        return RoleRow(user_id, user.email, row.role, row.granted_at, row.granted_by)


def revoke(email: str, *, by: str) -> bool:
    """False when the person held no role."""
    user_id = accounts.find_user_id(email)
    if user_id is None:
        raise StaffError(f"no account with the email {email}")
    with session_scope() as s:
        row = s.exec(
            select(StaffRole).where(StaffRole.user_id == user_id, col(StaffRole.revoked_at).is_(None))
        ).first()
        if row is None:
            return False
        row.revoked_at, row.revoked_by = utcnow(), by[:120]
        s.add(row)
        return True


def list_roles() -> list[RoleRow]:
    with session_scope() as s:
        rows = s.exec(
            select(StaffRole, User.email).join(User, col(User.id) == col(StaffRole.user_id))
            .where(col(StaffRole.revoked_at).is_(None)).order_by(col(StaffRole.granted_at))
        ).all()
        return [RoleRow(r.user_id, email, r.role, r.granted_at, r.granted_by) for r, email in rows]


def role_of(user_id: int | None) -> str | None:
    """The role the person holds now, read from the database (None: none)."""
    if not user_id:
        return None
    with session_scope() as s:
        return s.exec(
            select(StaffRole.role).where(StaffRole.user_id == user_id, col(StaffRole.revoked_at).is_(None))
        ).first()


def require(staff_user_id: int | None, *, admin: bool = False) -> str:
    role = role_of(staff_user_id)
    if role is None or (admin and role != ADMIN):
        raise NotStaff("not found")
    return role


# -- what a look shows -------------------------------------------------------------------------

def mask(external_id: str) -> str:
    """A chat id or number with all but its last 3 characters hidden."""
    tail = external_id[-3:] if len(external_id) > 6 else ""
    return "•••" + tail


@dataclass(frozen=True)
class PersonSummary:
    user_id: int
    email: str
    signed_up: datetime
    plan_id: str
    plan_name: str
    subscription_status: str
    comped_plan: str
    standing: str  # active | suspended | deleting
    suspended_reason: str
    purge_after: datetime | None
    messages_this_month: int
    ai_calls_this_month: int
    storage_bytes: int
    channels: list[str] = field(default_factory=list)  # "telegram •••789"
    integrations: list[str] = field(default_factory=list)  # "github (connected)"


def _summary(user_id: int) -> PersonSummary | None:
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            return None
        billing = s.get(BillingAccount, user_id)
        stored = s.get(WorkspaceUsage, user_id)
        links = s.exec(
            select(ChannelLink.channel, ChannelLink.external_id).where(ChannelLink.user_id == user_id)
            .order_by(col(ChannelLink.channel))
        ).all()
        services = s.exec(
            select(IntegrationConnection.service, IntegrationConnection.status)
            .where(IntegrationConnection.user_id == user_id).order_by(col(IntegrationConnection.service))
        ).all()
        summary = dict(
            user_id=user_id, email=user.email, signed_up=user.created_at, plan_id=user.plan_id,
            subscription_status=user.subscription_status,
            comped_plan=(billing.comp_plan_id or "") if billing else "",
            standing=account_standing.standing(user), suspended_reason=user.suspended_reason or "",
            purge_after=user.purge_after, storage_bytes=stored.bytes_used if stored else 0,
            channels=[f"{kind} {mask(ext)}" for kind, ext in links],
            integrations=[f"{service} ({status})" for service, status in services],
        )
    plan = plans.get_plan(summary["plan_id"])  # type: ignore[arg-type]
    month = usage.month_usage(user_id)
    return PersonSummary(
        **summary, plan_name=plan.name if plan else str(summary["plan_id"]),  # type: ignore[arg-type]
        messages_this_month=month.messages, ai_calls_this_month=month.api_calls,
    )


def look_up(staff_user_id: int, email: str, reason: str) -> PersonSummary | None:
    """Open a person's account by email (None: no such account). The look is logged first."""
    role = require(staff_user_id)
    why = audit.checked_reason(reason)
    user_id = accounts.find_user_id(email) if email.strip() else None
    if user_id is None:
        return None
    with session_scope() as s:
        audit.record(s, staff_user_id=staff_user_id, role=role, subject_user_id=user_id,
                     action=Action.VIEW, reason=why)
    return _summary(user_id)


def summary_after_action(staff_user_id: int, user_id: int) -> PersonSummary | None:
    """The person's summary again right after an action on them (the action is logged)."""
    require(staff_user_id)
    return _summary(user_id)


# -- actions -----------------------------------------------------------------------------------

def _log(staff_user_id: int, role: str, subject: int | None, action: str, reason: str,
         detail: str = "") -> None:
    with session_scope() as s:
        audit.record(s, staff_user_id=staff_user_id, role=role, subject_user_id=subject,
                     action=action, reason=reason, detail=detail)


def _exists(user_id: int) -> None:
    if account_standing.standing_of(user_id) is None:
        raise StaffError("That account does not exist any more.")


def suspend(staff_user_id: int, user_id: int, reason: str) -> None:
    role = require(staff_user_id)
    why = audit.checked_reason(reason)
    _exists(user_id)
    if user_id == staff_user_id:
        raise StaffError("You cannot suspend your own account.")
    try:
        account_standing.suspend(user_id, why[: account_standing.REASON_MAX])
    except account_standing.StandingError as exc:
        raise StaffError(str(exc)) from exc
    _log(staff_user_id, role, user_id, Action.SUSPEND, why)


def unsuspend(staff_user_id: int, user_id: int, reason: str) -> None:
    role = require(staff_user_id)
    why = audit.checked_reason(reason)
    _exists(user_id)
    account_standing.unsuspend(user_id)
    _log(staff_user_id, role, user_id, Action.UNSUSPEND, why)


def delete_child_account(staff_user_id: int, user_id: int, reason: str) -> None:
    """An account reported as a child's (P33): deleted and purged at once. Its own audit rows go
    with it; the log keeps one row that says an account was deleted, by whom and why."""
    role = require(staff_user_id)
    why = audit.checked_reason(reason)
    _exists(user_id)
    if user_id == staff_user_id:
        raise StaffError("You cannot delete your own account here.")
    try:
        from vopix.core.privacy import purge  # deletion and purge (issue 12, part 2)
    except ImportError as exc:
        raise StaffError("Account deletion is not available in this version.") from exc
    if not purge.delete_now(user_id, why):
        raise StaffError("That account does not exist any more.")
    _log(staff_user_id, role, None, Action.DELETE, why, detail=f"account #{user_id}, reported as a child's")


def set_plan(staff_user_id: int, user_id: int, plan_id: str | None, reason: str) -> str:
    """Admins: give the person a plan without Stripe (comp), or take it back (None). Returns
    the plan in effect afterwards."""
    from vopix.core.billing import sync

    role = require(staff_user_id, admin=True)
    why = audit.checked_reason(reason)
    _exists(user_id)
    try:
        result = sync.set_comp(user_id, plan_id or None)
    except ValueError as exc:
        raise StaffError(str(exc)) from exc
    detail = f"comp {plan_id}" if plan_id else "comp removed"
    _log(staff_user_id, role, user_id, Action.SET_PLAN, why, detail=f"{detail}, now {result.plan_id}")
    return result.plan_id


def people_count() -> int:
    with session_scope() as s:
        return int(s.exec(select(func.count()).select_from(User)).one())
