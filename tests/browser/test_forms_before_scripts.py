"""A form before the page's scripts run (slow network, scripts blocked): its submit button
stays disabled until the app is live (vopix/components/ui.py `submit`), so neither a click
nor Enter can make the browser's own submit, which would put what was typed, a password above
all, into a request the app does not handle (and, without method=post, into the URL)."""

from __future__ import annotations

from playwright.sync_api import expect


def test_a_login_form_without_scripts_cannot_be_submitted(browser, app_url: str) -> None:
    context = browser.new_context(base_url=app_url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login", live=False)  # never live: no scripts
        form = page.locator("form")
        assert form.get_attribute("method") == "post"  # the second line of defence
        page.get_by_label("Email", exact=True).fill("ada@example.com")
        page.get_by_label("Password", exact=True).fill("correct-horse-battery-staple")
        expect(page.get_by_role("button", name="Log in")).to_be_disabled()
        page.get_by_label("Password", exact=True).press("Enter")  # implicit submission
        page.wait_for_load_state()
        assert page.url.rstrip("/").endswith("/login")
        assert "correct-horse" not in page.url and "ada" not in page.url
    finally:
        context.close()
