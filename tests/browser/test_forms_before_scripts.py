"""A form submitted before the page's scripts run (slow network, scripts blocked) is the
browser's own submit: it must not put what was typed, a password above all, into the URL."""

from __future__ import annotations

from urllib.parse import urlparse


def test_a_login_submitted_without_scripts_keeps_the_password_out_of_the_url(browser, app_url: str) -> None:
    context = browser.new_context(base_url=app_url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill("ada@example.com")
        page.get_by_label("Password", exact=True).fill("correct-horse-battery-staple")
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        seen = urlparse(page.url)
        assert "correct-horse" not in page.url and "password" not in seen.query
        assert "ada%40example.com" not in page.url and "ada@example.com" not in page.url
    finally:
        context.close()
