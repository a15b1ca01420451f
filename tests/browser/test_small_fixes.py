"""Issue 14, bugs 7 and 10 in Chromium: one foldable notice area whose links lead where the
person can act, questions and fields that keep to what the person did and typed, a favicon."""

from __future__ import annotations

import re
import secrets

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from vopix.core import accounts, usage
from vopix.core.kinds import NoticeKind
from vopix.core.workspace import store

PASSWORD = "purple-otter-42-sings"


def _new_person(page) -> int:
    email = f"small-{secrets.token_hex(4)}@example.com"
    sign_up(page, email, PASSWORD)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    return user_id


def test_notices_share_one_foldable_area_and_link_where_the_person_can_act(page) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    user_id = _new_person(page)
    mark = secrets.token_hex(3)
    usage.add_notice(user_id, f"s{mark}", "The password of your account was changed.",
                     kind=NoticeKind.SECURITY, level="warning", link="/account")
    usage.add_notice(user_id, f"q{mark}", "You have used 80% of this month's 100 messages. Upgrade for more.",
                     kind=NoticeKind.QUOTA, level="warning", link="/billing")
    usage.add_notice(user_id, f"w{mark}", "Your agent could not reply freely on WhatsApp.",
                     kind=NoticeKind.WHATSAPP_WINDOW, level="warning", link="/channels")
    page.goto("/chat")
    area = page.get_by_role("region", name="Notices")
    expect(area.get_by_role("status")).to_have_count(3)
    for label, href in (("Review sessions", "/account"), ("See plans and billing", "/billing"),
                        ("Open Channels", "/channels")):
        expect(area.get_by_role("link", name=label, exact=True)).to_have_attribute("href", href)
    expect(area.get_by_role("link", name="See plans", exact=True)).to_have_count(0)

    area.get_by_role("button", name="Hide notices").click()
    expect(area.get_by_role("status")).to_have_count(0)
    show = area.get_by_role("button", name="Show notices (3)")
    expect(show).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label("Message", exact=True)).to_be_in_viewport()
    show.click()
    expect(area.get_by_role("status")).to_have_count(3)

    area.get_by_role("button", name="Dismiss notice").first.click()
    expect(area.get_by_role("status")).to_have_count(2)


def test_deleting_a_file_asks_about_the_file_and_a_folder_about_its_contents(page) -> None:
    user_id = _new_person(page)
    store.write_text(user_id, "Notes/todo.md", "- milk\n")
    page.goto("/workspace")
    page.get_by_role("button", name="Delete Notes/todo.md", exact=True).click()
    expect(page.get_by_text("Delete “Notes/todo.md”? This cannot be undone.", exact=True)).to_be_visible()
    page.get_by_role("button", name="Keep it").click()
    page.get_by_role("button", name="Delete Notes", exact=True).click()
    expect(page.get_by_text("Delete “Notes” and everything in it? This cannot be undone.", exact=True)).to_be_visible()


def test_a_mismatched_new_password_keeps_what_was_typed(page) -> None:
    _new_person(page)
    page.goto("/account")
    form = page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password", exact=True).fill("a-brand-new-pass-7")
    form.get_by_label("Repeat new password").fill("a-brand-new-pass-8")
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("alert")).to_have_text("The two new passwords do not match.")
    expect(form.get_by_label("Current password")).to_have_value(PASSWORD)
    expect(form.get_by_label("New password", exact=True)).to_have_value("a-brand-new-pass-7")
    expect(form.get_by_label("Repeat new password")).to_have_value("a-brand-new-pass-8")

    form.get_by_label("Repeat new password").fill("a-brand-new-pass-7")
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("status")).to_contain_text("Password changed.")
    for label in ("Current password", "New password", "Repeat new password"):
        expect(form.get_by_label(label, exact=True)).to_have_value("")


def test_the_app_serves_a_favicon(app_url: str, page) -> None:
    got = httpx.get(f"{app_url}/favicon.ico", timeout=10)
    assert got.status_code == 200 and got.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page.goto("/login")
    icon = page.evaluate("fetch('/favicon.ico').then(r => r.status)")
    assert icon == 200
    assert re.match(r"^image/", got.headers.get("content-type", "image/x-icon"))
