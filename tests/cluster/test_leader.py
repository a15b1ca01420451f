"""The scheduled jobs' leader across processes: kill -9 the leader, another takes the lead
within 30 s, and a due job runs once (issue 15, fault 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cluster.conftest import child_env

REPO = Path(__file__).resolve().parents[2]
LEADS = "this worker leads the scheduled jobs"

# A worker's scheduler with one job that notes which process ran it.
CHILD = """
import asyncio, logging, os, sys
from datetime import timedelta
from vopix.core import jobs

def probe(now):
    with open(sys.argv[1], "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    return 1

logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
jobs.JOBS[:] = [jobs.Job("probe", timedelta(hours=1), probe)]
asyncio.run(jobs.run_scheduler())
"""


def _start(ran: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ran)], cwd=REPO, env=child_env(),
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )


def _wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_killed_leader_is_replaced_and_the_due_job_runs_once(tmp_path: Path, scratch_db: str) -> None:
    ran = tmp_path / "ran.txt"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [_start(ran, logs[0]), _start(ran, logs[1])]
    try:
        def leader() -> int | None:
            leading = [i for i, log in enumerate(logs) if LEADS in log.read_text()]
            assert len(leading) <= 1, "two processes lead at once"
            return leading[0] + 1 if leading else None

        first = _wait_for(leader, 60, "a leader") - 1
        other = 1 - first
        os.kill(procs[first].pid, signal.SIGKILL)  # before its job's first run (5 s after leading)
        procs[first].wait()
        killed_at = time.monotonic()

        _wait_for(lambda: LEADS in logs[other].read_text(), 30, "the other process leads")
        assert time.monotonic() - killed_at < 30
        _wait_for(ran.exists, 30, "the due job ran")
        time.sleep(6)  # one more leader check round and more: nobody runs it again
        assert ran.read_text().split() == [str(procs[other].pid)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_leader_whose_connection_was_cut_knows_it_lost_the_lock(scratch_db: str) -> None:
    """A PostgreSQL restart or a cut connection ends the session lock silently: the leader
    must notice (and stop its jobs), or two processes would run them."""
    from sqlalchemy import text

    from vopix.core import jobs
    from vopix.db import get_engine

    lock, rival = jobs.LeaderLock(), jobs.LeaderLock()
    try:
        assert lock.try_acquire() and lock.still_held()
        assert lock._conn is not None
        pid = lock._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with get_engine().connect() as conn:
            # With a timeout it waits for the backend to end (and so for the lock to go).
            conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        assert rival.try_acquire()  # the lock is free again for someone else
        assert lock.still_held() is False
        assert not lock.held
        assert lock.try_acquire() is False  # and the rival keeps it
    finally:
        lock.release()
        rival.release()
