"""POST /api/stripe/webhook and the billing worker behind it: what each kind of delivery gets,
that only a verified, new event can change anything, that out-of-order and repeated events end in
Stripe's current state, and that a Stripe outage is retried by us, not lost."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from datetime import timedelta

import pytest
from sqlmodel import func, select

from tests.core.billing.conftest import events_since, subscribe
from tests.fakes.stripe import sign, signed_delivery
from vopix.api.app import build_api
from vopix.core.billing import checkout, events, worker
from vopix.core.clock import utcnow
from vopix.core.kinds import StripeEventStatus
from vopix.db import session_scope
from vopix.models import StripeEvent, User

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PATH = "/api/stripe/webhook"


@pytest.fixture
def client() -> TestClient:
    return TestClient(build_api(), base_url="http://testserver")


def _plan(user_id: int) -> tuple[str, str]:
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user.plan_id, user.subscription_status


def _stored_events() -> int:
    with session_scope() as s:
        return int(s.exec(select(func.count()).select_from(StripeEvent)).one())


def _settle() -> int:
    """Run the billing worker over everything due now (as the app's worker would)."""
    return asyncio.run(worker.drain())


def _statuses() -> dict[str, str]:
    with session_scope() as s:
        return {e.id: e.status for e in s.exec(select(StripeEvent))}


def _subscription_reads(fake) -> int:
    return sum(1 for method, path, _ in fake.requests if method == "GET" and path == "/v1/subscriptions")


@pytest.mark.promise("P11")
def test_signed_events_in_order_give_the_paid_plan_without_the_return_page(stripe_fake, make_user, client) -> None:
    user_id, _, _ = make_user()
    mark = len(stripe_fake.events)
    subscribe(stripe_fake, user_id)
    kinds = []
    for event in events_since(stripe_fake, mark):
        body, headers = signed_delivery(event, stripe_fake.webhook_secret)
        r = client.post(PATH, content=body, headers=headers)
        assert r.status_code == 200, r.text
        kinds.append(event["type"])
    assert kinds[-3:] == ["checkout.session.completed", "customer.subscription.created", "invoice.paid"]
    assert _plan(user_id) == ("free", "free")  # acknowledged first, worked on after
    reads = _subscription_reads(stripe_fake)
    assert _settle() == 1  # the customer's whole burst in one claim ...
    assert _subscription_reads(stripe_fake) == reads + 1  # ... settled by one re-read
    assert _plan(user_id) == ("pro", "active")
    assert set(_statuses().values()) == {StripeEventStatus.DONE}


def test_events_out_of_order_end_in_stripes_current_state(stripe_fake, make_user, deliver) -> None:
    user_id, _, _ = make_user()
    mark = len(stripe_fake.events)
    sub_id = subscribe(stripe_fake, user_id)
    stripe_fake.schedule_cancel(sub_id)
    stripe_fake.end_period(sub_id)
    events = events_since(stripe_fake, mark)
    deleted = next(e for e in events if e["type"] == "customer.subscription.deleted")
    created = next(e for e in events if e["type"] == "customer.subscription.created")
    assert deliver(deleted).status == 200
    _settle()
    assert _plan(user_id) == ("free", "canceled")
    # The older "created" (status active in its body) arrives late: the body is not trusted.
    assert created["data"]["object"]["status"] == "active"
    assert deliver(created).status == 200
    _settle()
    assert _plan(user_id) == ("free", "canceled")


def test_a_repeated_delivery_is_acknowledged_and_changes_nothing(stripe_fake, make_user, deliver) -> None:
    user_id, _, _ = make_user()
    mark = len(stripe_fake.events)
    subscribe(stripe_fake, user_id)
    [paid] = events_since(stripe_fake, mark, "invoice.paid")
    assert deliver(paid).body == {"status": "ok"}
    _settle()
    reads = _subscription_reads(stripe_fake)
    assert deliver(paid).body == {"status": "duplicate"}
    assert _settle() == 0 and _subscription_reads(stripe_fake) == reads  # no second sync
    assert _stored_events() == 1


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no signature", "missing Stripe-Signature"),
        ("another secret", "bad signature"),
        ("stale", "bad signature"),
        ("body changed after signing", "bad signature"),
        ("signed but not JSON", "malformed event"),
        ("signed JSON without data", "malformed event"),
    ],
)
def test_bad_deliveries_get_a_400_and_change_nothing(stripe_fake, make_user, client, case, expected) -> None:
    user_id, _, _ = make_user()
    mark = len(stripe_fake.events)
    checkout_url = checkout.start_checkout(user_id, "pro")
    stripe_fake.complete_checkout(checkout_url.rsplit("/", 1)[-1])
    [event] = events_since(stripe_fake, mark, "customer.subscription.created")
    body, headers = signed_delivery(event, stripe_fake.webhook_secret)
    if case == "no signature":
        del headers["Stripe-Signature"]
    elif case == "another secret":
        headers["Stripe-Signature"] = sign(body, "whsec_forged")
    elif case == "stale":
        headers["Stripe-Signature"] = sign(body, stripe_fake.webhook_secret, int(time.time()) - 600)
    elif case == "body changed after signing":
        body = body.replace(b'"active"', b'"trialing"')
    elif case == "signed but not JSON":
        body = b"not json {"
        headers["Stripe-Signature"] = sign(body, stripe_fake.webhook_secret)
    elif case == "signed JSON without data":
        body = json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid"}).encode()
        headers["Stripe-Signature"] = sign(body, stripe_fake.webhook_secret)
    r = client.post(PATH, content=body, headers=headers)
    assert (r.status_code, r.json()) == (400, {"error": expected})
    assert _plan(user_id) == ("free", "free") and _stored_events() == 0


