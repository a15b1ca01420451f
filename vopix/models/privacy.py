"""Data exports (issue 12, P28/P30): one row per export a person asked for, the queue the export
workers claim from (with a lease, so a dead worker's export is taken again) and the progress the
Privacy page shows. The ZIP itself is a file in the data folder, named by `file_name`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, text
from sqlmodel import Field, SQLModel

from vopix.core.clock import utcnow
from vopix.models.accounts import user_fk, utc_column

# The states an export can be in while it is still coming: at most one per person (the partial
# unique index below), so two clicks or two tabs cannot start two.
OPEN_STATUSES = ("queued", "running")


class DataExport(SQLModel, table=True):
    """status: queued -> running -> ready -> expired (file deleted), or failed."""

    __tablename__ = "data_export"
    __table_args__ = (
        Index(
            "ix_data_export_user_open",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # The Privacy page reads a person's latest export.
        Index("ix_data_export_user_id_created_at", "user_id", "created_at"),
        # The claim (queued, or running with a lapsed lease) and the expiry purge.
        Index("ix_data_export_status_claimed_at", "status", "claimed_at"),
        Index("ix_data_export_status_expires_at", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=user_fk(index=False))  # the indexes above lead with it
    status: str = Field(default="queued", max_length=16)
    parts_done: int = Field(default=0)
    parts_total: int = Field(default=0)
    bytes_written: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    attempts: int = Field(default=0)
    worker: str = Field(default="", max_length=40)
    # Renewed while the export is written; a running export whose lease lapsed is taken again.
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    file_name: str = Field(default="", max_length=120)  # under <data_dir>/exports/
    error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    finished_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
