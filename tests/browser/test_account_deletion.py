"""Deleting the account on /privacy while it is logged in elsewhere, then restoring it from the
mail's link, clicked through in Chromium (P29)."""

from __future__ import annotations

import re
import secrets
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AT_HOME, AT_LOGIN, log_in, sign_up

PASSWORD = "purple-otter-42-sings"


def _mails_to(smtp, address: str, subject: str, wait: float) -> list:
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in smtp.received if address in m.rcpt_tos and m.message["Subject"] == subject]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.promise("P29")
def test_delete_in_one_browser_both_end_on_login_then_restore_from_the_mail(browser, app_url: str, smtp) -> None:
    email = f"leaving-{secrets.token_hex(4)}@example.com"
    other_ctx = browser.new_context(base_url=app_url)
    other_ctx.set_default_timeout(15_000)
    other = other_ctx.new_page()
    sign_up(other, email, PASSWORD)

    ctx = browser.new_context(base_url=app_url)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    log_in(page, email, PASSWORD)
    page.wait_for_url(AT_HOME)
    page.goto("/privacy")
    section = page.get_by_role("region", name="Delete your account")
    section.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("alertdialog", name="Delete your account")

    # A wrong password: told so, nothing changes.
    dialog.get_by_label("Current password").fill("not-my-password-7")
    dialog.get_by_role("button", name="Delete my account").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Your current password is not correct.")
    expect(page).to_have_url(re.compile(r"/privacy/?$"))

    dialog.get_by_label("Current password").fill(PASSWORD)
    dialog.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(AT_LOGIN)

    # The other browser, left open on the chat, is signed out too: the deletion ends its
    # session, whose live notice sends that tab to the login page by itself.
    other.wait_for_url(AT_LOGIN)
    log_in(other, email, PASSWORD)
    expect(other.get_by_role("alert")).to_contain_text("This account is being deleted.")
    expect(other.get_by_role("alert")).to_contain_text("has a link to restore it until")

    [mail] = _mails_to(smtp, email, "Your VOPIX account is being deleted", wait=20)
    link = re.search(r"https?://\S+/restore-account\?token=[A-Za-z0-9_-]+", mail.text)
    assert link and link.group(0).startswith(app_url)
    page.goto(link.group(0))
    page.get_by_role("button", name="Restore my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is restored.")

    log_in(page, email, PASSWORD)
    page.wait_for_url(AT_HOME)
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)
    other.goto(link.group(0))  # the link worked once
    expect(other.get_by_role("alert")).to_contain_text("This restore link was already used.")
    ctx.close()
    other_ctx.close()
