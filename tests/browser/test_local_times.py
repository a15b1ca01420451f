"""Times on the pages are in the person's chosen time zone, not in UTC (issue 14, bug 8)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from vopix.core import accounts
from vopix.core.agent import profile

TOKYO = ZoneInfo("Asia/Tokyo")


def _minutes_between(start: datetime, end: datetime) -> re.Pattern[str]:
    """Every Tokyo minute from start to end: the server's clock may tick over meanwhile."""
    shown, moment = [], start.replace(second=0, microsecond=0)
    while moment <= end:
        shown.append(re.escape(f"{moment:%Y-%m-%d %H:%M} JST"))
        moment += timedelta(minutes=1)
    return re.compile("|".join(shown))


def test_account_and_workspace_times_are_in_the_persons_zone(page) -> None:
    email = f"tokyo-{secrets.token_hex(4)}@example.com"
    start = datetime.now(TOKYO)
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    p = profile.get_profile(user_id)
    profile.update_persona(user_id, name=p.name, personality=p.personality, language=p.language,
                           timezone="Asia/Tokyo")

    page.goto("/account")
    sessions = page.get_by_role("table", name="Active sessions")
    expect(sessions).to_contain_text("this device")
    expect(sessions.get_by_role("row").filter(has_text="this device")).to_contain_text(
        _minutes_between(start, datetime.now(TOKYO) + timedelta(minutes=1))
    )

    page.goto("/workspace")
    readme = page.get_by_role("table", name="Files").get_by_role("row").filter(has_text="README.md")
    expect(readme).to_contain_text(_minutes_between(start, datetime.now(TOKYO) + timedelta(minutes=1)))
