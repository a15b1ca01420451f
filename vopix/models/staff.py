"""Staff: roles granted by the operator, the append-only audit log of every staff look and action,
published policy versions and who dismissed their in-app notice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


def _user_set_null() -> Column:  # type: ignore[type-arg]
    """A user id that outlives its user as NULL (a purged staff member's past acts stay logged)."""
    return Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True)


class StaffRole(SQLModel, table=True):
    """One row per person who ever held a role; `revoked_at` set means they hold none now.
    Written only by the operator command (`python -m vopix staff grant|revoke`)."""

    __tablename__ = "staff_role"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    role: str = Field(max_length=16)  # "support" or "admin"
    granted_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    granted_by: str = Field(max_length=120)  # the operator (OS user and host) who ran the command
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked_by: str | None = Field(default=None, max_length=120)


class StaffAudit(SQLModel, table=True):
    """Who of the staff looked at or acted on whose account, when and why. Rows are only ever
    inserted (core/privacy/audit.py refuses updates and deletes through the ORM); they go with
    the person they are about (ON DELETE CASCADE), as every row of a purged account does."""

    __tablename__ = "staff_audit"
    __table_args__ = (Index("ix_staff_audit_subject_user_id_at", "subject_user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    staff_user_id: int | None = Field(default=None, sa_column=_user_set_null())
    role: str = Field(max_length=16)
    # NULL only for the record of an account deleted for good (its rows went with it).
    subject_user_id: int | None = Field(default=None, sa_column=user_fk(nullable=True, index=False))
    action: str = Field(max_length=32)
    reason: str = Field(max_length=500)
    detail: str = Field(default="", max_length=200)


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_version"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=32, unique=True)
    summary: str = Field(max_length=600)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    effective_on: date = Field(sa_column=Column(Date, nullable=False))
    material: bool = Field(sa_column=Column(Boolean, nullable=False))
    published_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
    published_by: str = Field(max_length=120)
    published_by_user_id: int | None = Field(default=None, sa_column=_user_set_null())
    # The notice mails go out in batches by ascending user id; a restart resumes after the cursor.
    notice_cursor: int = Field(default=0)
    notices_queued: int = Field(default=0)
    notices_sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PolicyDismissal(SQLModel, table=True):
    """A person closed the in-app notice of a policy version."""

    __tablename__ = "policy_dismissal"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    policy_version_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("policy_version.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    dismissed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
