"""A quota mail's unsubscribe link, followed in Chromium without logging in again, and the
account page's email notifications (P12, P13)."""

from __future__ import annotations

import secrets
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import sign_up
from vopix.core import usage
from vopix.core.mail import preferences
from vopix.db import session_scope
from vopix.models import Plan, User


def _mail_to(smtp, address: str, subject: str, timeout: float = 20.0):
    """The first mail to `address` with `subject` (the session's server holds every test's
    mail, security alerts included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for got in list(smtp.received):
            if address in got.rcpt_tos and got.message["Subject"] == subject:
                return got
        time.sleep(0.2)
    raise AssertionError(f"no mail {subject!r} to {address}")


@pytest.mark.promise("P12")
@pytest.mark.promise("P13")
def test_quota_mail_unsubscribe_link_then_account_page(page, smtp, app_url: str, settings_env) -> None:
    email = f"quota-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    with session_scope() as s:
        user_id = s.exec(select(User.id).where(User.email == email)).one()
        plan = s.get(Plan, "free")  # the plans are put back after the test
        plan.messages_per_month = 5
        s.add(plan)
    settings_env(VOPIX_PUBLIC_URL=app_url)  # the mail is queued here; the app's worker sends it
    for _ in range(4):  # 4 of 5: 80%
        usage.record_message(user_id)

    got = _mail_to(smtp, email, "VOPIX: You have used 80% of this month's 5 messages.")
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = got.message["List-Unsubscribe"][1:-1]
    assert link.startswith(f"{app_url}/unsubscribe?t=") and f"Unsubscribe: {link}" in got.text

    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(link)
    expect(page.get_by_role("heading", name="Unsubscribe from quota warnings")).to_be_visible()
    assert preferences.choices(user_id).quota is True  # opening the link changed nothing
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    expect(page.get_by_text("This account gets no more quota warnings by email.")).to_be_visible()
    assert blocked == []

    page.get_by_role("link", name="account settings").click()
    expect(page.get_by_label("Quota warnings")).not_to_be_checked()
    expect(page.get_by_label("Security alerts")).to_be_checked()
    expect(page.get_by_label("Security alerts")).to_be_disabled()
    news = page.get_by_label("Product news")
    expect(news).not_to_be_checked()
    news.click()  # saved over the socket; the box shows what the server stored
    expect(page.get_by_role("status")).to_contain_text("Saved. Product news: on.")
    expect(news).to_be_checked()
    page.reload()
    expect(page.get_by_label("Product news")).to_be_checked()
    assert preferences.choices(user_id) == preferences.MailChoices(quota=False, product_news=True)
