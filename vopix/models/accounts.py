"""Accounts, login sessions and their rotating refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, true
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.types import UTCDateTime


def user_fk(nullable: bool = False, index: bool = True) -> Column:  # type: ignore[type-arg]
    """A foreign key to user.id whose rows go when the user goes."""
    return Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=nullable, index=index)


def utc_column(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


class User(SQLModel, table=True):
    # SQLite would otherwise hand a deleted account's id to the next sign-up, and with it any
    # row that still names the id (the access log keeps ids without a foreign key).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=100)
    age_confirmed_at: datetime = Field(sa_column=utc_column())
    marketing_opt_in: bool = Field(default=False)  # product news: only when asked for (P13)
    quota_mail_opt_in: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=true())
    )
    subscription_status: str = Field(default="free", max_length=32)
    # A plan that people are on cannot be deleted (no ON DELETE): move them first.
    plan_id: str = Field(
        default="free",
        sa_column=Column(String(32), ForeignKey("plan.id"), nullable=False, server_default="free"),
    )
    is_operator: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Account standing (core/account_standing.py): a suspended or deleting account cannot log in.
    suspended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    suspended_reason: str | None = Field(default=None, max_length=300)
    deletion_requested_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Read by the scheduled purge: the accounts whose grace period is over.
    purge_after: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))


class AuthSession(SQLModel, table=True):
    """One login on one device: the family of refresh tokens that rotate from it."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Both read by the hourly purge of ended sessions.
    expires_at: datetime = Field(sa_column=utc_column(index=True))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True, index=True))
    revoked_reason: str | None = Field(default=None, max_length=32)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=400)


class RefreshToken(SQLModel, table=True):
    """Only the SHA-256 of a token is stored; a rotated token is kept to detect its reuse."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("auth_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    rotated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class LoginNonce(SQLModel, table=True):
    """A one-time, short-lived proof of a password check, traded for the cookie by a route."""

    __tablename__ = "login_nonce"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk())
    nonce_hash: str = Field(max_length=64, unique=True, index=True)
    expires_at: datetime = Field(sa_column=utc_column(index=True))  # purged once expired


class LoginAttempt(SQLModel, table=True):
    """Failed logins per normalised email (known or not), for throttling."""

    __tablename__ = "login_attempt"
    # The throttle counts one email's attempts inside a window; the purge goes by `at` alone.
    __table_args__ = (Index("ix_login_attempt_email_at", "email", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    ip: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))