def test_an_oversized_body_is_refused_before_it_is_read(stripe_fake, client) -> None:
    r = client.post(PATH, content=b"x" * 600_000, headers={"Stripe-Signature": "t=1,v1=00"})
    assert r.status_code == 413 and _stored_events() == 0


def test_without_billing_the_endpoint_is_off(settings_env, client) -> None:
    settings_env(VOPIX_STRIPE_SECRET_KEY="", VOPIX_STRIPE_WEBHOOK_SECRET="")
    r = client.post(PATH, content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert (r.status_code, r.json()) == (404, {"error": "billing is off"})


def test_when_stripe_is_down_the_event_waits_and_is_retried_later(stripe_fake, make_user, deliver) -> None:
    user_id, _, _ = make_user()
    mark = len(stripe_fake.events)
    subscribe(stripe_fake, user_id)
    [paid] = events_since(stripe_fake, mark, "invoice.paid")
    assert deliver(paid).status == 200  # acknowledged: Stripe's own retries are not needed
    stripe_fake.fail_next(status=500, count=3)  # the first try and the SDK's two retries
    assert _settle() == 1
    assert _statuses()[paid["id"]] == StripeEventStatus.PENDING and _plan(user_id)[0] == "free"
    assert _settle() == 0  # not due yet: it waits for its backoff
    later = utcnow() + events.retry_delay(1) + timedelta(seconds=1)
    claimed = events.claim("w-test", now=later)
    assert claimed is not None and claimed.event_ids == (paid["id"],) and claimed.attempts == 2
    assert asyncio.run(worker.settle(claimed, "w-test"))
    assert _plan(user_id) == ("pro", "active") and _statuses()[paid["id"]] == StripeEventStatus.DONE


def test_a_worker_that_died_gives_its_events_back_and_retries_end(stripe_fake, make_user, deliver) -> None:
    user_id, _, _ = make_user()
    mark = len(stripe_fake.events)
    subscribe(stripe_fake, user_id)
    [paid] = events_since(stripe_fake, mark, "invoice.paid")
    deliver(paid)
    assert events.claim("w-dead") is not None  # claimed, then the process died
    assert events.claim("w-live") is None  # leased to the dead worker for now
    claimed = events.claim("w-live", now=utcnow() + events.LEASE + timedelta(seconds=1))
    assert claimed is not None and claimed.event_ids == (paid["id"],)
    stuck = events.Claimed(claimed.customer_id, claimed.event_ids, events.MAX_ATTEMPTS)
    assert events.mark_failed(stuck, "w-live", "Stripe: APIConnectionError")  # given up
    assert _statuses()[paid["id"]] == StripeEventStatus.FAILED


def test_an_event_for_a_customer_vopix_did_not_make_is_acknowledged_and_ignored(stripe_fake, make_user, deliver) -> None:
    import stripe as stripe_sdk

    client = stripe_sdk.StripeClient(stripe_fake.api_key, base_addresses={"api": stripe_fake.url})
    stranger = client.v1.customers.create(params={"email": "stranger@example.com"})
    cs = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": stranger.id, "success_url": "http://elsewhere/ok",
        "line_items": [{"price": "price_pro", "quantity": 1}],
    })
    mark = len(stripe_fake.events)
    stripe_fake.complete_checkout(cs.id)
    for event in events_since(stripe_fake, mark):
        assert deliver(event).status == 200
    _settle()
    assert set(_statuses().values()) == {StripeEventStatus.DONE}
    with session_scope() as s:
        assert s.exec(select(func.count()).select_from(User).where(User.plan_id != "free")).one() == 0


def test_handled_event_ids_are_kept_30_days(stripe_fake, make_user, deliver) -> None:
    user_id, _, _ = make_user()
    mark = len(stripe_fake.events)
    subscribe(stripe_fake, user_id)
    for event in events_since(stripe_fake, mark):
        deliver(event)
    _settle()
    kept = _stored_events()
    assert kept >= 3
    assert events.purge(utcnow() + timedelta(days=29)) == 0
    assert events.purge(utcnow() + timedelta(days=31)) == kept
