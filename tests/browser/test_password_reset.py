"""Forgot password → mail → link → new password → log in, clicked through in Chromium."""

from __future__ import annotations

import re
import secrets
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AT_HOME, AT_LOGIN, log_in, sign_up

PASSWORD = "purple-otter-42-sings"
NEW_PASSWORD = "lantern-quietly-93-moss"
ANSWER = "If an account exists for that address, we sent a link to reset its password."


def _email() -> str:
    return f"person-{secrets.token_hex(4)}@example.com"


def _mails_to(smtp, address: str, wait: float) -> list:
    """The mails the app sent to `address` (the SMTP server is shared by the whole session)."""
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in smtp.received if address in m.rcpt_tos]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _ask_for_a_link(page, email: str) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url(re.compile(r"/forgot/?$"))
    # The app is live once its submit button is (disabled until then): typed earlier, into the
    # page's prerendered HTML, the address would be wiped when the app boots.
    expect(page.get_by_role("button", name="Send reset link")).to_be_enabled()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status")).to_contain_text(ANSWER)


@pytest.mark.promise("P16")
def test_forgot_password_mail_link_new_password_then_log_in(browser, app_url: str, smtp) -> None:
    email = _email()
    before = browser.new_context(base_url=app_url)
    signed_in = before.new_page()
    sign_up(signed_in, email, PASSWORD)

    ctx = browser.new_context(base_url=app_url)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    _ask_for_a_link(page, email)
    [mail] = _mails_to(smtp, email, wait=15)
    assert mail.message["Subject"] == "Reset your VOPIX password"
    link = re.search(r"https?://\S+/reset\?token=[A-Za-z0-9_-]+", mail.text)
    assert link and link.group(0).startswith(app_url)

    page.goto(link.group(0))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Your password was changed")).to_be_visible()
    page.get_by_role("link", name="Log in").click()
    page.wait_for_url(AT_LOGIN)
    log_in(page, email, NEW_PASSWORD)
    page.wait_for_url(AT_HOME)
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)

    # The link worked once, and the browser that was signed in before is signed out.
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    expect(page.get_by_role("link", name="Send a new link")).to_have_attribute("href", "/forgot")
    signed_in.goto("/chat")
    signed_in.wait_for_url(AT_LOGIN)
    before.close()
    ctx.close()


def test_an_unknown_address_gets_the_same_page_and_no_mail(page, smtp) -> None:
    email = _email()
    _ask_for_a_link(page, email)
    assert _mails_to(smtp, email, wait=2) == []
