"""The account page's email and password changes, without a browser."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from tests.core.mail.helpers import mailed_token
from vopix.core import accounts, sessions, usage
from vopix.state.account import AccountState
from vopix.state.email_links import EmailLinkState

pytestmark = pytest.mark.asyncio


def _link_state(cookie: str, path: str) -> EmailLinkState:
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie, "origin": "http://testserver"}, "asPath": path}
    )
    return root.get_substate(EmailLinkState.get_full_name().split(".")[1:])


def _state(cookie: str) -> AccountState:
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"headers": {"cookie": cookie}})
    return root.get_substate(AccountState.get_full_name().split(".")[1:])


@pytest.fixture
def logged_in(make_user):
    """(user id, email, password, the page's state on this device, another device's session)"""
    user_id, email, password = make_user()
    token, _ = sessions.start_session(user_id, user_agent="Firefox")
    _, elsewhere = sessions.start_session(user_id, user_agent="Android")
    return user_id, email, password, _state(f"{sessions.COOKIE_NAME}={token}"), elsewhere


@pytest.mark.promise("P16")
async def test_twelve_wrong_guesses_then_the_right_password_change_nothing(logged_in) -> None:
    user_id, email, password, page, elsewhere = logged_in
    for i in range(12):
        await page.change_email({"password": f"wrong-guess-{i:02d}", "email": "thief@example.com"})
        assert page.email_error and not page.email_message
    await page.change_email({"password": password, "email": "thief@example.com"})
    assert page.email_error.startswith("Too many failed attempts for this account.")
    await page.change_password(
        {"current_password": password, "new_password": "thiefs-own-pass-1", "confirm_password": "thiefs-own-pass-1"}
    )
    assert page.password_error.startswith("Too many failed attempts for this account.")
    assert accounts.get_user(user_id).email == email
    assert sessions.is_active(elsewhere.session_id, user_id)


@pytest.mark.promise("P12")
async def test_an_email_change_signs_out_the_other_devices_and_keeps_this_one(logged_in) -> None:
    user_id, _, password, page, elsewhere = logged_in
    await page.change_email({"password": password, "email": "New@Example.com"})
    assert page.email_message == "We sent a link to new@example.com; your address changes when you open it."
    assert sessions.is_active(elsewhere.session_id, user_id)  # nothing changed yet
    # This browser opens the link from the new address's mail.
    token = mailed_token("new@example.com", "/confirm-email")
    link = _link_state(page.router.headers.cookie, f"/confirm-email?token={token}")
    await link.confirm()
    assert link.message.startswith("Your account now uses new@example.com.") and not link.error
    assert not sessions.is_active(elsewhere.session_id, user_id)
    assert await page.current_user_id() == user_id  # this device stays logged in
    await page.load()
    assert [r["current"] for r in page.session_rows] == ["yes"]  # one session left: this one
    assert any(n.key.startswith("security:email_changed:") for n in usage.unread_notices(user_id))


@pytest.mark.promise("P12")
async def test_a_password_change_signs_out_the_other_devices_and_keeps_this_one(logged_in) -> None:
    user_id, _, password, page, elsewhere = logged_in
    await page.change_password(
        {"current_password": password, "new_password": "a-brand-new-pass-7", "confirm_password": "a-brand-new-pass-7"}
    )
    assert page.password_message == "Password changed. Signed out 1 other session."
    assert not sessions.is_active(elsewhere.session_id, user_id)
    assert await page.current_user_id() == user_id
    assert any(n.key.startswith("security:password_changed:") for n in usage.unread_notices(user_id))
