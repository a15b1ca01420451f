"""/metrics (issue 17): who may read it, and that a scripted run moves each counter by exactly
what happened (a web turn, a Telegram turn, a mail, a Stripe event, a task), with no label
holding a person's id, email, chat id or content."""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from datetime import timedelta

import pytest

from tests.channels.helpers import drain, link_telegram, post_update
from tests.core.agent.conftest import collect
from tests.core.billing.conftest import events_since, subscribe
from tests.fakes.ai_provider import HttpError, Reply
from tests.fakes.stripe import signed_delivery
from tests.fakes.telegram_api import make_text_update
from vopix.api.app import build_api
from vopix.api.middleware import AccessLogMiddleware
from vopix.core import metrics
from vopix.core.agent import runtime
from vopix.core.billing import worker as billing_worker
from vopix.core.kinds import MailKind
from vopix.core.mail import outbox
from vopix.core.mail import worker as mail_worker

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
LOOPBACK = ("127.0.0.1", 40001)
OUTSIDE = ("203.0.113.7", 40002)


def _client(address: tuple[str, int] = LOOPBACK) -> TestClient:
    return TestClient(AccessLogMiddleware(build_api()), base_url="http://testserver", client=address)


def scrape() -> str:
    response = _client().get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_answer_loopback_and_refuse_other_addresses(settings_env) -> None:
    assert _client().get("/metrics").status_code == 200
    refused = _client(OUTSIDE).get("/metrics")
    assert refused.status_code == 403
    assert "vopix_" not in refused.text


def test_metrics_token_lets_an_outside_scraper_in_and_a_wrong_one_not(monkeypatch) -> None:
    monkeypatch.setenv("VOPIX_METRICS_TOKEN", "scrape-token-0123456789abcdef")
    outside = _client(OUTSIDE)
    assert outside.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 403
    assert outside.get("/metrics", headers={"Authorization": "Basic scrape-token-0123456789abcdef"}).status_code == 403
    ok = outside.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789abcdef"})
    assert ok.status_code == 200 and "vopix_http_requests_total" in ok.text


def test_metrics_allow_list_takes_cidrs(monkeypatch) -> None:
    monkeypatch.setenv("VOPIX_METRICS_ALLOW", "203.0.113.0/24, 10.0.0.0/8")
    assert _client(OUTSIDE).get("/metrics").status_code == 200
    assert _client(("198.51.100.1", 1)).get("/metrics").status_code == 403
    assert _client(LOOPBACK).get("/metrics").status_code == 403  # the list replaces the default


def test_behind_a_proxy_the_address_the_proxy_saw_decides() -> None:
    # nginx on loopback appends the real client: from outside it is refused, whatever the
    # client itself claimed in the first entry.
    proxied = _client(LOOPBACK)
    forged = proxied.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.7"})
    assert forged.status_code == 403
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    # Straight from outside, a forged header does not help either.
    assert _client(OUTSIDE).get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_http_requests_are_counted_by_route_template_never_the_raw_path() -> None:
    before = scrape()
    route = "/api/integrations/{service}/callback"
    labels = {"route": route, "method": "GET"}
    _client().get("/api/integrations/github/callback?code=abc&state=s3cr3t")
    _client().get("/api/integrations/slack/callback")
    after = scrape()
    moved = metrics.sample(after, "vopix_http_requests_total", labels) - metrics.sample(
        before, "vopix_http_requests_total", labels
    )
    assert moved == 2
    assert metrics.sample(after, "vopix_http_request_duration_seconds_count", labels) >= 2
    assert "github/callback" not in after and "s3cr3t" not in after


def _stripe_events_done() -> int:
    from sqlmodel import select

    from vopix.core.kinds import StripeEventStatus
    from vopix.db import session_scope
    from vopix.models import StripeEvent

    with session_scope() as s:
        return len(s.exec(select(StripeEvent).where(StripeEvent.status == StripeEventStatus.DONE)).all())


