"""The export as a job: one at a time per person, once across workers, taken again after a dead
worker's lease, deleted after 7 days; another person's export is not found; memory stays flat."""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.core.privacy.export_helpers import no_export_files, read_zip, run_export
from vopix.core import jobs
from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind
from vopix.core.privacy import export, export_worker
from vopix.core.workspace import store
from vopix.db import session_scope
from vopix.models import DataExport, MailOutbox

__all__ = ["no_export_files"]


def _mails() -> int:
    with session_scope() as s:
        return len(s.exec(select(MailOutbox).where(MailOutbox.kind == MailKind.PRIVACY)).all())


@pytest.mark.promise("P28")
def test_a_second_export_while_one_runs_is_refused_and_changes_nothing(make_user) -> None:
    user_id, _, _ = make_user()
    first = export.request_export(user_id)
    with pytest.raises(export.ExportBusy, match="already being prepared"):
        export.request_export(user_id)
    claimed = export_worker.claim("w1")
    assert claimed is not None and claimed.id == first.id
    with pytest.raises(export.ExportBusy):  # running counts too
        export.request_export(user_id)
    with session_scope() as s:
        assert len(s.exec(select(DataExport)).all()) == 1
    export_worker.run_one(claimed, "w1")
    assert export.latest_export(user_id).status == "ready"  # type: ignore[union-attr]
    assert export.request_export(user_id).status == "queued"  # once ready, a new one may start


def test_racing_requests_from_several_tabs_or_workers_make_one_export(make_user) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user_id, _, _ = make_user()

    def ask(_: int) -> str:
        try:
            export.request_export(user_id)
            return "started"
        except export.ExportBusy:
            return "busy"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(ask, range(6)))
    assert sorted(outcomes) == ["busy"] * 5 + ["started"]
    with session_scope() as s:
        assert len(s.exec(select(DataExport)).all()) == 1


def test_two_people_export_at_the_same_time(make_user) -> None:
    a, _, _ = make_user()
    b, _, _ = make_user()
    export.request_export(a)
    export.request_export(b)
    assert export_worker.drain() == 2
    assert export.latest_export(a).status == export.latest_export(b).status == "ready"  # type: ignore[union-attr]


def test_an_export_is_claimed_by_one_worker_only(make_user) -> None:
    user_id, _, _ = make_user()
    export.request_export(user_id)
    assert export_worker.claim("w1") is not None
    assert export_worker.claim("w2") is None  # its lease is fresh


def test_a_dead_workers_export_is_taken_again_after_its_lease_and_finished_once(make_user) -> None:
    user_id, _, _ = make_user()
    history.add_message(user_id, history.create_conversation(user_id, "Hello").id, "user", "hi")
    export.request_export(user_id)
    now = utcnow()
    dead = export_worker.claim("dead", now)
    assert dead is not None and dead.attempts == 1
    assert export_worker.claim("alive", now + export_worker.LEASE - timedelta(seconds=1)) is None
    alive = export_worker.claim("alive", now + export_worker.LEASE + timedelta(seconds=1))
    assert alive is not None and alive.id == dead.id and alive.attempts == 2

    # The "dead" worker was only slow: it wakes up, finds the export is not its own, and stops.
    assert export_worker.run_one(dead, "dead") == "abandoned"
    assert export_worker.run_one(alive, "alive") == "ready"
    view = export.latest_export(user_id)
    assert view is not None and view.status == "ready"
    assert _mails() == 1  # one export, one mail
    files = list(export.export_dir().iterdir())
    assert [p.name for p in files] == [alive.file_name]  # the abandoned attempt left nothing
    assert any(n.startswith("conversations/") and n.endswith("-hello.json") for n in read_zip(files[0]))


def test_an_export_that_keeps_killing_its_worker_is_given_up(make_user) -> None:
    user_id, _, _ = make_user()
    export.request_export(user_id)
    now = utcnow()
    last = export_worker.MAX_ATTEMPTS
    for i in range(last + 1):  # each worker dies: the next one takes the export after the lease
        claimed = export_worker.claim(f"w{i}", now + i * (export_worker.LEASE + timedelta(seconds=1)))
        assert claimed is not None and claimed.attempts == i + 1
    assert export_worker.run_one(claimed, f"w{last}") == "failed"
    view = export.latest_export(user_id)
    assert view is not None and view.status == "failed"


