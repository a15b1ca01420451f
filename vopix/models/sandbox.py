"""Scripts run in the sandbox (issue 16): each run as the person sees it on the Runs list, and
the scripts a person lets the agent run without asking."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


class ScriptRun(SQLModel, table=True):
    """One run: what ran, how it ended, its (capped) output and where its files were saved."""

    __tablename__ = "script_run"
    __table_args__ = (Index("ix_script_run_user_id_created_at", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the (user_id, created_at) index leads with it
    script: str = Field(max_length=1024)
    args: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # JSON list
    status: str = Field(max_length=16)  # RunStatus
    exit_code: int | None = Field(default=None)
    duration_ms: int = Field(default=0)
    stdout: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    stderr: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # limits hit
    output_folder: str = Field(default="", max_length=1024)  # runs/<time>/ when files were saved
    files: int = Field(default=0)
    channel: str = Field(default="web", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ScriptMark(SQLModel, table=True):
    """"Run without asking" on one script, for the content it had when the person marked it: a
    changed script asks again."""

    __tablename__ = "script_mark"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    path_key: str = Field(sa_column=Column(String(1024), primary_key=True))
    path: str = Field(max_length=1024)
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
