"""Connected services (GitHub, Slack, Google), what the agent did with them, and the OAuth
`state` of a connect in progress. Tokens live only in the vault (`secret`), never here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


class IntegrationConnection(SQLModel, table=True):
    """One per person and service."""

    __tablename__ = "integration_connection"
    __table_args__ = (UniqueConstraint("user_id", "service", name="uq_integration_connection_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the unique constraint leads with it
    service: str = Field(max_length=16)  # github | slack | google
    status: str = Field(default="connected", max_length=20)  # ConnectionStatus
    method: str = Field(default="oauth", max_length=8)  # oauth | token (pasted)
    account: str = Field(default="", max_length=200)  # GitHub login, Slack workspace, Gmail address
    account_id: str = Field(default="", max_length=120)
    scopes: str = Field(default="", max_length=600)
    # Vault ids: the token (and a refresh token where the service gives one). Deleting the
    # secret leaves the connection unusable, never pointing at another row.
    access_secret_id: str | None = Field(
        default=None,
        sa_column=Column(String(36), ForeignKey("secret.id", ondelete="SET NULL"), nullable=True),
    )
    refresh_secret_id: str | None = Field(
        default=None,
        sa_column=Column(String(36), ForeignKey("secret.id", ondelete="SET NULL"), nullable=True),
    )
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class IntegrationActivity(SQLModel, table=True):
    """Every call the agent made with a credential: shown to the person, kept with the account."""

    __tablename__ = "integration_activity"
    __table_args__ = (Index("ix_integration_activity_user_id_at", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the index above leads with it
    service: str = Field(max_length=16)
    tool: str = Field(max_length=64)
    action: str = Field(max_length=300)  # in words: "created issue #12 in octo/hello"
    outcome: str = Field(max_length=16)  # ok | failed
    detail: str = Field(default="", max_length=300)  # why it failed, in words
    conversation_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("conversation.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    channel: str = Field(default="web", max_length=16)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class OAuthState(SQLModel, table=True):
    """A connect in progress: single use, 10 minutes, bound to the login session that began it."""

    __tablename__ = "oauth_state"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True, index=True)  # SHA-256 of the state
    user_id: int = Field(sa_column=user_fk())
    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("auth_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    service: str = Field(max_length=16)
    code_verifier: str = Field(default="", max_length=128)  # PKCE; useless without the code
    expires_at: datetime = Field(sa_column=utc_column(index=True))
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
