"""axe-core on the states the layout of issue 14 adds, in both themes: the phone's open Menu,
the open conversation drawer, and the More menu of a narrower desktop window."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_accessibility import Audit, theme_context  # noqa: F401 - the fixture


def test_the_open_menus_and_drawer_have_no_serious_accessibility_problem(theme_context) -> None:  # noqa: F811
    theme, ctx = theme_context
    audit = Audit(theme)
    page = ctx.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, f"a11y-layout-{theme}-{secrets.token_hex(4)}@example.com")
    page.goto("/chat")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Menu").click()
    expect(nav.get_by_role("link", name="Usage")).to_be_visible()
    audit.check(page, "/chat on a phone, the Menu open")
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Conversations", exact=True).click()
    expect(page.get_by_role("button", name="New conversation")).to_be_visible()
    audit.check(page, "/chat on a phone, the conversation drawer open")
    page.keyboard.press("Escape")

    page.set_viewport_size({"width": 960, "height": 720})
    nav.get_by_role("button", name="More").click()
    expect(page.locator("#nav-more-list").get_by_role("link").first).to_be_visible()
    audit.check(page, "/chat at 960px, the More menu open")
    audit.assert_clean()
