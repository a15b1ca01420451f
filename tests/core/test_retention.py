"""Access logs (P09) kept 30 days then purged (P27); auth clean-up; the scheduler's leader lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlmodel import col, select

from vopix.cli import main
from vopix.core import access_log, jobs, sessions
from vopix.core.access_log import AccessEntry, purge_access_logs, writer
from vopix.core.clock import utcnow
from vopix.db import REPO_ROOT, session_scope
from vopix.models import AccessLog, AuthSession, LoginNonce, RefreshToken


@pytest.fixture(autouse=True)
def empty_writer():
    writer.flush()  # entries queued by earlier tests must not leak into these
    with session_scope() as s:
        for row in s.exec(select(AccessLog)).all():
            s.delete(row)
    yield
    writer.flush()


def _log_at(*moments) -> None:
    for i, at in enumerate(moments):
        writer.record(AccessEntry(ip="192.0.2.1", method="GET", path=f"/p{i}", status=200,
                                  user_id=None, duration_ms=1, at=at))
    writer.flush()


def _paths() -> set[str]:
    with session_scope() as s:
        return set(s.exec(select(AccessLog.path)).all())


@pytest.mark.promise("P09")
def test_writer_flush_records_ip_method_path_status_user(make_user) -> None:
    user_id, _, _ = make_user()
    writer.record(AccessEntry(ip="198.51.100.7", method="POST", path="/api/auth/session",
                              status=200, user_id=user_id, duration_ms=12))
    writer.record(AccessEntry(ip="203.0.113.9", method="GET", path="/healthz", status=503,
                              user_id=None, duration_ms=3))
    assert writer.flush() == 2
    assert writer.flush() == 0  # each entry is written once
    with session_scope() as s:
        rows = s.exec(select(AccessLog).order_by(col(AccessLog.id))).all()
    got = [(r.ip, r.method, r.path, r.status, r.user_id) for r in rows]
    assert got == [
        ("198.51.100.7", "POST", "/api/auth/session", 200, user_id),
        ("203.0.113.9", "GET", "/healthz", 503, None),
    ]
    assert [r.path for r in access_log.recent_entries(user_id)] == ["/api/auth/session"]


@pytest.mark.promise("P27")
def test_purge_deletes_entries_older_than_30_days_exactly() -> None:
    now = utcnow()
    cutoff = now - timedelta(days=30)
    _log_at(
        cutoff - timedelta(days=90),          # p0
        cutoff - timedelta(microseconds=1),   # p1: just past 30 days
        cutoff,                               # p2: exactly 30 days old
        cutoff + timedelta(seconds=1),        # p3
        now,                                  # p4
    )
    assert purge_access_logs(now, 30) == 2
    assert _paths() == {"/p2", "/p3", "/p4"}
    assert purge_access_logs(now, 30) == 0
    assert purge_access_logs(now + timedelta(days=1), 30) == 2
    assert _paths() == {"/p4"}


@pytest.mark.promise("P27")
def test_scheduled_jobs_purge_logs_with_an_injected_clock() -> None:
    now = utcnow()
    _log_at(now - timedelta(days=31), now - timedelta(days=29))
    result = jobs.run_all_once(now)
    assert result["purge_access_logs"] == 1
    assert "purge_expired_auth" in result
    assert _paths() == {"/p1"}
    assert jobs.run_all_once(now + timedelta(days=2))["purge_access_logs"] == 1
    assert _paths() == set()


@pytest.mark.promise("P27")
def test_retention_log_days_setting(settings_env) -> None:
    settings_env(VOPIX_LOG_RETENTION_DAYS="7")
    now = utcnow()
    _log_at(now - timedelta(days=8), now - timedelta(days=6))
    assert jobs.run_all_once(now)["purge_access_logs"] == 1
    assert _paths() == {"/p1"}


@pytest.mark.promise("P27")
def test_retention_command(capsys) -> None:
    now = utcnow()
    _log_at(now - timedelta(days=45), now - timedelta(days=1))
    assert main(["retention"]) == 0
    assert json.loads(capsys.readouterr().out)["purge_access_logs"] == 1
    assert _paths() == {"/p1"}


@pytest.mark.promise("P27")
def test_python_m_vopix_retention_in_a_separate_process() -> None:
    now = utcnow()
    _log_at(now - timedelta(days=60), now)
    proc = subprocess.run(
        [sys.executable, "-m", "vopix", "retention"], cwd=REPO_ROOT, env=dict(os.environ),
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["purge_access_logs"] == 1
    assert _paths() == {"/p1"}


def test_purge_expired_auth_removes_old_ended_sessions(make_user, monkeypatch) -> None:
    user_id, _, _ = make_user()
    now = utcnow()
    live, live_info = sessions.start_session(user_id)
    _, old_revoked = sessions.start_session(user_id)
    _, new_revoked = sessions.start_session(user_id)
    _, old_expired = sessions.start_session(user_id)
    with session_scope() as s:
        for sid, field, at in [
            (old_revoked.session_id, "revoked_at", now - timedelta(days=2)),
            (new_revoked.session_id, "revoked_at", now - timedelta(hours=2)),
            (old_expired.session_id, "expires_at", now - timedelta(days=2)),
        ]:
            row = s.get(AuthSession, sid)
            setattr(row, field, at)
            s.add(row)
        s.add(LoginNonce(user_id=user_id, nonce_hash="a" * 64, expires_at=now - timedelta(minutes=1)))
        s.add(LoginNonce(user_id=user_id, nonce_hash="b" * 64, expires_at=now + timedelta(minutes=1)))
    assert jobs.purge_expired_auth(now) == 2
    with session_scope() as s:
        left = set(s.exec(select(AuthSession.id)).all())
        token_sessions = set(s.exec(select(RefreshToken.session_id)).all())
        nonces = set(s.exec(select(LoginNonce.nonce_hash)).all())
    assert left == {live_info.session_id, new_revoked.session_id}
    assert token_sessions == left  # their token hashes went with them
    assert nonces == {"b" * 64}
    assert sessions.resolve(live).user_id == user_id
    assert jobs.purge_expired_auth(now + timedelta(days=1, hours=1)) == 1  # the newly revoked one


def test_leader_lock_is_held_by_one_holder_at_a_time() -> None:
    first, second = jobs.LeaderLock(), jobs.LeaderLock()
    try:
        assert first.try_acquire() is True
        assert first.held
        assert first.try_acquire() is True  # re-entrant for its holder
        assert second.try_acquire() is False
        assert not second.held
        assert second.try_acquire() is False
        first.release()
        assert not first.held
        assert second.try_acquire() is True
        assert first.try_acquire() is False
    finally:
        first.release()
        second.release()
    third = jobs.LeaderLock()
    try:
        assert third.try_acquire() is True
    finally:
        third.release()


def test_leader_lock_excludes_another_process() -> None:
    lock = jobs.LeaderLock()
    code = (
        "from vopix.core.jobs import LeaderLock; l = LeaderLock(); "
        "print(l.try_acquire()); l.release()"
    )

    def other_process_gets_it() -> bool:
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=dict(os.environ),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip() == "True"

    try:
        assert lock.try_acquire()
        assert other_process_gets_it() is False
    finally:
        lock.release()
    assert other_process_gets_it() is True
