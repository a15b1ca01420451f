"""The agent workspace: folders and files per person, their content in chunks, the storage meter
and the text copy that full-text search reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column


class WorkspaceEntry(SQLModel, table=True):
    """A folder or a file. `path` is what the person sees (NFC); `path_key` is its case-folded
    form, unique per person, so `Notes.md` and `notes.md` cannot both exist (they would
    collide when a zip is unpacked on Windows or macOS)."""

    __tablename__ = "workspace_entry"
    __table_args__ = (UniqueConstraint("user_id", "path_key", name="uq_workspace_entry_user_path"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the unique constraint leads with it
    path: str = Field(max_length=1024)
    path_key: str = Field(max_length=1024)
    kind: str = Field(max_length=8)  # file | folder
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    content_type: str = Field(default="", max_length=120)
    is_text: bool = Field(default=False)
    sha256: str = Field(default="", max_length=64)
    # Where the content lives in the blob storage (None for folders and empty files).
    blob_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class WorkspaceChunk(SQLModel, table=True):
    """One piece (up to 256 KB) of a file's content, for the database storage backend. Rows are
    read one at a time, so a 20 MB download never sits whole in memory."""

    __tablename__ = "workspace_chunk"

    blob_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)
    user_id: int = Field(sa_column=user_fk())
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Indexed for the orphan purge: a scan would read every chunk's data on SQLite (the column
    # comes after it in the row).
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))


class WorkspaceUsage(SQLModel, table=True):
    """Storage consumed per person, kept in step with every write in the same transaction; the
    plan limit is enforced by a conditional UPDATE of this row, so concurrent uploads cannot
    overshoot it."""

    __tablename__ = "workspace_usage"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    bytes_used: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    files: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class WorkspaceText(SQLModel, table=True):
    """The searchable text of a text file (its first MB). The migration adds the full-text index:
    an FTS5 table on SQLite, a GIN expression index on PostgreSQL."""

    __tablename__ = "workspace_text"

    entry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("workspace_entry.id", ondelete="CASCADE"), primary_key=True
        )
    )
    user_id: int = Field(sa_column=user_fk())
    content: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
