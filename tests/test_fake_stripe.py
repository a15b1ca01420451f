"""The fake Stripe server answers the real stripe SDK like Stripe does (tests/fakes/stripe.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import stripe

from tests.fakes._http import LoopbackServer, Request, Response
from tests.fakes.stripe import FakeStripeAPI, sign, signed_delivery

PRICES = {
    "price_pro": {"unit_amount": 1200, "currency": "eur", "interval": "month", "product_name": "Pro"},
    "price_team": {"unit_amount": 3900, "currency": "eur", "interval": "month", "product_name": "Team"},
}


@pytest.fixture
def fake() -> Iterator[FakeStripeAPI]:
    with FakeStripeAPI(prices=PRICES) as server:
        yield server


@pytest.fixture
def client(fake: FakeStripeAPI) -> stripe.StripeClient:
    return stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0)


class Receiver(LoopbackServer):
    """A webhook endpoint that verifies signatures with the SDK, as the product does."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.types: list[str] = []
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        try:
            event = stripe.Webhook.construct_event(
                request.body, request.headers.get("Stripe-Signature"), self.secret)
        except stripe.SignatureVerificationError:
            return Response(400, {"error": "bad signature"})
        with self.lock:
            self.types.append(event.type)
        return Response(200, {"received": True})


def _subscribe(fake: FakeStripeAPI, client: stripe.StripeClient, email: str = "ada@example.com") -> str:
    customer = client.v1.customers.create(params={"email": email, "metadata": {"vopix_user_id": "7"}})
    session = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id,
        "line_items": [{"price": "price_pro", "quantity": 1}], "client_reference_id": "7",
        "success_url": "http://app/billing?checkout={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://app/billing",
        "subscription_data": {"metadata": {"vopix_user_id": "7"}}})
    return str(fake.complete_checkout(session.id)["subscription"])


def test_customer_create_is_idempotent_and_listed_by_email(fake: FakeStripeAPI, client: stripe.StripeClient) -> None:
    params = {"email": "ada@example.com", "metadata": {"vopix_user_id": "7"}}
    first = client.v1.customers.create(params=params, options={"idempotency_key": "vopix-customer-7"})
    again = client.v1.customers.create(params=params, options={"idempotency_key": "vopix-customer-7"})
    assert again.id == first.id and first.id.startswith("cus_")
    assert len(fake.customers) == 1
    assert first.metadata["vopix_user_id"] == "7" and first.livemode is False
    method, path, flat = fake.requests[0]
    assert (method, path, flat["metadata[vopix_user_id]"]) == ("POST", "/v1/customers", "7")
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"email": "eve@example.com"},
                                   options={"idempotency_key": "vopix-customer-7"})
    found = client.v1.customers.list(params={"email": "ada@example.com", "limit": 1})
    assert [c.id for c in found.data] == [first.id]
    assert client.v1.customers.list(params={"email": "nobody@example.com", "limit": 1}).data == []
    assert client.v1.customers.retrieve(first.id).email == "ada@example.com"


def test_checkout_completes_into_an_active_subscription_with_item_periods(
    fake: FakeStripeAPI, client: stripe.StripeClient
) -> None:
    start = fake.now
    customer = client.v1.customers.create(params={"email": "ada@example.com"})
    session = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id,
        "line_items": [{"price": "price_pro", "quantity": 1}], "client_reference_id": "7",
        "success_url": "http://app/billing?checkout={CHECKOUT_SESSION_ID}",
        "subscription_data": {"metadata": {"vopix_user_id": "7"}}})
    assert session.status == "open" and session.subscription is None
    assert session.url == f"{fake.url}/pay/{session.id}" and session.id.startswith("cs_test_")
    fake.complete_checkout(session.id)

    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    subs = client.v1.subscriptions.list(params={"customer": customer.id, "status": "all", "limit": 10})
    assert [s.id for s in subs.data] == [done.subscription]
    sub = subs.data[0]
    assert sub.status == "active" and sub.metadata["vopix_user_id"] == "7"
    item = sub["items"].data[0]
    assert item.price.id == "price_pro" and item.price.recurring.interval == "month"
    assert item.current_period_start == start and item.current_period_end > start
    assert "current_period_end" not in sub
    invoices = client.v1.invoices.list(params={"customer": customer.id, "created": {"gte": start}, "limit": 24})
    assert [(i.status, i.amount_paid, i.id) for i in invoices.data] == [("paid", 1200, sub.latest_invoice)]
    assert invoices.data[0].parent.subscription_details.subscription == sub.id
    assert client.v1.invoices.list(params={"customer": customer.id, "created": {"gte": start + 1}}).data == []
    assert [e["type"] for e in fake.events if e["type"] != "customer.created"] == [
        "checkout.session.completed", "customer.subscription.created", "invoice.paid"]