@pytest.mark.promise("P28")
def test_a_failure_while_marking_it_ready_fails_it_cleanly(make_user, monkeypatch) -> None:
    user_id, _, _ = make_user()
    export.request_export(user_id)
    claimed = export_worker.claim("w")
    assert claimed is not None

    def refuse(*_a, **_k):
        raise ValueError("the mail server refused the address")

    monkeypatch.setattr(export_worker.outbox, "enqueue", refuse)
    assert export_worker.run_one(claimed, "w") == "failed"
    view = export.latest_export(user_id)
    assert view is not None and view.status == "failed"
    assert list(export.export_dir().iterdir()) == [] and _mails() == 0


@pytest.mark.promise("P28")
def test_another_persons_export_is_not_found(make_user) -> None:
    owner, _, _ = make_user()
    other, _, _ = make_user()
    view, _ = run_export(owner)
    with pytest.raises(export.ExportNotFound):
        export.download_path(other, view.id)
    with pytest.raises(export.ExportNotFound):
        export.get_export(other, view.id)
    with pytest.raises(export.ExportNotFound):
        export.download_path(owner, view.id + 1000)


def test_the_file_is_deleted_after_7_days_and_the_link_then_says_expired(make_user) -> None:
    user_id, _, _ = make_user()
    view, path = run_export(user_id)
    assert view.expires_at is not None
    assert export.purge_exports(view.expires_at - timedelta(minutes=1)) == 0
    assert path.exists()
    with pytest.raises(export.ExportUnavailable, match="expired"):  # refused at once, purge or not
        export.download_path(user_id, view.id, now=view.expires_at + timedelta(seconds=1))
    assert export.purge_exports(view.expires_at + timedelta(minutes=1)) == 1
    assert not path.exists()
    after = export.latest_export(user_id)
    assert after is not None and after.status == "expired"
    with pytest.raises(export.ExportUnavailable, match="expired"):
        export.download_path(user_id, view.id)
    assert "purge_data_exports" in {j.name for j in jobs.JOBS}


def test_a_file_deleted_behind_the_rows_back_is_told_as_deleted(make_user) -> None:
    user_id, _, _ = make_user()
    view, path = run_export(user_id)
    path.unlink()
    with pytest.raises(export.ExportUnavailable, match="deleted"):
        export.download_path(user_id, view.id)


def test_the_purge_removes_files_no_export_names_and_an_account_purge_takes_its_exports(make_user) -> None:
    user_id, _, _ = make_user()
    _, path = run_export(user_id)
    stray = export.export_dir() / "export-999-1-20260101000000000000.zip.part"
    stray.write_bytes(b"cut off")
    assert export.purge_exports(utcnow()) == 1
    assert not stray.exists() and path.exists()
    assert export.delete_exports_of(user_id) == 1
    assert not path.exists() and export.latest_export(user_id) is None


@pytest.mark.promise("P30")
def test_memory_stays_flat_whatever_the_size(make_user) -> None:
    """A 24 MB workspace file and 3,000 messages go through the writer with a peak of Python
    memory far below their size: nothing is held whole."""
    user_id, _, _ = make_user()
    chunk = bytes((i * 7 + 3) % 251 for i in range(256 * 1024))
    store.write_stream(user_id, "big/blob.bin", (chunk for _ in range(96)))
    conv = history.create_conversation(user_id, "Long").id
    text = "x" * 2000
    for i in range(3000):
        history.add_message(user_id, conv, "user" if i % 2 else "assistant", f"{i} {text}")
    export.request_export(user_id)
    claimed = export_worker.claim("w")
    assert claimed is not None
    tracemalloc.start()
    try:
        assert export_worker.run_one(claimed, "w") == "ready"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    view = export.latest_export(user_id)
    assert view is not None and view.bytes_written > 24 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.asyncio
async def test_the_app_worker_is_woken_by_a_new_export_and_finishes_it(make_user) -> None:
    """The lifespan task: idle (its poll an hour away), it takes the export at once."""
    user_id, _, _ = make_user()
    worker = asyncio.create_task(export_worker.run(idle_poll=3600))
    try:
        await asyncio.sleep(0.2)  # it has polled once and now waits for a wake-up
        await asyncio.to_thread(export.request_export, user_id)
        view = None
        for _ in range(300):  # up to 30 s on a loaded machine; returns as soon as it is ready
            view = await asyncio.to_thread(export.latest_export, user_id)
            if view is not None and view.status == "ready":
                break
            await asyncio.sleep(0.1)
        assert view is not None and view.status == "ready"
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
