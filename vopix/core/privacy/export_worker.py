"""The export workers: claim a queued export with a lease (on PostgreSQL `FOR UPDATE SKIP
LOCKED`), write its ZIP part by part while renewing the lease, then mark it ready and queue the
"your export is ready" mail in the same transaction.

Runs once across workers: a claim takes one row, and every progress write and the final one are
conditional on this worker still holding that attempt. A worker that died leaves its export
`running` with a lease that stops being renewed; after LEASE another worker takes it again
(attempt n+1, a fresh file) and the old attempt's partial file is removed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlmodel import col

from vopix.core import claim_loop
from vopix.core.clock import local_time, utcnow
from vopix.core.kinds import MailKind
from vopix.core.mail import outbox
from vopix.core.privacy import export
from vopix.core.privacy.export_parts import parts
from vopix.core.privacy.export_zip import ExportWriter
from vopix.core.workspace.base import human_size
from vopix.db import get_engine, session_scope
from vopix.models import AgentProfile, DataExport, User

log = logging.getLogger("vopix.export")

LEASE = timedelta(seconds=60)  # progress renews it about every second
MAX_ATTEMPTS = 3  # an export that kills its worker again and again is given up
FAILED_TEXT = "The export could not be finished. Try again; if it keeps failing, contact support."
_T = DataExport.__table__  # type: ignore[attr-defined]
WORKER_ID = f"{socket.gethostname()[:20]}:{os.getpid()}:{secrets.token_hex(3)}"


class Abandoned(Exception):
    """This worker no longer holds the export (its lease was taken over, or it was deleted)."""


@dataclass(frozen=True)
class Claimed:
    id: int
    user_id: int
    attempts: int
    created_at: datetime

    @property
    def file_name(self) -> str:
        # The row's creation time too: SQLite may give a purged row's id to a new export.
        return f"export-{self.id}-{self.attempts}-{self.created_at:%Y%m%d%H%M%S%f}.zip"


def claim(worker_id: str = WORKER_ID, now: datetime | None = None) -> Claimed | None:
    moment = now or utcnow()
    claimable = or_(
        _T.c.status == "queued",
        and_(_T.c.status == "running", _T.c.claimed_at < moment - LEASE),
    )
    pick = (
        select(_T.c.id).where(claimable).order_by(_T.c.id).limit(1)
        .with_for_update(skip_locked=True).scalar_subquery()
    )
    stmt = (
        update(_T).where(_T.c.id == pick, claimable)
        .values(status="running", worker=worker_id[:40], claimed_at=moment, attempts=_T.c.attempts + 1,
                parts_done=0, parts_total=len(parts()) + 1, bytes_written=0)
        .returning(_T.c.id, _T.c.user_id, _T.c.attempts, _T.c.created_at)
    )  # fmt: skip
    with get_engine().begin() as conn:
        row = conn.execute(stmt).first()
    return Claimed(*row) if row is not None else None


def _mine(c: Claimed, worker_id: str) -> object:
    return and_(col(DataExport.id) == c.id, col(DataExport.worker) == worker_id[:40],
                col(DataExport.attempts) == c.attempts, col(DataExport.status) == "running")


def _set(c: Claimed, worker_id: str, **values: object) -> bool:
    with session_scope() as s:
        n = s.execute(update(DataExport).where(_mine(c, worker_id)).values(**values)).rowcount  # type: ignore[arg-type]
    return bool(n)


def write_zip(c: Claimed, worker_id: str = WORKER_ID) -> int:
    """Write the ZIP (as `<name>.part`, renamed when whole); its size. Raises Abandoned."""
    folder = export.export_dir()
    for stale in folder.glob(f"export-{c.id}-*.part"):  # an earlier attempt's, cut off
        stale.unlink(missing_ok=True)
    part_path = folder / (c.file_name + ".part")
    all_parts = parts()
    done = 0

    def progress(n: int) -> None:
        if not _set(c, worker_id, claimed_at=utcnow(), bytes_written=n, parts_done=done):
            raise Abandoned(c.id)

    try:
        with session_scope() as s:
            user = s.get(User, c.user_id)
            email = user.email if user else ""
        with open(part_path, "wb") as fh, zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
            w = ExportWriter(zf, c.user_id, fh, progress)
            w.write_text("README.txt", export.readme(
                [("README.txt", "this file"), *[(p.name, p.describe) for p in all_parts]], email, utcnow()))
            done = 1
            w.tick(force=True)
            for p in all_parts:
                p.write(w)
                done += 1
                w.tick(force=True)
        size = part_path.stat().st_size
        os.replace(part_path, folder / c.file_name)
        return size
    except BaseException:
        part_path.unlink(missing_ok=True)
        raise


def finish(c: Claimed, size: int, worker_id: str = WORKER_ID) -> bool:
    """Mark the export ready and queue its mail, in one transaction; False (and the file
    removed) when the export is no longer this worker's."""
    now = utcnow()
    expires = now + export.KEEP
    with session_scope() as s:
        n = s.execute(
            update(DataExport).where(_mine(c, worker_id)).values(  # type: ignore[arg-type]
                status="ready", file_name=c.file_name, finished_at=now, expires_at=expires,
                bytes_written=size, parts_done=len(parts()) + 1, error="")
        ).rowcount
        if n:
            user = s.get(User, c.user_id)
            profile = s.get(AgentProfile, c.user_id)
            zone = profile.timezone if profile else "UTC"
            if user is not None:
                outbox.enqueue(
                    s, to=user.email, kind=MailKind.PRIVACY, template="export_ready", user_id=c.user_id,
                    language=(profile.language if profile else "") or "en",
                    action_url=outbox.link("/privacy"), asked=local_time(c.created_at, zone),
                    expires=local_time(expires, zone), size=human_size(size),
                )
    if not n:
        (export.export_dir() / c.file_name).unlink(missing_ok=True)
    return bool(n)


def run_one(c: Claimed, worker_id: str = WORKER_ID) -> str:
    """The whole job for a claimed export; what became of it (ready, failed, abandoned)."""
    if c.attempts > MAX_ATTEMPTS:
        _set(c, worker_id, status="failed", error=FAILED_TEXT, finished_at=utcnow())
        return "failed"
    try:
        size = write_zip(c, worker_id)
    except Abandoned:
        log.info("export %s was taken over; this worker stops", c.id)
        return "abandoned"
    except Exception as exc:
        log.warning("export %s failed (%s)", c.id, type(exc).__name__)
        _set(c, worker_id, status="failed", error=FAILED_TEXT, finished_at=utcnow())
        return "failed"
    try:
        return "ready" if finish(c, size, worker_id) else "abandoned"
    except Exception as exc:  # e.g. the mail refused the address: the ZIP is not offered half-done
        log.warning("export %s could not be finished (%s)", c.id, type(exc).__name__)
        (export.export_dir() / c.file_name).unlink(missing_ok=True)
        _set(c, worker_id, status="failed", error=FAILED_TEXT, finished_at=utcnow())
        return "failed"


async def _handle(c: Claimed) -> None:
    await asyncio.to_thread(run_one, c, WORKER_ID)


async def run(idle_poll: float = 15.0) -> None:
    """Lifespan task of every app worker: one export at a time per process."""
    await claim_loop.serve(lambda: claim(WORKER_ID), _handle, export.WAKEUPS,
                           concurrency=1, idle_poll=idle_poll, name="export worker")


def drain(limit: int = 10) -> int:
    """Every export due now, in this thread (tests, the CLI)."""
    n = 0
    while n < limit and (c := claim(WORKER_ID)) is not None:
        run_one(c, WORKER_ID)
        n += 1
    return n