def test_plan_switch_and_scheduled_cancel_through_the_api(fake: FakeStripeAPI, client: stripe.StripeClient) -> None:
    sub_id = _subscribe(fake, client)
    item_id = client.v1.subscriptions.retrieve(sub_id)["items"].data[0].id
    switched = client.v1.subscriptions.update(sub_id, params={
        "items": [{"id": item_id, "price": "price_team"}], "proration_behavior": "create_prorations"})
    assert switched["items"].data[0].price.id == "price_team"
    event = fake.events[-1]
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["previous_attributes"]["items"]["data"][0]["price"]["id"] == "price_pro"

    canceling = client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    assert canceling.cancel_at_period_end is True
    assert canceling.cancel_at == canceling["items"].data[0].current_period_end
    fake.end_period(sub_id)
    assert fake.events[-1]["type"] == "customer.subscription.deleted"
    ended = client.v1.subscriptions.retrieve(sub_id)
    assert ended.status == "canceled" and ended.ended_at == fake.now
    customer = ended.customer
    assert client.v1.subscriptions.list(params={"customer": customer}).data == []
    assert len(client.v1.subscriptions.list(params={"customer": customer, "status": "all"}).data) == 1


def test_dunning_past_due_then_paid_then_given_up(fake: FakeStripeAPI, client: stripe.StripeClient) -> None:
    sub_id = _subscribe(fake, client)
    first_end = fake.subscriptions[sub_id]["items"]["data"][0]["current_period_end"]
    fake.fail_renewal(sub_id)
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub.status == "past_due" and sub["items"].data[0].current_period_start == first_end
    assert client.v1.invoices.retrieve(sub.latest_invoice).status == "open"
    portal = client.v1.billing_portal.sessions.create(params={"customer": sub.customer})
    assert "Past due" in httpx.get(portal.url).text
    assert httpx.post(f"{portal.url}/pay").status_code == 303  # "Update payment method"
    assert client.v1.subscriptions.retrieve(sub_id).status == "active"
    assert "Update payment method" not in httpx.get(portal.url).text
    fake.fail_renewal(sub_id)
    fake.give_up(sub_id, outcome="unpaid")
    assert client.v1.subscriptions.retrieve(sub_id).status == "unpaid"
    fake.give_up(sub_id)
    assert client.v1.subscriptions.retrieve(sub_id).status == "canceled"
    types = [e["type"] for e in fake.events]
    assert types[types.index("invoice.paid") + 1:] == [
        "invoice.payment_failed", "customer.subscription.updated",
        "invoice.paid", "customer.subscription.updated",
        "invoice.payment_failed", "customer.subscription.updated",
        "customer.subscription.updated", "customer.subscription.deleted"]


def test_events_are_delivered_signed_in_order(fake: FakeStripeAPI, client: stripe.StripeClient) -> None:
    with Receiver(fake.webhook_secret) as receiver:
        fake.deliver_to(receiver.url)
        sub_id = _subscribe(fake, client)
        fake.schedule_cancel(sub_id)
    assert receiver.types == [e["type"] for e in fake.events] == [
        "customer.created", "checkout.session.completed", "customer.subscription.created",
        "invoice.paid", "customer.subscription.updated"]
    assert [code for _, code in fake.deliveries] == [200] * 5
    event = fake.events[-1]
    assert event["api_version"] == "2026-10-28.endive" and event["data"]["object"]["cancel_at_period_end"]


