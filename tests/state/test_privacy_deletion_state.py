"""The "Delete your account" section of /privacy and the /restore-account page, without a
browser: what they say and do."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from tests.core.mail.helpers import mailed_token
from tests.state.conftest import state_of
from vopix.core import account_standing, accounts, sessions
from vopix.state.privacy import PrivacyState
from vopix.state.privacy_deletion import DeletionState
from vopix.state.privacy_export import PrivacyExportState
from vopix.state.restore_account import RestoreState

pytestmark = pytest.mark.asyncio


def _restore_page(path: str) -> RestoreState:
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"headers": {"origin": "http://testserver"}, "asPath": path})
    return root.get_substate(RestoreState.get_full_name().split(".")[1:])


@pytest.mark.promise("P29")
async def test_delete_asks_first_refuses_a_wrong_password_then_signs_out(make_user) -> None:
    user_id, email, password = make_user()
    token, _ = sessions.start_session(user_id)
    state = state_of(DeletionState, f"{sessions.COOKIE_NAME}={token}")
    page = await state.get_state(PrivacyState)
    state.deletion_asking = True  # left open on an earlier visit
    follow_ups = await page.load()
    assert not state.deletion_asking and state.grace_days == 7
    await state.ask()  # clicked while the page still loads: before the page's follow-up events
    assert follow_ups[1:] == [PrivacyExportState.load]
    await (await state.get_state(PrivacyExportState)).load()
    assert state.deletion_asking  # none of them closed the form again

    await state.delete({"password": ""})
    assert "Type your current password" in state.deletion_error
    await state.delete({"password": "not-my-password-3"})
    assert state.deletion_error == "Your current password is not correct."
    assert account_standing.is_active(user_id)

    reply = await state.delete({"password": password})
    assert account_standing.standing_of(user_id) == "deleting"
    assert "/api/auth/logout" in str(reply) and "/login" in str(reply)
    assert state._user_id == 0 and state.user_email == ""
    assert sessions.resolve(token) is None
    with pytest.raises(accounts.AccountError, match="being deleted"):
        accounts.check_credentials(email, password)


@pytest.mark.promise("P29")
async def test_the_restore_page_looks_first_and_its_button_restores_once(make_user) -> None:
    user_id, email, password = make_user()
    state = state_of(DeletionState, f"{sessions.COOKIE_NAME}={sessions.start_session(user_id)[0]}")
    await state.delete({"password": password})
    link = f"/restore-account?token={mailed_token(email, '/restore-account')}"

    page = _restore_page(link)
    await page.check()
    assert page.restore_ready and not page.restore_error
    assert account_standing.standing_of(user_id) == "deleting"  # opening the link changes nothing
    await page.restore()
    assert page.restore_done and account_standing.is_active(user_id)
    await page.check()  # on_load again: the page keeps what it said
    assert page.restore_done

    again = _restore_page(link)
    await again.check()
    assert again.restore_error.startswith("This restore link was already used.")
    bad = _restore_page("/restore-account?token=nope")
    await bad.check()
    assert bad.restore_error.startswith("This restore link is not valid.")
