"""Security alerts by mail (P12): a sign-in from a new network or device (once each), a
replayed login cookie, a changed password."""

from __future__ import annotations

import pytest

from tests.fakes.smtp import FakeSMTP
from vopix.core import accounts, sessions
from vopix.core.mail import worker

pytestmark = [pytest.mark.asyncio, pytest.mark.promise("P12")]

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 Chrome/150.0 Mobile Safari/537.36"


async def _alerts(smtp: FakeSMTP) -> list:
    await worker.drain()
    return [m for m in smtp.received if m.message["Subject"].startswith("VOPIX security alert:")]


async def test_a_new_network_alerts_once_and_a_known_one_never(smtp: FakeSMTP, make_user) -> None:
    user_id, email, _ = make_user()
    sessions.start_session(user_id, ip="198.51.100.7", user_agent=FIREFOX)  # the sign-up's own
    assert await _alerts(smtp) == []
    sessions.start_session(user_id, ip="203.0.113.50", user_agent=FIREFOX)  # another network
    [alert] = await _alerts(smtp)
    assert alert.rcpt_tos == [email] and alert.message["Subject"] == "VOPIX security alert: new sign-in"
    assert "From: Firefox on Linux, 203.0.113.x" in alert.text and "/not-me?token=" in alert.text
    sessions.start_session(user_id, ip="203.0.200.9", user_agent=FIREFOX)  # the same /16
    sessions.start_session(user_id, ip="198.51.100.7", user_agent=FIREFOX)
    assert len(await _alerts(smtp)) == 1


async def test_a_new_device_on_a_known_network_alerts_once(smtp: FakeSMTP, make_user) -> None:
    user_id, _, _ = make_user()
    sessions.start_session(user_id, ip="198.51.100.7", user_agent=FIREFOX)
    sessions.start_session(user_id, ip="198.51.7.1", user_agent=CHROME_ANDROID)
    [alert] = await _alerts(smtp)
    assert "From: Chrome on Android, 198.51.7.x" in alert.text
    sessions.start_session(user_id, ip="198.51.100.8", user_agent=CHROME_ANDROID)
    assert len(await _alerts(smtp)) == 1


async def test_ipv6_networks_compare_by_their_64(smtp: FakeSMTP, make_user) -> None:
    user_id, _, _ = make_user()
    sessions.start_session(user_id, ip="2001:db8:1:2::10", user_agent=FIREFOX)
    sessions.start_session(user_id, ip="2001:db8:1:2:ffff::1", user_agent=FIREFOX)  # same /64
    assert await _alerts(smtp) == []
    sessions.start_session(user_id, ip="2001:db8:1:3::10", user_agent=FIREFOX)
    assert len(await _alerts(smtp)) == 1
    assert sessions.network_of("::ffff:203.0.113.9") == sessions.network_of("203.0.1.1") == "203.0.0.0/16"


async def test_a_replayed_login_cookie_sends_a_mail(smtp: FakeSMTP, make_user, settings_env) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0", VOPIX_TOKEN_REUSE_GRACE_SECONDS="0")
    user_id, email, _ = make_user()
    old, info = sessions.start_session(user_id, ip="198.51.100.7", user_agent=FIREFOX)
    assert sessions.refresh(old).new_token
    assert sessions.refresh(old) is None  # the old copy again: the login ends
    [alert] = await _alerts(smtp)
    assert alert.rcpt_tos == [email] and alert.message["Subject"] == "VOPIX security alert: session signed out"
    assert "From: Firefox on Linux, 198.51.100.x" in alert.text
    assert not sessions.is_active(info.session_id, user_id)


async def test_a_password_change_sends_one_mail(smtp: FakeSMTP, make_user) -> None:
    user_id, email, password = make_user()
    accounts.change_password(user_id, password, "a-brand-new-pass-7", ip="198.51.100.7", device="Firefox on Linux")
    [alert] = await _alerts(smtp)
    assert alert.rcpt_tos == [email] and alert.message["Subject"] == "VOPIX security alert: password changed"
    assert "From: Firefox on Linux, 198.51.100.x" in alert.text
