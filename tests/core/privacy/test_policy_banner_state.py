"""The policy banner's state and the /policy page's, without a browser (P34)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from tests.state.conftest import state_of
from vopix.core import sessions
from vopix.core.privacy import policy
from vopix.db import session_scope
from vopix.models import PolicyDismissal
from vopix.state.policy_banner import PolicyBannerState, PolicyPageState

pytestmark = [pytest.mark.asyncio, pytest.mark.promise("P34")]


def _banner(user_id: int) -> PolicyBannerState:
    token, _ = sessions.start_session(user_id)
    return state_of(PolicyBannerState, f"{sessions.COOKIE_NAME}={token}")


async def test_the_banner_shows_the_summary_and_date_until_dismissed_on_every_device(make_user) -> None:
    user_id, _, _ = make_user()
    page = _banner(user_id)
    await page.load()
    assert page.policy_text == ""
    policy.publish(version="2027-02", summary="Logs are kept 20 days.", effective_on=date(2031, 1, 1),
                   by="root")
    await page.load()
    assert page.policy_text == "Our privacy policy changes: version 2027-02 takes effect on 2031-01-01."
    assert page.policy_summary == "Logs are kept 20 days."
    other_device = _banner(user_id)
    await page.dismiss()
    assert page.policy_text == ""
    await other_device.load()
    assert other_device.policy_text == ""
    with session_scope() as s:
        assert len(s.exec(select(PolicyDismissal)).all()) == 1


async def test_someone_else_dismissing_leaves_my_banner(make_user) -> None:
    me, _, _ = make_user()
    other, _, _ = make_user()
    policy.publish(version="v3", summary="Change.", effective_on=date(2031, 1, 1), by="root")
    theirs = _banner(other)
    await theirs.load()
    await theirs.dismiss()
    mine = _banner(me)
    await mine.load()
    assert mine.policy_version == "v3"


async def test_the_policy_page_shows_the_newest_version_to_anyone() -> None:
    page = state_of(PolicyPageState)
    await page.load()
    assert page.version == ""
    policy.publish(version="v4", summary="New text.", effective_on=date(2031, 2, 1), by="root",
                   body="First part.\n\nSecond part.")
    await page.load()
    assert (page.version, page.effective, page.paragraphs) == ("v4", "2031-02-01", ["First part.", "Second part."])
