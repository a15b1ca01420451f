"""Sign-up, login, logout, sessions: clicked through in Chromium."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AT_HOME, AT_LOGIN, log_in, sign_up

PASSWORD = "purple-otter-42-sings"


def _email() -> str:
    return f"person-{secrets.token_hex(4)}@example.com"


@pytest.mark.promise("P32")
@pytest.mark.promise("P33")
def test_sign_up_sets_one_httponly_cookie_and_stays_logged_in(context, page) -> None:
    email = _email()
    sign_up(page, email, PASSWORD)
    cookies = context.cookies()
    assert [c["name"] for c in cookies] == ["vopix_session"]
    cookie = cookies[0]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] in ("Lax", "Strict")
    assert not cookie["domain"].startswith(".")  # host-only
    assert page.evaluate("document.cookie") == ""
    stored = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
    assert cookie["value"] not in stored
    assert "vopix_session" not in stored
    # A new page (tab) in the same browser is logged in too.
    other = context.new_page()
    other.goto("/")
    expect(other.get_by_role("navigation", name="Main")).to_contain_text(email)


def test_sign_up_requires_the_age_checkbox(page) -> None:
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(_email())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    expect(page.get_by_label("Email me product news")).not_to_be_checked()
    page.get_by_role("button", name="Create account").click()
    # The browser refuses the form: the required age box stays unchecked, no account is made.
    assert "/signup" in page.url
    assert page.get_by_label("I confirm that I am 16 or older").evaluate("e => !e.checkValidity()")


def test_weak_password_gets_a_clear_message(page) -> None:
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(_email())
    page.get_by_label("Password", exact=True).fill("1234567890")
    page.get_by_label("I confirm that I am 16 or older").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("too common")


def test_log_out_then_wrong_password_then_log_in(context, page) -> None:
    email = _email()
    sign_up(page, email, PASSWORD)
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(AT_LOGIN)
    assert context.cookies() == []
    page.goto("/chat")
    page.wait_for_url(AT_LOGIN)

    log_in(page, email, "not-my-password-1")
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    log_in(page, "nobody-" + email, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")

    log_in(page, email, PASSWORD)
    page.wait_for_url(AT_HOME)
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)


def test_session_list_and_ending_another_session(browser, app_url: str) -> None:
    email = _email()
    first = browser.new_context(
        base_url=app_url, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"
    )
    second = browser.new_context(
        base_url=app_url, user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/140.0"
    )
    try:
        page1 = first.new_page()
        sign_up(page1, email, PASSWORD)
        page2 = second.new_page()
        log_in(page2, email, PASSWORD)
        page2.wait_for_url(AT_HOME)

        page1.goto("/account")
        table = page1.get_by_role("table", name="Active sessions")
        expect(table.get_by_role("row")).to_have_count(3)  # header + 2 sessions
        expect(table).to_contain_text("Chrome on Linux")
        expect(table).to_contain_text("Firefox on Windows")
        expect(table).to_contain_text("127.0.0.1")
        page1.get_by_role("button", name="End all other sessions").click()
        expect(page1.get_by_text("Ended 1 other session.")).to_be_visible()
        expect(table.get_by_role("row")).to_have_count(2)

        page2.goto("/account")
        page2.wait_for_url(AT_LOGIN)
    finally:
        first.close()
        second.close()


@pytest.mark.promise("P31")
def test_change_password_from_the_account_page(page) -> None:
    email = _email()
    sign_up(page, email, PASSWORD)
    page.goto("/account")
    form = page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password", exact=True).fill("a-brand-new-secret-77")
    form.get_by_label("Repeat new password").fill("a-brand-new-secret-77")
    form.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible()
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(AT_LOGIN)
    log_in(page, email, "a-brand-new-secret-77")
    page.wait_for_url(AT_HOME)


def test_a_copied_reflex_client_token_without_the_cookie_sees_and_does_nothing(browser, app_url: str) -> None:
    email = _email()
    owner = browser.new_context(base_url=app_url)
    thief = browser.new_context(base_url=app_url)
    try:
        page = owner.new_page()
        sign_up(page, email, PASSWORD)
        page.goto("/account")
        expect(page.get_by_role("table", name="Active sessions")).to_be_visible()
        token = page.evaluate("window.sessionStorage.getItem('token')")
        assert token
        page.close()  # Reflex gives a token already open in a live tab a new one: close it

        spy = thief.new_page()
        # Record every text the page ever shows, then plant the owner's client token.
        spy.add_init_script(
            "window.__seen = [];"
            "new MutationObserver(() => window.__seen.push(document.body ? document.body.innerText : ''))"
            ".observe(document, {childList: true, subtree: true, characterData: true});"
        )
        spy.goto("/login")
        spy.evaluate("t => window.sessionStorage.setItem('token', t)", token)
        spy.goto("/account")
        spy.wait_for_url(AT_LOGIN)
        spy.wait_for_timeout(500)
        seen = " ".join(spy.evaluate("window.__seen"))
        assert email not in seen
        # The owner is still logged in and unaffected.
        page = owner.new_page()
        page.goto("/account")
        expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)
    finally:
        owner.close()
        thief.close()
