"""The staff console's state (/admin), without a browser: not found without a role, the role
re-checked at every event, every look and action logged, and no secret or content in anything
the page holds (P17, P33, P34)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.core.privacy.test_staff import seed_private_things
from tests.state.conftest import state_of
from vopix.core import account_standing, sessions
from vopix.core.clock import utcnow
from vopix.core.privacy import audit, staff
from vopix.db import session_scope
from vopix.models import PolicyVersion, StaffAudit, User
from vopix.state.admin import AdminState

pytestmark = [pytest.mark.asyncio, pytest.mark.promise("P17")]


def _console(user_id: int) -> AdminState:
    token, _ = sessions.start_session(user_id)
    return state_of(AdminState, f"{sessions.COOKIE_NAME}={token}")


def _audit() -> list[StaffAudit]:
    with session_scope() as s:
        return list(s.exec(select(StaffAudit).order_by(StaffAudit.id)).all())


@pytest.fixture
def staff_member(make_user):
    def make(role: str) -> tuple[int, str, AdminState]:
        user_id, email, _ = make_user()
        staff.grant(email, role, by="root@ops")
        return user_id, email, _console(user_id)

    return make


async def test_without_a_role_every_admin_event_is_not_found_and_changes_nothing(make_user) -> None:
    plain, _, _ = make_user()
    target, target_email, _ = make_user()
    page = _console(plain)
    await page.load()
    assert page.checked and not page.allowed
    await page.look_up({"email": target_email, "reason": "curious"})
    await page.suspend({"reason": "x"})
    await page.delete_child({"reason": "x"})
    await page.set_plan({"plan": "team", "reason": "x"})
    await page.publish({"version": "v9", "summary": "s", "effective": "2030-01-01", "body": ""})
    assert page.person == [] and not page.allowed
    assert _audit() == []
    assert account_standing.is_active(target)
    with session_scope() as s:
        assert s.exec(select(PolicyVersion)).first() is None
        assert s.get(User, target).plan_id == "free"  # type: ignore[union-attr]
    # Nobody logged in at all: the same.
    anonymous = state_of(AdminState)
    await anonymous.load()
    assert anonymous.checked and not anonymous.allowed


async def test_a_role_revoked_while_the_page_is_open_stops_the_next_event(make_user, staff_member) -> None:
    _, target_email, _ = make_user()
    _, email, page = staff_member("support")
    await page.load()
    assert page.allowed and page.role == "support"
    await page.look_up({"email": target_email, "reason": "ticket 1"})
    assert page.person
    staff.revoke(email, by="root@ops")
    await page.suspend({"reason": "ticket 1"})
    assert not page.allowed and page.person == []
    assert [r.action for r in _audit()] == ["view"]


@pytest.mark.promise("P06")
async def test_support_sees_metadata_and_never_content_or_secrets(make_user, staff_member) -> None:
    target, target_email, _ = make_user()
    secrets = seed_private_things(target)
    _, _, page = staff_member("support")
    await page.load()
    await page.look_up({"email": target_email, "reason": "ticket 88"})
    facts = dict(map(tuple, page.person))
    assert facts["Linked channels"] == "telegram •••321"
    assert facts["Integrations"] == "github (connected)"
    assert facts["Plan"].startswith("Free")
    # Everything the page's state holds, the browser's part and the backend's.
    held = json.dumps(page.dict(), default=str) + repr(vars(page))
    for name, text in secrets.items():
        assert text not in held, name
    [row] = _audit()
    assert (row.action, row.subject_user_id, row.reason) == ("view", target, "ticket 88")


async def test_each_action_is_logged_and_the_person_sees_it(make_user, staff_member) -> None:
    target, target_email, _ = make_user()
    support_id, _, page = staff_member("support")
    await page.load()
    await page.suspend({"reason": "no one looked up"})
    assert page.error == "Look a person up first."
    await page.look_up({"email": target_email, "reason": "ticket 3"})
    await page.suspend({"reason": ""})
    assert "Give a reason" in page.error
    assert account_standing.is_active(target)
    await page.suspend({"reason": "ticket 3: spam"})
    assert page.person_standing == "suspended" and "Suspended" in page.message
    await page.unsuspend({"reason": "ticket 3: resolved"})
    assert page.person_standing == "active"
    await page.set_plan({"plan": "pro", "reason": "goodwill"})
    assert page.error == "Only an admin can do that."
    assert [(r.action, r.reason) for r in _audit()] == [
        ("view", "ticket 3"), ("suspend", "ticket 3: spam"), ("unsuspend", "ticket 3: resolved")]
    seen = audit.seen_by_staff(target)
    assert [x.who for x in seen] == [f"Support, staff #{support_id}"] * 3


async def test_an_admin_manages_plans_and_publishes_policy_versions(make_user, staff_member) -> None:
    _, target_email, _ = make_user()
    _, _, page = staff_member("admin")
    await page.load()
    assert "pro" in page.plan_options
    await page.look_up({"email": target_email, "reason": "ticket 4"})
    await page.set_plan({"plan": "pro", "reason": "ticket 4: comp for a bug"})
    assert dict(map(tuple, page.person))["Plan"].startswith("Pro")
    soon = (utcnow() + timedelta(days=3)).date().isoformat()
    form = {"version": "2027-01", "summary": "Shorter log retention.", "effective": soon, "body": "Text"}
    await page.publish(form)
    assert "14 days' notice" in page.policy_error
    assert page.versions == []
    await page.publish({**form, "minor": "on"})
    assert page.policy_error == ""
    assert page.policy_message.startswith("Published version 2027-01")
    assert page.versions[0][:3] == ["2027-01", soon, "minor"]
    with session_scope() as s:
        row = s.exec(select(PolicyVersion)).one()
        assert row.published_by_user_id == page._user_id


@pytest.mark.promise("P33")
async def test_support_deletes_a_childs_account_after_a_confirmation(make_user, staff_member) -> None:
    pytest.importorskip("vopix.core.privacy.purge")  # engineer B's deletion
    target, target_email, _ = make_user()
    _, _, page = staff_member("support")
    await page.load()
    await page.look_up({"email": target_email, "reason": "ticket 5"})
    await page.ask_delete()
    assert page.asking_delete
    await page.delete_child({"reason": "parent's report, ticket 5"})
    assert page.person == [] and f"Account #{target} was deleted" in page.message
    assert account_standing.standing_of(target) is None
    assert [r.action for r in _audit()] == ["delete_account"]


async def test_the_person_sees_every_look_on_their_privacy_page(make_user, staff_member) -> None:
    from vopix.state.privacy_access import AccessState

    target, target_email, _ = make_user()
    support_id, _, page = staff_member("support")
    token, _ = sessions.start_session(target)
    mine = state_of(AccessState, f"{sessions.COOKIE_NAME}={token}")
    await mine.load()
    assert mine.looks_loaded and mine.looks == []
    await page.load()
    await page.look_up({"email": target_email, "reason": "ticket 6: login trouble"})
    await mine.load()
    [look] = mine.looks
    assert look["who"] == f"Support, staff #{support_id}"
    assert (look["what"], look["reason"]) == ("Opened your account", "ticket 6: login trouble")
    assert look["when"].endswith("UTC")


async def test_admins_see_the_recent_audit_log_and_support_does_not(make_user, staff_member) -> None:
    target, target_email, _ = make_user()
    support_id, _, support_page = staff_member("support")
    await support_page.load()
    await support_page.look_up({"email": target_email, "reason": "ticket 7"})
    await support_page.load()
    assert support_page.activity == []
    _, _, admin_page = staff_member("admin")
    await admin_page.load()
    [row] = admin_page.activity
    assert row[1:5] == [f"support #{support_id}", "view", f"#{target}", "ticket 7"]


async def test_an_admin_edits_a_plan_in_the_console_and_a_bad_value_keeps_what_was_typed(
    make_user, staff_member
) -> None:
    from vopix.core import plans

    _, _, page = staff_member("admin")
    person, _, _ = make_user()
    await page.load()
    assert [r["id"] for r in page.plan_rows][:1] == ["free"]
    await page.edit_plan("free")
    assert page.plan_editing == "free" and page.plan_form["name"] == "Free"
    typed = {**page.plan_form, "messages_per_month": "12x", "reason": "ticket 9"}
    await page.save_plan(typed)
    assert page.plan_error == "Messages a month: give a whole number, 0 or more."
    assert page.plan_form["messages_per_month"] == "12x" and page.plan_editing == "free"
    assert plans.plan_for(person).messages_per_month != 12

    await page.save_plan({**typed, "messages_per_month": "12"})
    assert page.plan_error == "" and page.plan_editing == ""
    assert "Saved the Free plan (free)" in page.plan_message
    assert plans.plan_for(person).messages_per_month == 12
    assert any(r["id"] == "free" and r["messages"] == "12 messages" for r in page.plan_rows)
    assert page.activity[0][2] == "edit_plan" and page.activity[0][4] == "ticket 9"

    await page.new_plan()
    new = {**page.plan_form, "id": "team2", "name": "Team 2", "price": "0", "reason": "partner"}
    new.update({k: "5" for k in ("messages_per_month", "api_calls_per_month", "storage_mb",
                                 "run_seconds_per_month", "run_wall_seconds", "run_memory_mb",
                                 "run_processes", "run_disk_mb", "max_active_tasks")})
    await page.save_plan(new)
    assert page.plan_error == "" and "team2" in page.plan_options


async def test_support_cannot_open_or_save_a_plan_form(staff_member) -> None:
    from vopix.core import plans

    _, _, page = staff_member("support")
    await page.load()
    assert page.allowed and page.plan_rows == []
    await page.edit_plan("free")
    assert page.error == "Only an admin can do that." and page.plan_editing == ""
    page.plan_editing = "free"  # as if the browser sent the event anyway
    await page.save_plan({"name": "Free", "messages_per_month": "1", "reason": "x"})
    assert plans.get_plan("free").messages_per_month != 1  # type: ignore[union-attr]
    assert _audit() == []
