"""Issue 14: a dark theme that follows the system setting, and a toggle that is remembered."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from tests.browser.conftest import sign_up

# The page background of each theme (--vx-bg), as getComputedStyle reports it.
LIGHT_BG = "rgb(247, 248, 250)"
DARK_BG = "rgb(15, 17, 21)"

# Records the theme <html> carries at the moment <body> is parsed, before anything is painted.
RECORD_FIRST_PAINT_THEME = """
new MutationObserver((records, observer) => {
  if (!document.body) return;
  window.__themeAtBody = document.documentElement.className;
  observer.disconnect();
}).observe(document, { childList: true, subtree: true });
"""


def _background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_the_theme_follows_the_system_until_the_toggle_chooses_and_is_remembered(browser, app_url) -> None:
    context = browser.new_context(base_url=app_url, color_scheme="dark")
    try:
        page = context.new_page()
        page.add_init_script(RECORD_FIRST_PAINT_THEME)
        page.goto("/login")
        toggle = page.get_by_role("button", name="Dark theme")
        expect(toggle).to_have_attribute("aria-pressed", "true")  # the system says dark
        assert _background(page) == DARK_BG
        assert "dark" in page.evaluate("window.__themeAtBody").split()

        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "false")
        assert _background(page) == LIGHT_BG

        # Remembered over the system's dark setting, on the next page and from the first paint.
        page.goto("/signup")
        expect(page.get_by_role("heading", level=1, name="Create your VOPIX account")).to_be_visible()
        assert "light" in page.evaluate("window.__themeAtBody").split()
        expect(page.get_by_role("button", name="Dark theme")).to_have_attribute("aria-pressed", "false")
        assert _background(page) == LIGHT_BG
    finally:
        context.close()


def test_the_navigation_toggle_switches_every_page_and_the_chart(page) -> None:
    page.emulate_media(color_scheme="light")
    sign_up(page, f"theme-{secrets.token_hex(4)}@example.com")
    nav = page.get_by_role("navigation", name="Main")
    toggle = nav.get_by_role("button", name="Dark theme")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert _background(page) == LIGHT_BG
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert _background(page) == DARK_BG

    page.goto("/account")
    expect(page.get_by_role("heading", level=1, name="Your account")).to_be_visible()
    expect(nav.get_by_role("button", name="Dark theme")).to_have_attribute("aria-pressed", "true")
    assert _background(page) == DARK_BG
    # Cards and fields change with the page, not only its background.
    card = page.locator(".vx-card").first
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(24, 27, 33)"

    nav.get_by_role("button", name="Dark theme").click()
    expect(nav.get_by_role("button", name="Dark theme")).to_have_attribute("aria-pressed", "false")
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"


def test_the_toggle_fits_in_the_navigation_at_every_width(page) -> None:
    sign_up(page, f"theme-fit-{secrets.token_hex(4)}@example.com")
    nav = page.get_by_role("navigation", name="Main")
    for width in (1280, 1000, 901, 600, 390, 360):
        page.set_viewport_size({"width": width, "height": 700})
        log_out = nav.get_by_role("button", name="Log out")
        expect(log_out).to_be_in_viewport(ratio=1)
        expect(nav.get_by_role("button", name="Dark theme")).to_be_in_viewport(ratio=1)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
        if width <= 600:  # phones: the brand, the toggle and Log out share the top row
            brand, button = nav.get_by_role("link", name="VOPIX home").bounding_box(), log_out.bounding_box()
            assert brand and button and abs(brand["y"] + brand["height"] / 2 - button["y"] - button["height"] / 2) < 12
