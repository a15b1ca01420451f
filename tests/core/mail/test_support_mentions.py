"""Text that mentions support gives the address (VOPIX_SUPPORT_EMAIL) or does not mention it at
all, and the quota refusal sends people to the Billing page without printing a path in prose."""

from __future__ import annotations

import re

import pytest

from tests.core.mail.test_email_change import _asked, _mails_to, _token
from tests.fakes.smtp import FakeSMTP
from vopix.core import email_change, security_alerts, usage
from vopix.db import session_scope

pytestmark = pytest.mark.asyncio


def _security_notice_text(user_id: int) -> str:
    with session_scope() as s:
        security_alerts.raise_alert(s, user_id, security_alerts.AlertKind.PASSWORD_CHANGED)
    [notice] = usage.unread_notices(user_id)
    return notice.text


async def test_a_security_notice_names_the_support_address_when_there_is_one(make_user, settings_env) -> None:
    settings_env(VOPIX_SUPPORT_EMAIL="help@vopix.example")
    user_id, _, _ = make_user()
    text = _security_notice_text(user_id)
    assert "The password of your account was changed." in text
    assert text.endswith("For help, write to help@vopix.example.")


async def test_without_a_support_address_no_text_mentions_support(
    smtp: FakeSMTP, make_user, settings_env
) -> None:
    settings_env(VOPIX_SUPPORT_EMAIL="")
    user_id, _, _ = make_user()
    assert "support" not in _security_notice_text(user_id).lower()
    # The one refusal that used to say "Contact support." with no way to do so.
    _, old, _, token = await _asked(smtp, make_user)
    email_change.confirm(token)
    [alert] = await _mails_to(smtp, old)
    make_user(old)
    with pytest.raises(email_change.EmailLinkError) as refused:
        email_change.undo(_token(alert, "/undo-email"))
    assert str(refused.value) == f"Another account uses {old} now, so it cannot be put back."


async def test_the_email_undo_refusal_names_the_support_address(smtp: FakeSMTP, make_user, settings_env) -> None:
    settings_env(VOPIX_SUPPORT_EMAIL="help@vopix.example")
    _, old, _, token = await _asked(smtp, make_user)
    email_change.confirm(token)
    [alert] = await _mails_to(smtp, old)
    make_user(old)
    with pytest.raises(email_change.EmailLinkError, match=re.escape("For help, write to help@vopix.example.")):
        email_change.undo(_token(alert, "/undo-email"))


async def test_the_quota_refusal_prints_no_path() -> None:
    limits = usage.PlanLimits("free", "Free", 10, 10, 0)
    for used in (usage.MonthUsage(10, 0, 0, 0), usage.MonthUsage(0, 10, 0, 0)):
        with pytest.raises(usage.QuotaExceeded) as refused:
            usage._refuse_over(limits, used)
        assert "/billing" not in str(refused.value) and "Upgrade on the Billing page" in str(refused.value)
