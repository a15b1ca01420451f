"""A security alert: one mail (always, whatever the person chose), one in-app notice."""

from __future__ import annotations

import pytest

from tests.fakes.smtp import FakeSMTP
from vopix.core import security_alerts, usage
from vopix.core.agent import profile
from vopix.core.mail import worker
from vopix.db import session_scope

pytestmark = pytest.mark.asyncio


@pytest.mark.promise("P12")
async def test_an_alert_says_what_when_in_the_persons_zone_and_from_where(smtp: FakeSMTP, make_user) -> None:
    user_id, email, _ = make_user()
    profile.update_persona(user_id, name="Vopi", personality="", language="English", timezone="Europe/Lisbon")
    with session_scope() as s:
        security_alerts.raise_alert(
            s, user_id, security_alerts.AlertKind.PASSWORD_CHANGED, ip="203.0.113.77",
            device="Firefox on Linux",
        )
    await worker.drain()
    [got] = smtp.wait_for(1)
    assert got.rcpt_tos == [email] and got.message["Subject"] == "VOPIX security alert: password changed"
    assert "The password of your account was changed." in got.text
    assert "(Europe/Lisbon)" in got.text and "From: Firefox on Linux, 203.0.113.x" in got.text
    assert "203.0.113.77" not in got.text  # approximate, not the person's exact address
    assert "This wasn't me: http://testserver/not-me?token=" in got.text
    assert 'href="http://testserver/not-me?token=' in got.html
    [notice] = usage.unread_notices(user_id)
    assert notice.kind == "security" and "password" in notice.text
