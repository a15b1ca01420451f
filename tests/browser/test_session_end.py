"""Every open tab of a login ended from another browser goes to the login page by itself, with
no click, and shows nothing of the person any more (issue 12: "every session ends at once, this
tab and all others, sockets included")."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AT_HOME, AT_LOGIN, log_in, sign_up

PASSWORD = "purple-otter-42-sings"


def _two_browsers(browser, app_url: str, email: str):
    """Browser 2 signs up (its tab is `other`); browser 1 logs in as the same person."""
    contexts = []
    for _ in range(2):
        ctx = browser.new_context(base_url=app_url)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
    first = contexts[0].new_page()
    other = contexts[1].new_page()
    sign_up(other, email, PASSWORD)
    log_in(first, email, PASSWORD)
    first.wait_for_url(AT_HOME)
    return contexts, first, other


def _open_and_idle(ctx, other, route: str, email: str):
    """Tab 1 of browser 2 on /account, tab 2 on `route`, both showing the person's email."""
    other.goto("/account")
    expect(other.get_by_role("table", name="Active sessions")).to_be_visible()
    expect(other.get_by_role("navigation", name="Main")).to_contain_text(email)
    second = ctx.new_page()
    second.goto(route)
    expect(second.get_by_role("navigation", name="Main")).to_contain_text(email)
    return second


def _left_for_login(tab, email: str) -> None:
    # No click, no reload: the tab's session watcher notices within a couple of seconds.
    tab.wait_for_url(AT_LOGIN, timeout=15_000)
    expect(tab.get_by_role("button", name="Log in")).to_be_visible()
    expect(tab.get_by_text(email)).to_have_count(0)
    assert email not in tab.content()


@pytest.mark.promise("P29")
def test_deleting_the_account_sends_every_open_tab_elsewhere_to_the_login_page(browser, app_url: str) -> None:
    email = f"gone-{secrets.token_hex(4)}@example.com"
    contexts, first, other = _two_browsers(browser, app_url, email)
    second = _open_and_idle(contexts[1], other, "/workspace", email)

    first.goto("/privacy")
    first.get_by_role("region", name="Delete your account").get_by_role("button", name="Delete account…").click()
    dialog = first.get_by_role("alertdialog", name="Delete your account")
    dialog.get_by_label("Current password").fill(PASSWORD)
    dialog.get_by_role("button", name="Delete my account").click()
    first.wait_for_url(AT_LOGIN)

    _left_for_login(other, email)
    _left_for_login(second, email)
    # Going back to the page it was on shows nothing of the person either.
    other.go_back()
    other.wait_for_url(AT_LOGIN)
    expect(other.get_by_text(email)).to_have_count(0)
    for ctx in contexts:
        ctx.close()


def test_ending_the_other_sessions_sends_that_browsers_tabs_to_the_login_page(browser, app_url: str) -> None:
    email = f"others-{secrets.token_hex(4)}@example.com"
    contexts, first, other = _two_browsers(browser, app_url, email)
    second = _open_and_idle(contexts[1], other, "/billing", email)

    first.goto("/account")
    first.get_by_role("button", name="End all other sessions").click()
    expect(first.get_by_text(re.compile(r"Ended 1 other session\b"))).to_be_visible()

    _left_for_login(other, email)
    _left_for_login(second, email)
    # The browser that ended them stays logged in, and sees it a moment later too.
    first.wait_for_timeout(3_000)
    expect(first).to_have_url(re.compile(r"/account/?$"))
    expect(first.get_by_role("navigation", name="Main")).to_contain_text(email)
    for ctx in contexts:
        ctx.close()