def _delta(before: str, after: str, name: str, **labels: str) -> float:
    return metrics.sample(after, name, labels) - metrics.sample(before, name, labels)


async def _scrape_async() -> str:
    return await asyncio.to_thread(scrape)


@pytest.mark.asyncio
async def test_a_scripted_run_moves_each_counter_by_exactly_what_happened(
    api, agent_user, telegram_api, fake_ai, smtp, stripe_fake, make_user
) -> None:
    from vopix.core.agent import history

    chat_id = 555_000_777
    link_telegram(agent_user, chat_id)
    before = await _scrape_async()

    # One web turn through core, answered.
    fake_ai.script(Reply("Hello from the web.", chunks=2), Reply("Hi on Telegram."), HttpError(401))
    conv = await asyncio.to_thread(history.create_conversation, agent_user)
    events = await collect(runtime.run_turn(agent_user, "hi", channel="web", conversation_id=conv.id))
    assert events[-1].text == "Hello from the web."
    # One Telegram message through the webhook route and the worker, answered.
    assert await post_update(api, make_text_update(7001, chat_id, "hello bot")) == 200
    assert await post_update(api, make_text_update(7002, chat_id, "x"), secret="wrong") == 403
    assert await drain() == 1
    # One web turn whose provider refuses the key: a notice, and a provider error.
    events = await collect(runtime.run_turn(agent_user, "again", channel="web", conversation_id=conv.id))
    assert "refused the API key" in events[-1].text
    # One mail, sent.
    await asyncio.to_thread(
        outbox.send_mail, to="ops@example.com", kind=MailKind.TEST, template="test",
        public_url="http://testserver",
    )
    mailed = await mail_worker.drain()  # this one, and any the run queued on its own
    assert mailed >= 1
    # One Stripe customer's events through the webhook route, settled.
    payer, _, _ = make_user()
    mark = len(stripe_fake.events)
    await asyncio.to_thread(subscribe, stripe_fake, payer)
    delivered = 0
    for event in events_since(stripe_fake, mark):
        body, headers = signed_delivery(event, stripe_fake.webhook_secret)
        assert (await api.post("/api/stripe/webhook", content=body, headers=headers)).status_code == 200
        delivered += 1
    assert await billing_worker.drain() == 1
    # One reminder task, run by the task worker twelve minutes after its time (inside the grace).
    from tests.core.tasks.conftest import T0
    from vopix.core.tasks import store as tasks
    from vopix.core.tasks import worker as task_worker

    await asyncio.to_thread(tasks.create, agent_user, "reminder", "call Ana", {"in_minutes": 10}, now=T0)
    assert await task_worker.run_due("w1", lambda: T0 + timedelta(minutes=22)) == 1

    after = await _scrape_async()
    assert _delta(before, after, "vopix_agent_turns_total", channel="web", outcome="complete") == 1
    assert _delta(before, after, "vopix_agent_turns_total", channel="web", outcome="notice") == 1
    assert _delta(before, after, "vopix_agent_turns_total", channel="telegram", outcome="complete") == 1
    assert _delta(before, after, "vopix_agent_time_to_first_token_seconds_count", channel="web") == 1
    assert _delta(before, after, "vopix_agent_time_to_first_token_seconds_count", channel="telegram") == 1
    assert _delta(before, after, "vopix_provider_latency_seconds_count", provider="openai") == 2
    assert _delta(before, after, "vopix_provider_errors_total", provider="openai") == 1
    assert _delta(before, after, "vopix_webhook_deliveries_total", channel="telegram", result="accepted") == 1
    assert _delta(before, after, "vopix_webhook_deliveries_total", channel="telegram", result="forbidden") == 1
    assert _delta(before, after, "vopix_webhook_deliveries_total", channel="stripe", result="accepted") == delivered
    assert _delta(before, after, "vopix_mail_sent_total") == mailed == len(smtp.received)
    assert _delta(before, after, "vopix_mail_failures_total") == 0
    settled = _stripe_events_done()  # the relevant ones: others are acknowledged and dropped
    assert 1 <= settled <= delivered
    assert _delta(before, after, "vopix_stripe_events_total", result="processed") == settled
    assert _delta(before, after, "vopix_task_occurrences_total", state="due") == 1
    assert _delta(before, after, "vopix_task_occurrences_total", state="late") == 1
    assert _delta(before, after, "vopix_task_occurrences_total", state="missed") == 0
    assert metrics.sample(after, "vopix_channel_queue_depth") == 0
    assert metrics.sample(after, "vopix_database_up") == 1

    # No label names a person, an address, a chat or anything said.
    label_values = set(re.findall(r'="([^"]*)"', after))
    for secret in (str(agent_user), str(payer), str(chat_id), "ops@example.com", "hello bot", "Hello from"):
        assert not any(secret == v or (len(secret) > 4 and secret in v) for v in label_values), secret


