"""Issue 14: the main navigation never takes two rows. Wide screens show the destinations in
one row (those that do not fit in a More menu); narrow ones a Menu button that reveals them.
Both menus work from the keyboard; the current page stays marked (aria-current)."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_up
from vopix.components.ui import NAV_LINKS


def _one_row(page: Page) -> None:
    """The bar is one row high: the brand, Log out and every destination shown in the bar
    share one line, and the bar is not taller than one control plus its padding."""
    nav = page.get_by_role("navigation", name="Main")
    bar = nav.bounding_box()
    brand = nav.get_by_role("link", name="VOPIX home").bounding_box()
    log_out = nav.get_by_role("button", name="Log out").bounding_box()
    assert bar and brand and log_out
    assert bar["height"] < 2 * log_out["height"], bar
    centre = log_out["y"] + log_out["height"] / 2
    assert abs(brand["y"] + brand["height"] / 2 - centre) < 6
    for link in page.locator(".vx-navlinks a:visible").all():
        box = link.bounding_box()
        assert box and abs(box["y"] + box["height"] / 2 - centre) < 6, link.text_content()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _reachable(page: Page) -> list[str]:
    """The destinations a person can reach: shown in the row, or inside More once opened."""
    nav = page.get_by_role("navigation", name="Main")
    names = [a.text_content() or "" for a in nav.locator(".vx-navlinks").get_by_role("link").all()]
    more = nav.get_by_role("button", name="More")
    if more.is_visible():
        more.click()
        names += [a.text_content() or "" for a in page.locator("#nav-more-list").get_by_role("link").all()]
        page.keyboard.press("Escape")
    return names


def test_desktop_shows_every_destination_in_one_row(page: Page) -> None:
    sign_up(page, f"nav-{secrets.token_hex(4)}@example.com")
    page.goto("/usage")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Usage")).to_have_attribute("aria-current", "page")
    page.set_viewport_size({"width": 1280, "height": 720})
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    for text, href in NAV_LINKS:  # all of them fit at 1280 px, no More menu needed
        expect(nav.get_by_role("link", name=text, exact=True)).to_have_attribute("href", href)
    expect(nav.get_by_role("button", name="More")).to_be_hidden()
    _one_row(page)
    # Room for the ten destinations the issue names: with two more entries the row still fits.
    assert len(NAV_LINKS) >= 10 or page.evaluate("""() => {
      const row = document.querySelector('.vx-navlinks');
      for (const name of ['Tasks', 'Privacy'].slice(0, Math.max(0, 10 - row.children.length))) {
        const li = row.lastElementChild.cloneNode(true);
        li.querySelector('a').textContent = name;
        li.querySelector('a').removeAttribute('aria-current');
        row.append(li);
      }
      return row.children.length >= 10 && row.scrollWidth <= row.clientWidth + 1;
    }""")


def test_a_narrower_window_moves_what_does_not_fit_into_more(page: Page) -> None:
    sign_up(page, f"nav-more-{secrets.token_hex(4)}@example.com")
    page.goto("/account")
    page.set_viewport_size({"width": 960, "height": 720})
    nav = page.get_by_role("navigation", name="Main")
    more = nav.get_by_role("button", name="More")
    expect(more).to_be_visible()
    _one_row(page)
    assert sorted(_reachable(page)) == sorted(text for text, _ in NAV_LINKS)
    # The current page stays in the row, marked.
    expect(nav.locator(".vx-navlinks").get_by_role("link", name="Account")).to_have_attribute("aria-current", "page")

    # Keyboard: More opens with Enter, Tab walks into it, Escape closes it and focus goes back.
    more.focus()
    expect(more).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    menu = page.locator(f"#{more.get_attribute('aria-controls')}")
    expect(menu.get_by_role("link").first).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#nav-more-list')")
    page.keyboard.press("Escape")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_be_focused()
    expect(menu).to_be_hidden()

    # Wider again: everything back in the row.
    page.set_viewport_size({"width": 1280, "height": 720})
    expect(more).to_be_hidden()


def test_phone_menu_button_reveals_the_destinations(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    email = f"nav-phone-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    page.goto("/usage")
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Usage")).to_be_hidden()
    _one_row(page)

    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    panel = page.locator(f"#{menu.get_attribute('aria-controls')}")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(email)  # who is logged in, which the bar has no room for
    for text, _ in NAV_LINKS:
        expect(panel.get_by_role("link", name=text, exact=True)).to_be_visible()
    expect(panel.get_by_role("link", name="Usage")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#nav-menu')")
    page.keyboard.press("Escape")
    expect(menu).to_be_focused()
    expect(panel).to_be_hidden()

    # A destination picked from the menu opens its page.
    menu.click()
    panel.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", level=1, name="Your account")).to_be_visible()
    expect(nav.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    _one_row(page)

    # The skip link still moves the focus into the page.
    page.goto("/usage")
    expect(page.get_by_text("of 300 used")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
