"""The Billing page's state: what it says without billing, after a cancelled Checkout, on the
return from a paid one (read from Stripe at once), and the chat's link for billing notices."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from vopix.core import sessions, usage
from vopix.core.billing import checkout
from vopix.core.kinds import NoticeKind
from vopix.state.billing import BillingState
from vopix.state.chat import ChatState

pytestmark = pytest.mark.asyncio


def _billing(make_user, path: str = "/billing") -> tuple[int, BillingState]:
    user_id, _, _ = make_user()
    token, _ = sessions.start_session(user_id)
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": f"{sessions.COOKIE_NAME}={token}"}, "asPath": path}
    )
    return user_id, root.get_substate(BillingState.get_full_name().split(".")[1:])


async def test_without_billing_the_page_says_so_and_offers_no_button(make_user, settings_env) -> None:
    settings_env(VOPIX_STRIPE_SECRET_KEY="")
    _, state = _billing(make_user)
    await state.load()
    assert not state.enabled and state.plan_name == "Free"
    assert [o["action"] for o in state.offers] == ["", "", ""]
    assert state.includes[0] == "300 messages a month"


async def test_a_cancelled_checkout_says_nothing_was_charged(stripe_fake, make_user) -> None:
    _, state = _billing(make_user, "/billing?checkout=cancelled")
    await state.load()
    assert state.message == "Checkout was cancelled; nothing was charged."
    assert {o["name"]: o["label"] for o in state.offers if o["action"]} == {
        "Pro": "Upgrade to Pro", "Team": "Upgrade to Team"}


async def test_the_return_from_checkout_shows_the_plan_without_waiting_for_the_webhook(
    stripe_fake, make_user
) -> None:
    user_id, _ = _billing(make_user)
    url = checkout.start_checkout(user_id, "pro")
    cs_id = url.rsplit("/", 1)[-1]
    stripe_fake.complete_checkout(cs_id)  # no event reaches VOPIX
    token, _ = sessions.start_session(user_id)
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": f"{sessions.COOKIE_NAME}={token}"}, "asPath": f"/billing?checkout={cs_id}"}
    )
    state = root.get_substate(BillingState.get_full_name().split(".")[1:])
    await state.load()
    assert state.plan_name == "Pro" and state.message == "Thank you: you are on the Pro plan now."
    assert state.status_text.startswith("Active: renews on ")
    assert {o["name"]: o["label"] for o in state.offers if o["action"]} == {"Team": "Switch to Team"}
    await state.load_invoices()
    assert state.invoices_state == "shown" and [i["amount"] for i in state.invoices] == ["€12.00"]
    await state.choose("team")  # a switch asks first
    assert state.switch_to == "team" and state.switch_question.startswith("Switch to Team now?")
    await state.confirm_switch()
    assert state.plan_name == "Team" and "Team plan now" in state.message


async def test_billing_notices_in_the_chat_link_to_billing(logged_in) -> None:
    user_id, chat = logged_in(ChatState)
    usage.add_notice(user_id, "p", "Your last payment failed.", kind=NoticeKind.PAYMENT_FAILED, level="error")
    usage.add_notice(user_id, "e", "Your Pro plan has ended.", kind=NoticeKind.BILLING)
    await chat.load()
    shown = {n["text"]: (n["link"], n["label"]) for n in chat.notices}
    assert shown == {
        "Your last payment failed.": ("/billing", "Update payment method"),
        "Your Pro plan has ended.": ("/billing", "See plans and billing"),
    }