def test_signature_good_forged_and_stale(fake: FakeStripeAPI, client: stripe.StripeClient) -> None:
    _subscribe(fake, client)
    body, headers = signed_delivery(fake.events[-1], fake.webhook_secret)
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], fake.webhook_secret)
    assert event.type == "invoice.paid" and headers["Content-Type"].startswith("application/json")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sign(body, "whsec_someone_else"), fake.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        tampered = body.replace(b"invoice.paid", b"invoice.void")
        stripe.Webhook.construct_event(tampered, headers["Stripe-Signature"], fake.webhook_secret)
    stale = sign(body, fake.webhook_secret, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, stale, fake.webhook_secret)


def test_errors_have_stripes_shapes(fake: FakeStripeAPI, client: stripe.StripeClient) -> None:
    wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key provided"):
        wrong.v1.customers.list()
    with pytest.raises(stripe.InvalidRequestError) as missing_customer:
        client.v1.customers.retrieve("cus_x")
    assert (missing_customer.value.http_status, missing_customer.value.code, missing_customer.value.param) == (
        404, "resource_missing", "id")
    assert "No such customer: 'cus_x'" in str(missing_customer.value)
    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        client.v1.billing_portal.sessions.create(params={"return_url": "http://app/billing"})
    assert no_customer.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError) as bad_price:
        client.v1.checkout.sessions.create(params={"mode": "subscription", "line_items": [{"price": "price_gold"}]})
    assert bad_price.value.param == "line_items[0][price]"
    fake.fail_next(status=500)
    with pytest.raises(stripe.APIError):
        client.v1.customers.list()
    assert client.v1.customers.list().data == []


def test_browser_pages_play_stripes_side(fake: FakeStripeAPI, client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "ada@example.com"})
    session = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id, "line_items": [{"price": "price_pro", "quantity": 1}],
        "success_url": "http://app/billing?checkout={CHECKOUT_SESSION_ID}", "cancel_url": "http://app/billing"})
    page = httpx.get(session.url).text
    assert "Subscribe to Pro" in page and "€12.00 per month" in page and "Back to VOPIX" in page
    paid = httpx.post(session.url)
    assert paid.status_code == 303 and paid.headers["Location"] == f"http://app/billing?checkout={session.id}"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"

    portal = client.v1.billing_portal.sessions.create(params={"customer": customer.id,
                                                              "return_url": "http://app/billing"})
    assert portal.url == f"{fake.url}/portal/{portal.id}" and portal.id.startswith("bps_")
    page = httpx.get(portal.url).text
    assert "Billing portal" in page and "Active" in page and "Cancel plan" in page
    assert "Update payment method" not in page and "Return to VOPIX" in page
    assert httpx.post(f"{portal.url}/cancel").status_code == 303
    page = httpx.get(portal.url).text
    assert "Cancels on" in page and "Cancel plan" not in page
    sub = client.v1.subscriptions.retrieve(str(fake.checkout_sessions[session.id]["subscription"]))
    assert sub.cancel_at_period_end is True
    invoice = httpx.get(client.v1.invoices.retrieve(sub.latest_invoice).hosted_invoice_url).text
    assert "Invoice " in invoice and "€12.00" in invoice and "Paid" in invoice


def test_concurrent_retries_with_one_idempotency_key_make_one_customer(
    fake: FakeStripeAPI, client: stripe.StripeClient
) -> None:
    fake.latency = 0.02
    ids: list[str] = []

    def create(key: str) -> None:
        ids.append(client.v1.customers.create(params={"email": "ada@example.com"},
                                              options={"idempotency_key": key}).id)

    threads = [threading.Thread(target=create, args=(f"k{i % 2}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 2 == len(fake.customers)