def test_queue_depth_and_oldest_age_are_read_at_scrape_time() -> None:
    from datetime import timedelta

    from vopix.channels import queue
    from vopix.core.clock import utcnow

    old = utcnow() - timedelta(minutes=10)
    queue.store_events("telegram", [queue.NewEvent("9001", json.dumps({"update_id": 9001}), "h1")], now=old)
    queue.store_events("whatsapp", [queue.NewEvent("wamid.1", "{}", "h2")])
    text = scrape()
    assert metrics.sample(text, "vopix_channel_queue_depth", {"channel": "telegram"}) == 1
    assert metrics.sample(text, "vopix_channel_queue_depth", {"channel": "whatsapp"}) == 1
    assert 590 <= metrics.sample(text, "vopix_channel_queue_oldest_age_seconds") < 3600


def test_due_tasks_are_read_at_scrape_time(make_user) -> None:
    from datetime import timedelta

    from vopix.core.clock import utcnow
    from vopix.db import session_scope
    from vopix.models import Task

    user_id, _, _ = make_user()
    now = utcnow()
    with session_scope() as s:
        s.add(Task(user_id=user_id, start_local="2026-01-01T09:00", next_run_at=now - timedelta(minutes=3)))
        s.add(Task(user_id=user_id, start_local="2026-01-01T09:00", next_run_at=now + timedelta(hours=1)))
        s.add(Task(user_id=user_id, start_local="2026-01-01T09:00", status="paused",
                   next_run_at=now - timedelta(hours=1)))
    text = scrape()
    assert metrics.sample(text, "vopix_tasks_due") == 1
    assert 170 <= metrics.sample(text, "vopix_tasks_oldest_due_age_seconds") < 3600


@pytest.mark.asyncio
async def test_task_occurrences_are_counted_due_late_and_missed() -> None:
    from types import SimpleNamespace

    async def finished(outcome: str) -> SimpleNamespace:
        return SimpleNamespace(outcome=outcome)

    def now(state: str) -> float:
        return metrics.sample(metrics.render(with_database=False)[0].decode(),
                              "vopix_task_occurrences_total", {"state": state})

    before = {s: now(s) for s in ("due", "late", "missed")}
    await metrics.observe_task_occurrence(finished("delivered"), late_s=2)
    await metrics.observe_task_occurrence(finished("fallback"), late_s=600)  # ran ten minutes late
    await metrics.observe_task_occurrence(finished("missed"), late_s=7200)
    await metrics.observe_task_occurrence(finished("deferred"), late_s=0)  # comes back later
    assert {s: now(s) - before[s] for s in before} == {"due": 3, "late": 1, "missed": 1}


def test_a_malformed_allow_list_lets_nobody_in_but_the_token(monkeypatch, caplog) -> None:
    monkeypatch.setenv("VOPIX_METRICS_ALLOW", "127.0.0.1/8, not-a-network")
    monkeypatch.setenv("VOPIX_METRICS_TOKEN", "scrape-token-0123456789abcdef")
    assert _client().get("/metrics").status_code == 403
    ok = _client().get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789abcdef"})
    assert ok.status_code == 200
    metrics._check_allow_list()
    assert "not a CIDR" in caplog.text
