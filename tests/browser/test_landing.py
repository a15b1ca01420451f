"""The page at / for people who are not logged in (issue 14): what VOPIX is, the plans, sign up
or log in; a logged-in person goes straight on to the chat."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from tests.browser.conftest import AT_HOME, sign_up


def test_a_visitor_sees_what_vopix_is_and_the_plans_then_signs_up(page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your own AI agent, on the web, Telegram and WhatsApp")
    expect(page.get_by_role("heading", name="One conversation everywhere")).to_be_visible()
    plans = page.get_by_role("region", name="Plans")
    expect(plans.get_by_role("heading", name="Free")).to_be_visible()
    expect(plans).to_contain_text("€12.00 / month")
    expect(plans).to_contain_text("300 messages a month")
    expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Log in")).to_have_attribute(
        "href", "/login")
    page.get_by_role("link", name="Create your agent").click()
    expect(page.get_by_role("heading", name="Create your VOPIX account")).to_be_visible()


def test_a_logged_in_person_goes_on_to_the_chat(page) -> None:
    sign_up(page, f"landing-{secrets.token_hex(4)}@example.com")
    page.goto("/")
    page.wait_for_url(AT_HOME)
    expect(page.get_by_label("Message", exact=True)).to_be_visible()
