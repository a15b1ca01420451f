"""The privacy policy notice in Chromium: shown on every signed-in page with its summary and
effective date, gone for good once dismissed (P34)."""

from __future__ import annotations

import secrets
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_accessibility import AXE, Audit
from vopix.core.privacy import policy


@pytest.mark.promise("P34")
def test_the_policy_banner_shows_until_dismissed(browser, app_url: str) -> None:
    context = browser.new_context(base_url=app_url, color_scheme="dark")
    context.set_default_timeout(15_000)
    context.add_init_script(path=str(AXE))
    try:
        _banner_until_dismissed(context.new_page(), Audit("dark"))
    finally:
        context.close()


def _banner_until_dismissed(page, axe: Audit) -> None:
    sign_up(page, f"banner-{secrets.token_hex(4)}@example.com")
    version = f"t-{secrets.token_hex(3)}"
    policy.publish(version=version, summary="Access logs are now kept 20 days instead of 30.",
                   effective_on=date(2031, 3, 1), material=True, by="operator test")
    page.goto("/usage")
    banner = page.get_by_role("region", name="Privacy policy update")
    expect(banner).to_contain_text(f"version {version} takes effect on 2031-03-01")
    expect(banner).to_contain_text("Access logs are now kept 20 days instead of 30.")
    axe.check(page, "/usage with the policy banner")
    axe.assert_clean()
    page.goto("/account")
    expect(banner).to_be_visible()
    banner.get_by_role("link", name="Read the policy").click()
    expect(page.get_by_role("heading", name=f"Version {version}, in effect from 2031-03-01")).to_be_visible()
    page.goto("/account")
    page.get_by_role("button", name="Dismiss the privacy policy notice").click()
    expect(banner).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    expect(banner).to_have_count(0)
    page.goto("/usage")
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    expect(banner).to_have_count(0)
