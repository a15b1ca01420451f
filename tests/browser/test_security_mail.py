"""Security mail in Chromium: a password change on the account page sends the alert (P12);
an email change takes effect from the link mailed to the new address, and the old address's
link takes it back."""

from __future__ import annotations

import re
import secrets
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up

PASSWORD = "purple-otter-42-sings"


def _email() -> str:
    return f"person-{secrets.token_hex(4)}@example.com"


def _mails_to(smtp, address: str, subject: str, wait: float = 15) -> list:
    """The app's mails to `address` with `subject` (the SMTP server is shared by the session)."""
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in smtp.received if address in m.rcpt_tos and m.message["Subject"] == subject]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.promise("P12")
def test_a_password_change_on_the_account_page_mails_the_alert(page, smtp) -> None:
    email = _email()
    sign_up(page, email, PASSWORD)
    page.goto("/account")
    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("lantern-quietly-93-moss")
    page.get_by_label("Repeat new password", exact=True).fill("lantern-quietly-93-moss")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="Password changed.")).to_be_visible(timeout=15_000)
    [mail] = _mails_to(smtp, email, "VOPIX security alert: password changed")
    assert "The password of your account was changed." in mail.text and "From: Chrome on Linux" in mail.text
    assert re.search(r"/not-me\?token=[A-Za-z0-9_-]+", mail.text)


@pytest.mark.promise("P12")
def test_an_email_change_waits_for_the_link_from_the_new_address(page, smtp) -> None:
    email, new = _email(), _email()
    sign_up(page, email, PASSWORD)
    page.goto("/account")
    page.get_by_label("New email", exact=True).fill(new)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Change email").click()
    sent = f"We sent a link to {new}; your address changes when you open it."
    expect(page.get_by_role("status").filter(has_text=sent)).to_be_visible(timeout=15_000)
    [mail] = _mails_to(smtp, new, "Confirm your new VOPIX email address")
    link = re.search(r"https?://\S+/confirm-email\?token=[A-Za-z0-9_-]+", mail.text)
    assert link
    page.goto(link.group(0))
    expect(page.get_by_role("status").filter(has_text=f"Your account now uses {new}.")).to_be_visible(
        timeout=15_000
    )
    [alert] = _mails_to(smtp, email, "Your VOPIX email address was changed")
    undo = re.search(r"https?://\S+/undo-email\?token=[A-Za-z0-9_-]+", alert.text)
    assert undo
    page.goto(undo.group(0))  # opening it changes nothing yet: the button does
    page.get_by_role("button", name="Put my old address back").click()
    expect(page.get_by_role("status").filter(has_text=f"Your account uses {email} again")).to_be_visible(
        timeout=15_000
    )
    assert _mails_to(smtp, email, "Reset your VOPIX password")
