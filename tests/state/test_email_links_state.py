"""The /confirm-email and /undo-email pages, without a browser: what they say."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from tests.core.mail.helpers import mailed_token
from vopix.core import accounts
from vopix.state.email_links import EmailLinkState

pytestmark = pytest.mark.asyncio


def _page(path: str) -> EmailLinkState:
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"headers": {"origin": "http://testserver"}, "asPath": path})
    return root.get_substate(EmailLinkState.get_full_name().split(".")[1:])


async def test_a_wrong_link_says_so_and_a_good_one_says_what_changed(make_user) -> None:
    user_id, old, password = make_user()
    wrong = _page("/confirm-email?token=not-a-real-token")
    await wrong.confirm()
    assert wrong.error.startswith("This link is not valid.") and not wrong.done
    accounts.change_email(user_id, password, "moved@example.com")
    page = _page(f"/confirm-email?token={mailed_token('moved@example.com', '/confirm-email')}")
    await page.confirm()
    assert page.message.startswith("Your account now uses moved@example.com.") and page.done
    await page.confirm()  # the page loading twice keeps what it said
    assert page.done and not page.error
    again = _page(page.router.url.path + "?" + page.router.url.query)  # the same link, another tab
    await again.confirm()
    assert again.error == "This link was already used; each link works once."
    undo = _page(f"/undo-email?token={mailed_token(old, '/undo-email')}")
    await undo.check_undo()  # opening the link only shows what the button will do
    assert undo.undo_address == old and accounts.get_user(user_id).email == "moved@example.com"
    await undo.undo()
    assert undo.message.startswith(f"Your account uses {old} again") and accounts.get_user(user_id).email == old
    missing = _page("/undo-email")
    await missing.check_undo()
    assert missing.error.startswith("This link is not valid.") and not missing.undo_address
