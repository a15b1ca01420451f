"""Checkout to a paid plan, limits that follow the plan at once, plan switches, cancelling at
the period's end, failed payments and their grace, all against a stateful fake Stripe."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.core.billing.conftest import events_since, subscribe
from vopix.core import plans, usage
from vopix.core.billing import checkout, overview, stripe_api, sync
from vopix.core.kinds import MailKind, NoticeKind
from vopix.core.workspace import store
from vopix.db import session_scope
from vopix.models import BillingAccount, MailOutbox, User


def _plan_and_status(user_id: int) -> tuple[str, str]:
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user.plan_id, user.subscription_status


def _billing_notices(user_id: int) -> list[str]:
    return [n.text for kind in (NoticeKind.PAYMENT_FAILED, NoticeKind.BILLING)
            for n in usage.unread_notices(user_id, 20, kind=kind)]


def _mails(user_id: int) -> list[str]:
    with session_scope() as s:
        return list(s.exec(select(MailOutbox.subject).where(MailOutbox.user_id == user_id,
                                                            MailOutbox.kind == MailKind.BILLING)
                           .order_by(MailOutbox.id)))  # in the order they were queued


def test_without_a_secret_key_billing_is_off_and_everything_else_works(make_user, settings_env) -> None:
    settings_env(VOPIX_STRIPE_SECRET_KEY="")
    user_id, _, _ = make_user()
    view = overview.overview(user_id)
    assert not view.enabled and not any(o.buyable for o in view.offers)
    with pytest.raises(stripe_api.BillingOff):
        checkout.start_checkout(user_id, "pro")
    usage.record_message(user_id)
    assert usage.month_usage(user_id).messages == 1


@pytest.mark.promise("P01")
@pytest.mark.promise("P11")
@pytest.mark.promise("P21")
def test_checkout_makes_the_customer_first_and_the_return_shows_the_paid_plan(stripe_fake, make_user) -> None:
    user_id, email, _ = make_user()
    assert sync.sync_user(user_id) is None  # no customer yet: nothing to read
    url = checkout.start_checkout(user_id, "pro")
    assert url.startswith(f"{stripe_fake.url}/pay/cs_test_")
    [customer] = stripe_fake.customers.values()
    assert customer["email"] == email and customer["metadata"] == {"vopix_user_id": str(user_id)}
    cs = stripe_fake.checkout_sessions[url.rsplit("/", 1)[-1]]
    assert cs["customer"] == customer["id"] and cs["mode"] == "subscription"
    assert cs["success_url"] == "http://testserver/billing?checkout={CHECKOUT_SESSION_ID}"
    assert _plan_and_status(user_id) == ("free", "free")

    stripe_fake.complete_checkout(cs["id"])
    # Back on /billing: the page re-reads the subscription; no webhook has arrived.
    result = sync.sync_user(user_id)
    assert result is not None and result.plan_id == "pro" and result.plan_changed
    assert _plan_and_status(user_id) == ("pro", "active")  # P01: the status is on the account
    view = overview.overview(user_id)
    assert view.limits.name == "Pro" and view.has_subscription and view.period_end is not None
    # P21: Stripe's pages took the payment; VOPIX sent no card data and stores only ids and dates.
    sent = " ".join(f"{k}={v}" for _, _, params in stripe_fake.requests for k, v in params.items())
    assert "card" not in sent and "cvc" not in sent
    with session_scope() as s:
        account = s.get(BillingAccount, user_id)
        assert account is not None
        stored = set(account.model_dump())
    assert stored == {"user_id", "customer_id", "subscription_id", "status", "price_id", "subscribed_plan_id",
                      "current_period_end", "cancel_at_period_end", "comp_plan_id", "synced_at", "updated_at"}


@pytest.mark.promise("P11")
def test_limits_follow_the_plan_at_once_and_drop_back_when_it_ends(stripe_fake, make_user) -> None:
    plans.save_plan("free", messages_per_month=2)
    user_id, _, _ = make_user()
    for _ in range(2):
        with session_scope() as s:
            usage.admit_message(s, user_id)
    with session_scope() as s, pytest.raises(usage.QuotaExceeded, match="Upgrade on the Billing page"):
        usage.admit_message(s, user_id)
    sub_id = subscribe(stripe_fake, user_id)
    sync.sync_user(user_id)
    with session_scope() as s:
        usage.admit_message(s, user_id)  # the Pro plan's 5,000: the third message goes through
    stripe_fake.fail_renewal(sub_id)
    stripe_fake.give_up(sub_id, "canceled")  # Stripe stopped retrying
    sync.sync_user(user_id)
    with session_scope() as s, pytest.raises(usage.QuotaExceeded):
        usage.admit_message(s, user_id)


@pytest.mark.promise("P11")
def test_cancel_keeps_the_plan_to_the_end_of_the_period_then_free_keeps_every_file(stripe_fake, make_user) -> None:
    user_id, _, _ = make_user()
    sub_id = subscribe(stripe_fake, user_id)
    sync.sync_user(user_id)
    store.write_bytes(user_id, "big.bin", b"x" * 300_000)
    stripe_fake.schedule_cancel(sub_id)  # the portal's Cancel
    sync.sync_user(user_id)
    view = overview.overview(user_id)
    assert view.limits.plan_id == "pro" and view.cancel_at_period_end
    plans.save_plan("free", storage_bytes=200_000)
    stripe_fake.end_period(sub_id)
    sync.sync_user(user_id)
    assert _plan_and_status(user_id) == ("free", "canceled")
    assert store.read_bytes(user_id, "big.bin", 1_000_000)[1] == b"x" * 300_000  # nothing deleted
    refusal = re.escape("more than the 195.3 KB of your Free plan. Nothing was deleted")
    with pytest.raises(store.QuotaExceeded, match=refusal):
        store.write_bytes(user_id, "more.txt", b"y")
    assert any("Pro plan has ended" in t for t in _billing_notices(user_id))
    assert _mails(user_id) == ["VOPIX: your Pro plan has ended"]


@pytest.mark.promise("P11")
def test_a_failed_payment_keeps_the_plan_while_stripe_retries_and_tells_the_person(stripe_fake, make_user) -> None:
    user_id, _, _ = make_user()
    sub_id = subscribe(stripe_fake, user_id)
    sync.sync_user(user_id)
    stripe_fake.fail_renewal(sub_id)
    sync.sync_user(user_id)
    sync.sync_user(user_id)  # a second read of the same state says nothing twice
    assert _plan_and_status(user_id) == ("pro", "past_due")
    [notice] = _billing_notices(user_id)
    assert "payment failed" in notice and "update your payment method" in notice
    assert _mails(user_id) == ["VOPIX: your payment failed"]
    with session_scope() as s:
        mail = s.exec(select(MailOutbox).where(MailOutbox.user_id == user_id)).first()
        assert mail is not None and "http://testserver/billing" in mail.text_body

    stripe_fake.pay_open_invoice(sub_id)  # the person fixed the card in the portal
    sync.sync_user(user_id)
    assert _plan_and_status(user_id) == ("pro", "active") and _billing_notices(user_id) == []

    stripe_fake.fail_renewal(sub_id)
    sync.sync_user(user_id)
    stripe_fake.give_up(sub_id, "unpaid")  # Stripe's retries are spent
    sync.sync_user(user_id)
    assert _plan_and_status(user_id) == ("free", "unpaid")
    # Lapsed, not ended: the person is told how to bring it back.
    assert any("on the Free plan until it is paid" in t for t in _billing_notices(user_id))
    assert _mails(user_id)[-1] == "VOPIX: your Pro plan is paused until it is paid"


def test_switching_plans_changes_the_one_subscription(stripe_fake, make_user) -> None:
    user_id, _, _ = make_user()
    sub_id = subscribe(stripe_fake, user_id)
    sync.sync_user(user_id)
    with pytest.raises(checkout.BillingError, match="already have a subscription"):
        checkout.start_checkout(user_id, "team")
    result = checkout.switch_plan(user_id, "team")
    assert result is not None and result.plan_id == "team"
    assert [s["id"] for s in stripe_fake.subscriptions.values()] == [sub_id]
    assert stripe_fake.subscriptions[sub_id]["items"]["data"][0]["price"]["id"] == "price_team"
    with pytest.raises(checkout.BillingError, match="cannot be bought"):
        checkout.switch_plan(user_id, "free")


def test_keep_my_plan_takes_back_a_scheduled_cancel(stripe_fake, make_user) -> None:
    user_id, _, _ = make_user()
    sub_id = subscribe(stripe_fake, user_id)
    stripe_fake.schedule_cancel(sub_id)
    sync.sync_user(user_id)
    assert overview.overview(user_id).cancel_at_period_end
    checkout.switch_plan(user_id, "pro")
    assert not overview.overview(user_id).cancel_at_period_end
    assert stripe_fake.subscriptions[sub_id]["cancel_at_period_end"] is False


def test_the_portal_returns_to_billing_and_invoices_link_to_stripe(stripe_fake, make_user) -> None:
    user_id, _, _ = make_user()
    with pytest.raises(checkout.BillingError, match="never subscribed"):
        checkout.portal_url(user_id)
    assert checkout.invoices(user_id) == []
    subscribe(stripe_fake, user_id)
    url = checkout.portal_url(user_id)
    [portal] = stripe_fake.portal_sessions.values()
    assert url == portal["url"] and portal["return_url"] == "http://testserver/billing"
    [invoice] = checkout.invoices(user_id)
    assert invoice.url.startswith(f"{stripe_fake.url}/invoice/in_") and invoice.amount_cents == 1200
    assert invoice.status == "paid"


def test_two_first_clicks_make_one_customer(stripe_fake, make_user) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user_id, _, _ = make_user()
    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(lambda _: checkout.ensure_customer(user_id), range(4)))
    assert len(ids) == 1 and len(stripe_fake.customers) == 1


def test_a_lost_webhook_is_caught_by_the_hourly_reconcile(stripe_fake, make_user) -> None:
    from datetime import UTC, datetime, timedelta

    user_id, _, _ = make_user()
    sub_id = subscribe(stripe_fake, user_id)
    sync.sync_user(user_id)
    mark = len(stripe_fake.events)
    stripe_fake.schedule_cancel(sub_id)
    stripe_fake.end_period(sub_id)  # its events never reach VOPIX
    assert events_since(stripe_fake, mark, "customer.subscription.deleted")
    assert _plan_and_status(user_id) == ("pro", "active")
    later = datetime.fromtimestamp(stripe_fake.now, UTC) + timedelta(hours=2)
    assert sync.reconcile_due(later) == 1
    assert _plan_and_status(user_id)[0] == "free"


def test_support_can_give_a_plan_without_stripe_and_take_it_back(stripe_fake, make_user) -> None:
    user_id, _, _ = make_user()
    sync.set_comp(user_id, "team")
    assert _plan_and_status(user_id) == ("team", "comped")
    subscribe(stripe_fake, user_id)
    sync.sync_user(user_id)
    assert _plan_and_status(user_id) == ("team", "comped")  # the comp wins while set
    sync.set_comp(user_id, None)
    assert _plan_and_status(user_id) == ("pro", "active")
    with pytest.raises(ValueError, match="no plan"):
        sync.set_comp(user_id, "platinum")
