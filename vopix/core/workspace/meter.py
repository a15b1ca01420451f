"""Storage consumed per person (the meter) and the limits a write must respect.

The meter row moves in the same transaction as each write; growth is a conditional UPDATE that
only succeeds under the plan's limit, so two uploads racing for the last megabytes cannot both
pass. The plan's `storage_bytes` is the limit (0: none); VOPIX_MAX_FILE_BYTES bounds each file.
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vopix.core.clock import utcnow
from vopix.core.plans import limits_of
from vopix.core.workspace.base import QuotaExceeded, UsageView, human_size
from vopix.db import session_scope
from vopix.models import WorkspaceEntry, WorkspaceUsage
from vopix.settings import get_settings


def plan_limit(s: Session, user_id: int) -> tuple[int, str]:
    """The storage of the person's effective plan (0: none) and the plan's name."""
    limits = limits_of(s, user_id)
    return limits.storage_bytes, limits.name


def full_message(used: int, limit: int, plan_name: str, needed: int = 0) -> str:
    """Why a write is refused for want of room; after a downgrade the files stay, over the limit."""
    if used > limit:
        return (
            f"You store {human_size(used)}, more than the {human_size(limit)} of your {plan_name} "
            "plan. Nothing was deleted, but new files cannot be saved until you delete some or "
            "upgrade on the Billing page."
        )
    if needed:
        return (
            f"Not enough storage: this needs {human_size(needed)} more, but only "
            f"{human_size(max(0, limit - used))} of your {human_size(limit)} ({plan_name} plan) "
            "is free. Delete files or upgrade on the Billing page."
        )
    return (
        f"Your storage is full ({human_size(used)} of {human_size(limit)}, {plan_name} plan). "
        "Delete files or upgrade on the Billing page."
    )


def ensure_meter(s: Session, user_id: int) -> None:
    if s.get(WorkspaceUsage, user_id) is not None:
        return
    # First write since the workspace existed (or an account older than it): count what is there.
    size, files = s.exec(
        select(func.coalesce(func.sum(WorkspaceEntry.size), 0), func.count()).where(
            WorkspaceEntry.user_id == user_id, WorkspaceEntry.kind == "file"
        )
    ).one()
    try:
        with s.begin_nested():
            s.add(WorkspaceUsage(user_id=user_id, bytes_used=int(size), files=int(files)))
    except IntegrityError:  # another worker made it first
        pass


def charge(s: Session, user_id: int, delta: int, files: int, *, needed: int = 0) -> None:
    """Move the meter in the caller's transaction. Growth is a conditional UPDATE, so two
    uploads racing for the last megabytes cannot both pass."""
    usage = WorkspaceUsage.__table__.c  # type: ignore[attr-defined]
    values = {"bytes_used": usage.bytes_used + delta, "files": usage.files + files, "updated_at": utcnow()}
    stmt = update(WorkspaceUsage).where(col(WorkspaceUsage.user_id) == user_id).values(**values)
    limit, plan_name = plan_limit(s, user_id)
    if delta > 0 and limit:
        stmt = stmt.where(usage.bytes_used + delta <= limit)
    for attempt in range(2):
        if s.execute(stmt).rowcount:  # type: ignore[attr-defined]
            return
        if attempt == 0 and s.get(WorkspaceUsage, user_id) is None:
            ensure_meter(s, user_id)  # the first write ever: make the meter, then charge it
            continue
        break
    used = s.exec(select(WorkspaceUsage.bytes_used).where(WorkspaceUsage.user_id == user_id)).one()
    raise QuotaExceeded(full_message(used, limit, plan_name, needed or delta))


def usage(user_id: int) -> UsageView:
    with session_scope() as s:
        ensure_meter(s, user_id)
        row = s.get(WorkspaceUsage, user_id)
        limit, plan_name = plan_limit(s, user_id)
        return UsageView(
            row.bytes_used if row else 0, row.files if row else 0, limit,
            get_settings().max_file_bytes, plan_name,
        )


def storage_used(user_id: int) -> int:
    """Bytes of workspace content this person stores (P08: storage consumed)."""
    return usage(user_id).bytes_used


def too_large_message(name: str, size: int | None, max_file: int) -> str:
    shown = f" is {human_size(size)};" if size is not None else " is too large:"
    return f"“{name}”{shown} the largest file allowed is {human_size(max_file)}."
