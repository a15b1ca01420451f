"""Issue 14, the rest of bug 10 in Chromium: the provider form's hints follow the provider chosen,
the usage chart's hover band is light, a long email stays inside its card on a phone, and a
refused email change keeps what was typed."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from vopix.core import accounts, usage

PASSWORD = "purple-otter-42-sings"


def _new_person(page, email: str | None = None) -> tuple[int, str]:
    address = email or f"more-{secrets.token_hex(4)}@example.com"
    sign_up(page, address, PASSWORD)
    user_id = accounts.find_user_id(address)
    assert user_id is not None
    return user_id, address


def test_the_anthropic_form_says_nothing_of_openai(page) -> None:
    _new_person(page)
    page.goto("/settings")
    form = page.get_by_role("form", name="AI provider")
    form.get_by_label("Provider").select_option(label="Anthropic")
    base_url = form.get_by_label("Base URL (optional)")
    expect(base_url).to_have_attribute("placeholder", "https://api.anthropic.com")
    expect(base_url).to_have_accessible_description("Leave empty for Anthropic's API; set it only for a proxy "
                                                    "that speaks the Anthropic Messages API.")
    expect(form.get_by_label("Model")).to_have_attribute("placeholder", "claude-sonnet-4-5")
    hints = [h.inner_text() for h in form.locator(".vx-hint").all()]
    assert hints and not any("OpenAI" in h for h in hints)  # the provider list itself names it, fine
    form.get_by_label("Provider").select_option(label="OpenAI-compatible")
    expect(base_url).to_have_attribute("placeholder", "https://api.openai.com/v1")
    expect(form).to_contain_text("OpenRouter, Groq")
    expect(form.get_by_label("Model")).to_have_attribute("placeholder", "gpt-4o-mini")


def test_the_usage_chart_hover_band_does_not_hide_the_bar(page) -> None:
    user_id, _ = _new_person(page)
    for _ in range(3):
        usage.record_message(user_id)
    page.goto("/usage")
    bar = page.locator(".recharts-bar-rectangle").last
    expect(bar).to_be_attached()
    bar.hover()
    cursor = page.locator(".recharts-tooltip-cursor")
    expect(cursor).to_be_attached()
    # The palette's soft accent (a CSS variable, so it follows the theme), not black.
    assert cursor.evaluate("el => getComputedStyle(el).fill") == "rgb(238, 242, 255)"
    tooltip = page.locator(".recharts-default-tooltip")
    expect(tooltip).to_be_visible()
    background = tooltip.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(255, 255, 255)"


def test_a_long_email_stays_inside_its_card_on_a_phone(page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    _, email = _new_person(page, f"areallylongaddressforaphonewithnobreaks{secrets.token_hex(6)}@example.com")
    page.goto("/account")
    card = page.get_by_role("heading", name="Email address").locator("xpath=..")
    shown = card.get_by_text(email, exact=True)
    expect(shown).to_be_visible()
    inner = shown.bounding_box()
    outer = card.bounding_box()
    assert inner is not None and outer is not None
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_refused_email_change_keeps_what_was_typed(page) -> None:
    _new_person(page)
    page.goto("/account")
    form = page.get_by_role("form", name="Change email")
    form.get_by_label("New email").fill("new-home@example.com")
    form.get_by_label("Password").fill("not-my-password-at-all")
    form.get_by_role("button", name="Change email").click()
    expect(form.get_by_role("alert")).to_be_visible()
    expect(form.get_by_label("New email")).to_have_value("new-home@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Change email").click()
    expect(form.get_by_role("status")).to_contain_text("We sent a link to new-home@example.com")
    expect(form.get_by_label("New email")).to_have_value("")


def test_a_refused_rename_keeps_the_title_field_as_typed(page) -> None:
    """Bug 10: a rename the app refuses (a title of spaces only) says why next to the field and
    leaves the field as typed; the conversation keeps its title."""
    from vopix.core.agent import history

    user_id, _ = _new_person(page)
    conv = history.create_conversation(user_id, "Trip to Porto")
    page.goto(f"/chat?c={conv.id}")
    rename = page.get_by_role("form", name="Rename conversation")
    title = rename.get_by_label("Conversation title")
    expect(title).to_have_value("Trip to Porto")
    title.fill("   ")
    rename.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("alert").filter(has_text="Give the conversation a title.")).to_be_visible()
    expect(title).to_have_value("   ")
    assert history.get_conversation(user_id, conv.id).title == "Trip to Porto"
