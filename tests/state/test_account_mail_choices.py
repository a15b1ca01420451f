"""The account page's email notifications (P12, P13), without a browser: quota warnings on and
product news off by default, each saved at once with a message; nobody else's changes."""

from __future__ import annotations

import pytest

from tests.state.conftest import state_of
from vopix.core.kinds import MailKind
from vopix.core.mail import preferences
from vopix.state.account import AccountState

pytestmark = pytest.mark.asyncio


@pytest.mark.promise("P13")
async def test_choices_load_with_their_defaults_and_save_at_once(logged_in, make_user) -> None:
    user_id, page = logged_in(AccountState)
    other, _, _ = make_user()
    await page.load()
    assert (page.quota_mail_opt_in, page.marketing_opt_in) == (True, False)

    await page.set_marketing(True)
    assert page.marketing_opt_in is True and page.mail_message == "Saved. Product news: on."
    await page.set_quota_mail(False)
    assert page.quota_mail_opt_in is False and page.mail_message == "Saved. Quota warnings: off."
    assert preferences.choices(user_id) == preferences.MailChoices(quota=False, product_news=True)
    assert preferences.choices(other) == preferences.MailChoices(quota=True, product_news=False)

    await page.set_marketing(False)  # and off again, at any time
    assert preferences.choices(user_id).product_news is False


@pytest.mark.promise("P12")
async def test_a_link_used_elsewhere_shows_on_the_next_load_and_can_be_undone(logged_in) -> None:
    from vopix.core.mail import unsubscribe

    user_id, page = logged_in(AccountState)
    preferences.unsubscribe_by_link(unsubscribe.token_for(user_id, MailKind.QUOTA))
    await page.load()
    assert page.quota_mail_opt_in is False
    await page.set_quota_mail(True)  # re-subscribing is on the account page
    assert preferences.choices(user_id).quota is True


async def test_without_a_login_nothing_is_saved(make_user) -> None:
    user_id, _, _ = make_user()
    page = state_of(AccountState)  # no cookie on this socket
    await page.set_marketing(True)
    await page.set_quota_mail(False)
    assert preferences.choices(user_id) == preferences.MailChoices(quota=True, product_news=False)
