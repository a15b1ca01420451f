"""/healthz readiness (issue 17): database and Redis decide the status code a load balancer sees;
the scheduler leader, the channel queue's and the mail outbox's lag make it "degraded"; the
verbose answer, which says which check failed, is for allowed callers only."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest

from vopix.api.app import build_api
from vopix.channels import queue
from vopix.core import jobs
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind
from vopix.core.mail import outbox

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def _client(address: tuple[str, int] = ("127.0.0.1", 40100)) -> TestClient:
    return TestClient(build_api(), base_url="http://testserver", client=address)


@pytest.fixture
def leader() -> Iterator[jobs.LeaderLock]:
    lock = jobs.LeaderLock()
    assert lock.try_acquire()
    yield lock
    lock.release()


def test_all_checks_pass_with_a_leader_and_nothing_waiting(leader) -> None:
    r = _client().get("/healthz?verbose=1")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "scheduler_leader", "channel_queue", "mail_outbox"}


def test_without_a_scheduler_leader_it_is_degraded_but_still_serving() -> None:
    r = _client().get("/healthz?verbose=1")
    assert r.status_code == 200
    assert r.json()["status"] == "degraded" and r.json()["failed"] == ["scheduler_leader"]


def test_the_verbose_answer_is_refused_outside_the_allow_list_and_the_plain_one_says_little(leader) -> None:
    outside = _client(("203.0.113.50", 40101))
    assert outside.get("/healthz?verbose=1").status_code == 403
    plain = outside.get("/healthz")
    assert plain.status_code == 200 and set(plain.json()) == {"status", "database"}


def test_a_stale_channel_queue_and_a_late_mail_are_named(leader, monkeypatch) -> None:
    monkeypatch.setenv("VOPIX_HEALTH_QUEUE_LAG_SECONDS", "60")
    monkeypatch.setenv("VOPIX_HEALTH_OUTBOX_LAG_SECONDS", "300")
    old = utcnow() - timedelta(minutes=20)
    queue.store_events("telegram", [queue.NewEvent("77", json.dumps({"update_id": 77}), "h")], now=old)
    mail_id = outbox.send_mail(
        to="late@example.com", kind=MailKind.TEST, template="test", public_url="http://testserver"
    )
    _push_mail_back(mail_id, minutes=10)
    r = _client().get("/healthz?verbose=1")
    assert r.status_code == 200  # slow work does not take the instance out of the balancer
    body = r.json()
    assert body["status"] == "degraded"
    assert sorted(body["failed"]) == ["channel_queue", "mail_outbox"]
    assert body["checks"]["channel_queue"]["oldest_s"] >= 1200
    assert body["checks"]["channel_queue"]["threshold_s"] == 60
    assert body["checks"]["mail_outbox"]["oldest_due_s"] >= 600
    assert "late@example.com" not in r.text


def _push_mail_back(mail_id: int, minutes: int) -> None:
    from vopix.db import session_scope
    from vopix.models import MailOutbox

    with session_scope() as s:
        row = s.get(MailOutbox, mail_id)
        assert row is not None
        row.next_attempt_at = utcnow() - timedelta(minutes=minutes)
        s.add(row)


def test_redis_configured_but_down_makes_it_503(leader, settings_env) -> None:
    settings_env(VOPIX_REDIS_URL="redis://127.0.0.1:1/0")
    r = _client().get("/healthz?verbose=1")
    assert r.status_code == 503
    assert r.json()["failed"] == ["redis"]


def test_redis_configured_and_up_is_checked(leader, settings_env) -> None:
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    settings_env(VOPIX_REDIS_URL="redis://127.0.0.1:6379/0")
    body = _client().get("/healthz?verbose=1").json()
    assert body["checks"]["redis"]["ok"] is True and body["status"] == "ok"
