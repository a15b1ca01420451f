"""The staff console in Chromium: a person without a role finds nothing at /admin; a support
member's look-up shows metadata only and appears at once in the person's "Who looked at your
account" list (P17)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AT_LOGIN, log_in, sign_up
from tests.browser.test_accessibility import AXE, Audit
from vopix.core import accounts
from vopix.core.agent import history
from vopix.core.clock import utcnow
from vopix.core.privacy import policy, staff


@pytest.mark.promise("P17")
def test_a_staff_look_up_shows_in_the_persons_who_looked_list(browser, app_url: str, page) -> None:
    person_email = f"person-{secrets.token_hex(4)}@example.com"
    sign_up(page, person_email)
    person_id = accounts.find_user_id(person_email)
    assert person_id is not None
    conv = history.create_conversation(person_id, "Private")
    history.add_message(person_id, conv.id, "user", "my secret is QUUX-31337")

    staff_ctx = browser.new_context(base_url=app_url, color_scheme="light")
    staff_ctx.set_default_timeout(15_000)
    staff_ctx.add_init_script(path=str(AXE))
    axe = Audit("light")
    try:
        console = staff_ctx.new_page()
        staff_email = f"support-{secrets.token_hex(4)}@example.com"
        sign_up(console, staff_email)
        # Without a role: the app's page not found, nothing of the console.
        console.goto("/admin")
        expect(console.get_by_text("404: Page not found")).to_be_visible()
        expect(console.get_by_role("button", name="Look up")).to_have_count(0)
        expect(console).to_have_title("404 - Not Found")

        staff.grant(staff_email, "support", by="operator test")
        staff_id = accounts.find_user_id(staff_email)
        console.goto("/admin")
        expect(console.get_by_role("heading", name="Staff console")).to_be_visible()
        console.get_by_label("Email", exact=True).fill(person_email)
        console.get_by_label("Reason for opening the account").fill("ticket 4711: cannot log in")
        console.get_by_role("button", name="Look up").click()
        account = console.get_by_role("region", name="Account")
        expect(account).to_contain_text(f"#{person_id} {person_email}")
        expect(account).to_contain_text("Free")
        expect(console.locator("main")).not_to_contain_text("QUUX-31337")
        expect(console.get_by_role("button", name="Suspend account")).to_be_visible()
        axe.check(console, "/admin, a person open")
        axe.assert_clean()
    finally:
        staff_ctx.close()

    page.goto("/privacy")
    looked = page.get_by_role("table", name="Who looked at your account")
    expect(looked).to_contain_text(f"Support, staff #{staff_id}")
    expect(looked).to_contain_text("Opened your account")
    expect(looked).to_contain_text("ticket 4711: cannot log in")


@pytest.mark.promise("P34")
def test_an_admin_publishes_a_policy_version_from_the_console(page) -> None:
    email = f"admin-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    staff.grant(email, "admin", by="operator test")
    page.goto("/admin")
    version = f"c-{secrets.token_hex(3)}"
    soon = (utcnow() + timedelta(days=5)).date().isoformat()
    page.get_by_label("Version").fill(version)
    page.get_by_label("Summary of the change").fill("Exports now include tasks.")
    page.get_by_label("Effective date").fill(soon)
    page.get_by_role("button", name="Publish and notify everyone").click()
    expect(page.get_by_role("alert")).to_contain_text("A material change needs 14 days' notice")
    assert policy.latest() is None
    page.get_by_label("Minor change (not material)").check()
    page.get_by_role("button", name="Publish and notify everyone").click()
    expect(page.get_by_role("status")).to_contain_text(f"Published version {version}")
    expect(page.get_by_role("cell", name=version, exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_role("region", name="Privacy policy update")).to_contain_text(
        f"version {version} takes effect on {soon}")


@pytest.mark.promise("P33")
def test_support_deletes_an_account_reported_as_a_childs_and_its_tab_ends(browser, app_url: str, page) -> None:
    child_email = f"child-{secrets.token_hex(4)}@example.com"
    sign_up(page, child_email, "purple-otter-42-sings")
    child_id = accounts.find_user_id(child_email)

    staff_ctx = browser.new_context(base_url=app_url)
    staff_ctx.set_default_timeout(15_000)
    try:
        console = staff_ctx.new_page()
        staff_email = f"support-{secrets.token_hex(4)}@example.com"
        sign_up(console, staff_email)
        staff.grant(staff_email, "support", by="operator test")
        console.goto("/admin")
        console.get_by_label("Email", exact=True).fill(child_email)
        console.get_by_label("Reason for opening the account").fill("report 12: under 16")
        console.get_by_role("button", name="Look up").click()
        console.get_by_role("button", name="Delete account reported as a child's").click()
        dialog = console.get_by_role("alertdialog", name="Delete this account")
        dialog.get_by_label("Reason for the deletion").fill("report 12: parent confirmed the age")
        dialog.get_by_role("button", name="Delete account and all its data").click()
        expect(console.get_by_role("status")).to_contain_text(f"Account #{child_id} was deleted")
        expect(console.get_by_role("region", name="Account")).to_have_count(0)
    finally:
        staff_ctx.close()

    assert accounts.find_user_id(child_email) is None
    page.reload()
    page.wait_for_url(AT_LOGIN)
    log_in(page, child_email, "purple-otter-42-sings")
    expect(page.get_by_role("alert")).to_contain_text(accounts.LOGIN_FAILED)  # no such account now
    expect(page).to_have_url(AT_LOGIN)


@pytest.mark.promise("P17")
def test_an_admin_changes_a_plans_limit_and_the_billing_page_shows_it(page) -> None:
    from vopix.core import plans

    email = f"admin-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    staff.grant(email, "admin", by="operator test")
    before = plans.get_plan("team")
    assert before is not None
    try:
        page.goto("/admin")
        plans_table = page.get_by_role("table", name="Plans")
        expect(plans_table).to_contain_text("Team")
        page.get_by_role("button", name="Edit Team").click()
        edit = page.get_by_role("form", name="Edit plan")
        expect(edit.get_by_label("Name")).to_have_value("Team")
        edit.get_by_label("Messages a month").fill("76x54")
        edit.get_by_label("Reason for the change").fill("ticket 88: more messages on Team")
        edit.get_by_role("button", name="Save plan").click()
        expect(edit.get_by_role("alert")).to_contain_text("Messages a month: give a whole number")
        expect(edit.get_by_label("Messages a month")).to_have_value("76x54")  # what was typed stays
        assert plans.get_plan("team").messages_per_month == before.messages_per_month  # type: ignore[union-attr]

        edit.get_by_label("Messages a month").fill("7654")
        edit.get_by_role("button", name="Save plan").click()
        expect(page.get_by_role("status")).to_contain_text("Saved the Team plan (team)")
        expect(plans_table).to_contain_text("7,654 messages")
        expect(page.get_by_role("table", name="Recent staff activity")).to_contain_text(
            "ticket 88: more messages on Team")

        page.goto("/billing")
        expect(page.locator("main")).to_contain_text("7,654 messages")
    finally:
        plans.save_plan("team", messages_per_month=before.messages_per_month)
