"""The staff audit log (P17): every time staff open an account and every action they take on it.

Rows are only inserted, by `record`. No function here or anywhere else changes or removes one,
and the ORM refuses to (an update or delete of a StaffAudit object fails the flush): the rows
leave only with the person they are about, by the database's ON DELETE CASCADE of the purge.
The person reads theirs with `seen_by_staff` (the "Who looked at your account" list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, col, select

from vopix.core.clock import local_time
from vopix.db import session_scope
from vopix.models import AgentProfile, StaffAudit

REASON_MAX = 500


class AuditLogIsAppendOnly(RuntimeError):
    pass


class Action:
    VIEW = "view"  # opened the account in the staff console
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    DELETE = "delete_account"  # an account reported as a child's (P33)
    SET_PLAN = "set_plan"
    EDIT_PLAN = "edit_plan"  # a plan's limits or price (admins); no subject


ACTION_WORDS = {
    Action.VIEW: "Opened your account",
    Action.SUSPEND: "Suspended your account",
    Action.UNSUSPEND: "Lifted the suspension of your account",
    Action.DELETE: "Deleted the account",
    Action.SET_PLAN: "Changed your plan",
    Action.EDIT_PLAN: "Changed a plan",
}


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Any, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, StaffAudit) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("the staff audit log cannot be edited or deleted")


def checked_reason(reason: str) -> str:
    """A reason is required for every staff look and action; the message is safe to show."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValueError("Give a reason (a ticket number or what the person asked for).")
    if len(text) > REASON_MAX:
        raise ValueError(f"Keep the reason under {REASON_MAX} characters.")
    return text


def record(
    s: Session, *, staff_user_id: int, role: str, subject_user_id: int | None, action: str,
    reason: str, detail: str = "", at: datetime | None = None,
) -> StaffAudit:
    """Append one row in the caller's transaction."""
    row = StaffAudit(
        staff_user_id=staff_user_id, role=role, subject_user_id=subject_user_id, action=action,
        reason=checked_reason(reason), detail=detail[:200],
    )
    if at is not None:
        row.at = at
    s.add(row)
    s.flush()
    return row


@dataclass(frozen=True)
class Look:
    """One entry of a person's "who looked" list, in their time zone."""

    when: str
    who: str  # "Support, staff #12"
    what: str
    reason: str


def _who(role: str, staff_user_id: int | None) -> str:
    title = role.capitalize()
    return f"{title}, staff #{staff_user_id}" if staff_user_id else f"{title}, a former staff member"


def seen_by_staff(user_id: int, limit: int = 200) -> list[Look]:
    """Every staff look and action on this account, newest first."""
    with session_scope() as s:
        profile = s.get(AgentProfile, user_id)
        zone = profile.timezone if profile else None
        rows = s.exec(
            select(StaffAudit)
            .where(col(StaffAudit.subject_user_id) == user_id)
            .order_by(col(StaffAudit.at).desc(), col(StaffAudit.id).desc())
            .limit(limit)
        ).all()
        return [
            Look(
                when=local_time(r.at, zone), who=_who(r.role, r.staff_user_id),
                what=ACTION_WORDS.get(r.action, r.action) + (f" ({r.detail})" if r.detail else ""),
                reason=r.reason,
            )
            for r in rows
        ]


def recent(limit: int = 50) -> list[StaffAudit]:
    """The newest rows of the whole log, for admins (read only)."""
    with session_scope() as s:
        rows = s.exec(select(StaffAudit).order_by(col(StaffAudit.id).desc()).limit(limit)).all()
        for r in rows:
            s.expunge(r)
        return list(rows)


def write_export_part(w: Any) -> None:
    """staff_access.json in the person's data export (P17, P28): every staff look and action
    on the account, with the policy versions the person has dismissed the notice of."""
    from vopix.core.privacy.export_parts import keyset
    from vopix.models import PolicyDismissal, PolicyVersion

    a = StaffAudit
    looks = keyset(
        select(a.id, a.at, a.role, a.staff_user_id, a.action, a.reason, a.detail)  # type: ignore[call-overload]
        .where(col(a.subject_user_id) == w.user_id),
        col(a.id),
    )
    d, v = PolicyDismissal, PolicyVersion
    with session_scope() as s:
        dismissed = [
            {"version": version, "effective_on": effective_on, "dismissed_at": at}
            for version, effective_on, at in s.execute(
                select(v.version, v.effective_on, d.dismissed_at)  # type: ignore[call-overload]
                .join(v, col(v.id) == col(d.policy_version_id))
                .where(col(d.user_id) == w.user_id)
                .order_by(col(d.dismissed_at))
            ).all()
        ]
    w.write_json("staff_access.json", {
        "about": "Every time VOPIX staff opened your account in the staff console or acted on it: "
                 "when, the role and staff id, what and the reason given; and the policy notices "
                 "you dismissed.",
        "staff_access": (dict(r._mapping) for r in looks),
        "policy_notices_dismissed": dismissed,
    })  # fmt: skip
