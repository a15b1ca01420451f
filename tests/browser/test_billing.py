"""Billing in Chromium (issue 10): Free → Stripe Checkout → Pro with its limits at once →
cancel in the portal → Free after the period; a failed renewal and its fix; the invoices.
The test plays Stripe's side through the session's fake (tests/fakes/stripe.py), whose signed
webhooks reach the app server through tests/browser/_stripe_relay.py."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser._stripe_relay import WebhookRelay
from tests.browser.conftest import sign_up
from tests.browser.test_chat import _point_agent_at
from tests.fakes.ai_provider import FakeAIProvider
from tests.fakes.stripe import FakeStripeAPI
from vopix.core import accounts, plans

AT_BILLING = re.compile(r"/billing/?(\?.*)?$")


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeAIProvider]:
    with FakeAIProvider() as fake:
        yield fake


@pytest.fixture
def free_plan_of_one_message() -> Iterator[None]:
    """The Free plan allows one message a month for this test; its old limit comes back after."""
    before = plans.get_plan(plans.FREE)
    assert before is not None
    plans.save_plan(plans.FREE, messages_per_month=1)
    yield
    plans.save_plan(plans.FREE, messages_per_month=before.messages_per_month)


def _new_person(page: Page, prefix: str) -> tuple[str, int]:
    email = f"{prefix}-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    return email, user_id


def _subscription_of(stripe: FakeStripeAPI, email: str) -> str:
    """What Stripe's dashboard would show: the one subscription of this person's customer."""
    customer = next(c for c in stripe.customers.values() if c["email"] == email)
    sub = stripe.current_subscription(customer["id"])
    assert sub is not None
    return str(sub["id"])


def _webhooks_since(relay: WebhookRelay, mark: int) -> list[str]:
    """The events the app received since `mark` (waiting for them); each answered 200."""
    answers = relay.delivered()[mark:]
    assert all(status == 200 for _, status in answers), answers
    return [kind for kind, _ in answers]


def _plan_card(page: Page):
    return page.get_by_role("region", name="Your plan")


def _subscribe_to_pro(page: Page) -> None:
    """From /billing through Stripe's Checkout page and back, as the person clicks it."""
    page.get_by_role("table", name="Plans on offer").get_by_role("button", name="Upgrade to Pro").click()
    expect(page.get_by_role("heading", name="Subscribe to Pro")).to_be_visible()
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(AT_BILLING)
    expect(page.get_by_role("status").filter(has_text="Thank you: you are on the Pro plan now.")).to_be_visible()
    expect(_plan_card(page).locator("#current-plan")).to_have_text("Pro")
    expect(_plan_card(page)).to_contain_text("Active: renews on")
    # The address no longer carries Checkout's return, so a reload does not thank again.
    expect(page).to_have_url(re.compile(r"/billing/?$"))


def _send(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


@pytest.mark.promise("P01")
def test_free_to_pro_raises_limits_at_once_then_cancel_ends_at_the_period(
    page: Page, provider: FakeAIProvider, stripe_webhooks: FakeStripeAPI, webhook_relay: WebhookRelay,
    free_plan_of_one_message: None,
) -> None:
    email, user_id = _new_person(page, "billing")
    _point_agent_at(page, provider)

    # On Free (one message a month here): the second message is refused before any AI call.
    page.goto("/chat")
    log = page.get_by_role("log", name="Messages")
    _send(page, "one")
    expect(log).to_contain_text("echo: one")
    calls = len(provider.requests)
    _send(page, "two")
    expect(log).to_contain_text("You have used all 1 messages of your Free plan this month")
    assert len(provider.requests) == calls

    page.goto("/billing")
    card = _plan_card(page)
    expect(card.locator("#current-plan")).to_have_text("Free")
    expect(card).to_contain_text("You are on the Free plan.")
    expect(card).to_contain_text("1 of 1 messages used this month")
    expect(page.get_by_role("button", name="Manage billing")).to_have_count(0)
    offers = page.get_by_role("table", name="Plans on offer")
    expect(offers.get_by_role("row", name=re.compile("^Pro"))).to_contain_text("€12.00 / month")
    expect(offers.get_by_role("row", name=re.compile("^Team"))).to_contain_text("€39.00 / month")

    # Leaving Checkout without paying changes nothing.
    offers.get_by_role("button", name="Upgrade to Pro").click()
    expect(page.get_by_role("heading", name="Subscribe to Pro")).to_be_visible()
    page.get_by_role("link", name="Back to VOPIX").click()
    page.wait_for_url(AT_BILLING)
    expect(page.get_by_role("status").filter(has_text="Checkout was cancelled; nothing was charged.")).to_be_visible()
    expect(_plan_card(page).locator("#current-plan")).to_have_text("Free")

    _subscribe_to_pro(page)
    expect(_plan_card(page)).to_contain_text("5,000 messages a month")
    assert accounts_plan(user_id) == ("pro", "active")

    # The same month, the limit is Pro's at once: the next message goes through.
    page.goto("/chat")
    _send(page, "three")
    expect(page.get_by_role("log", name="Messages")).to_contain_text("echo: three")

    # Cancel on Stripe's portal: the plan stays until the period's end.
    page.goto("/billing")
    page.get_by_role("button", name="Manage billing").click()
    expect(page.get_by_role("heading", name="Billing portal")).to_be_visible()
    page.get_by_role("button", name="Cancel plan").click()
    expect(page.get_by_text("Cancels on")).to_be_visible()
    page.get_by_role("link", name="Return to VOPIX").click()
    page.wait_for_url(AT_BILLING)
    card = _plan_card(page)
    expect(card).to_contain_text(re.compile(r"Cancelled: your Pro plan stays until \d{4}-\d{2}-\d{2}, then moves to Free\."))
    expect(card.locator("#current-plan")).to_have_text("Pro")
    expect(page.get_by_role("button", name="Keep my plan")).to_be_visible()

    # Stripe's clock reaches the period's end; its webhook reaches the app, which moves the
    # person to Free before any page asks.
    mark = len(webhook_relay.delivered())
    stripe_webhooks.end_period(_subscription_of(stripe_webhooks, email))
    assert "customer.subscription.deleted" in _webhooks_since(webhook_relay, mark)
    _plan_becomes(user_id, ("free", "canceled"))
    page.reload()
    card = _plan_card(page)
    expect(card.locator("#current-plan")).to_have_text("Free")
    expect(card).to_contain_text("You are on the Free plan.")
    expect(page.get_by_role("table", name="Plans on offer").get_by_role("button", name="Upgrade to Pro")).to_be_visible()
    assert accounts_plan(user_id) == ("free", "canceled")


def _plan_becomes(user_id: int, expected: tuple[str, str], within: float = 20.0) -> None:
    """Wait until the stored (plan, subscription status) is `expected`: the webhook's work
    may finish after its 200."""
    deadline = time.monotonic() + within
    while (found := accounts_plan(user_id)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert found == expected


def accounts_plan(user_id: int) -> tuple[str, str]:
    from vopix.db import session_scope
    from vopix.models import User

    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user.plan_id, user.subscription_status


def test_a_failed_renewal_warns_and_a_new_payment_method_keeps_the_plan(
    page: Page, stripe_webhooks: FakeStripeAPI, webhook_relay: WebhookRelay
) -> None:
    email, user_id = _new_person(page, "dunning")
    page.goto("/billing")
    _subscribe_to_pro(page)

    # The paid invoice is listed, with a link to Stripe's hosted page.
    invoices = page.get_by_role("table", name="Invoices of the last 12 months")
    expect(invoices.get_by_role("row")).to_have_count(2)  # the header and the one invoice
    expect(invoices).to_contain_text("Paid")
    expect(invoices).to_contain_text("€12.00")
    link = invoices.get_by_role("link", name=re.compile(r"^Invoice "))
    expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(stripe_webhooks.url)}/invoice/in_"))
    with page.context.expect_page() as opened:
        link.click()
    hosted = opened.value
    expect(hosted.get_by_role("heading", name=re.compile(r"^Invoice "))).to_be_visible()
    expect(hosted.get_by_text("Status: Paid")).to_be_visible()
    hosted.close()

    # The renewal fails: the plan stays while Stripe retries, and the person is told.
    mark = len(webhook_relay.delivered())
    stripe_webhooks.fail_renewal(_subscription_of(stripe_webhooks, email))
    assert "invoice.payment_failed" in _webhooks_since(webhook_relay, mark)
    _plan_becomes(user_id, ("pro", "past_due"))
    page.reload()
    card = _plan_card(page)
    expect(card.get_by_role("alert")).to_contain_text("Your last payment failed.")
    expect(card.locator("#current-plan")).to_have_text("Pro")
    expect(page.get_by_text("Thank you")).to_have_count(0)
    page.goto("/chat")
    notices = page.get_by_role("region", name="Notices")
    expect(notices.get_by_role("status").filter(has_text="Your last payment failed.")).to_be_visible()
    expect(notices.get_by_role("link").first).to_have_attribute("href", "/billing")

    # A new payment method in the portal pays the open invoice: active again.
    page.goto("/billing")
    page.get_by_role("button", name="Manage billing").click()
    expect(page.get_by_text("Status: Past due")).to_be_visible()
    page.get_by_role("button", name="Update payment method").click()
    expect(page.get_by_text("Status: Active")).to_be_visible()
    page.get_by_role("link", name="Return to VOPIX").click()
    page.wait_for_url(AT_BILLING)
    card = _plan_card(page)
    expect(card).to_contain_text("Active: renews on")
    expect(card.get_by_role("alert")).to_have_count(0)
    expect(card.locator("#current-plan")).to_have_text("Pro")
    page.goto("/chat")
    expect(page.get_by_role("region", name="Notices").filter(has_text="Your last payment failed.")).to_have_count(0)


def test_when_stripe_gives_up_the_page_says_free_until_paid_and_offers_no_switch(
    page: Page, stripe_webhooks: FakeStripeAPI
) -> None:
    email, user_id = _new_person(page, "unpaid")
    page.goto("/billing")
    _subscribe_to_pro(page)
    sub = _subscription_of(stripe_webhooks, email)
    stripe_webhooks.fail_renewal(sub)
    stripe_webhooks.give_up(sub, outcome="unpaid")

    page.reload()
    card = _plan_card(page)
    expect(card.get_by_role("alert")).to_contain_text("Stripe could not collect your payment: you are on Free")
    expect(card.locator("#current-plan")).to_have_text("Free")
    expect(card).not_to_contain_text("Active")
    expect(page.get_by_text("Thank you")).to_have_count(0)
    # The subscription is fixed by paying, not by switching it to another plan.
    offers = page.get_by_role("table", name="Plans on offer")
    expect(offers.get_by_role("button")).to_have_count(0)
    expect(page.get_by_text("To go back to Free, cancel in Manage billing")).to_have_count(0)
    assert accounts_plan(user_id) == ("free", "unpaid")

    page.get_by_role("button", name="Manage billing").click()
    page.get_by_role("button", name="Update payment method").click()
    expect(page.get_by_text("Status: Active")).to_be_visible()
    page.get_by_role("link", name="Return to VOPIX").click()
    page.wait_for_url(AT_BILLING)
    card = _plan_card(page)
    expect(card.locator("#current-plan")).to_have_text("Pro")
    expect(card).to_contain_text("Active: renews on")
    expect(page.get_by_role("table", name="Plans on offer").get_by_role("button", name="Switch to Team")).to_be_visible()
