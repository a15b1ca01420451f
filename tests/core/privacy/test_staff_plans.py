"""Admins manage plans in the staff console (issue 12): a change applies at once to everyone on
the plan, is audit-logged with what changed, and bad input changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from vopix.core import plans
from vopix.core.privacy import staff, staff_plans
from vopix.core.privacy.staff import NotStaff, StaffError
from vopix.db import session_scope
from vopix.models import Plan, StaffAudit

pytestmark = pytest.mark.promise("P17")


@pytest.fixture
def admin(make_user) -> int:
    user_id, email, _ = make_user()
    staff.grant(email, "admin", by="operator@host")
    return user_id


def _form(plan_id: str, **changes: str) -> dict[str, str]:
    values = staff_plans.form_values(plans.get_plan(plan_id))
    values.update(changes)
    return values


def _audit() -> list[StaffAudit]:
    with session_scope() as s:
        return list(s.exec(select(StaffAudit).order_by(StaffAudit.id)).all())


def test_an_admin_raises_a_plans_limits_for_everyone_on_it_at_once(admin, make_user) -> None:
    person, _, _ = make_user()
    assert plans.plan_for(person).plan_id == "free"
    form = _form("free", messages_per_month="321", storage_mb="7", run_wall_seconds="45",
                 max_active_tasks="9")
    staff_plans.save(admin, "free", form, "ticket 12: more room on Free")

    limits = plans.plan_for(person)
    assert (limits.messages_per_month, limits.storage_bytes, limits.run_wall_seconds) == (321, 7 * 2**20, 45)
    assert plans.get_plan("free").max_active_tasks == 9  # type: ignore[union-attr]
    row = _audit()[-1]
    assert (row.action, row.staff_user_id, row.subject_user_id, row.reason) == (
        "edit_plan", admin, None, "ticket 12: more room on Free")
    assert "messages_per_month " in row.detail and "->321" in row.detail and "max_active_tasks 5->9" in row.detail
    assert "name" not in row.detail  # only what changed


def test_an_admin_creates_a_plan(admin) -> None:
    form = _form("gold", name="Gold", price="0", messages_per_month="100", api_calls_per_month="500",
                 storage_mb="10", run_seconds_per_month="60", run_wall_seconds="10", run_memory_mb="128",
                 run_processes="8", run_disk_mb="64", max_active_tasks="3")
    plan = staff_plans.save(admin, "Gold ", form, "a partner plan")
    assert (plan.id, plan.name, plan.api_calls_per_month) == ("gold", "Gold", 500)
    assert _audit()[-1].detail == "plan gold: created"
    assert staff_plans.form_values(plan)["storage_mb"] == "10"


@pytest.mark.parametrize(("changes", "message"), [
    ({"messages_per_month": "-5"}, "Messages a month: give a whole number, 0 or more."),
    ({"messages_per_month": "lots"}, "Messages a month: give a whole number, 0 or more."),
    ({"price": "12.345"}, "Price per month (EUR): give an amount such as 12.00"),
    ({"price": "twelve"}, "Price per month (EUR): give an amount such as 12.00."),
    ({"run_memory_mb": "0"}, "Memory per script run (MB): at least 1."),
    ({"name": "  "}, "Give the plan a name."),
    ({"stripe_price_id": "prod_123"}, "A Stripe price id looks like price_"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(admin, changes, message) -> None:
    before = plans.get_plan("free")
    with pytest.raises(StaffError, match=re.escape(message)):
        staff_plans.save(admin, "free", _form("free", **changes), "a reason")
    assert plans.get_plan("free") == before
    assert [r.action for r in _audit()] == []


def test_a_bad_plan_id_or_a_missing_reason_is_refused(admin) -> None:
    with pytest.raises(StaffError, match="A plan id is 2 to 32 lowercase letters"):
        staff_plans.save(admin, "../etc", _form("free"), "a reason")
    with pytest.raises(ValueError, match="Give a reason"):
        staff_plans.save(admin, "free", _form("free", messages_per_month="1"), "  ")
    assert plans.get_plan("free").messages_per_month != 1  # type: ignore[union-attr]


def test_support_and_people_without_a_role_cannot_edit_plans(make_user) -> None:
    support_id, email, _ = make_user()
    staff.grant(email, "support", by="operator@host")
    nobody, _, _ = make_user()
    for who in (support_id, nobody):
        with pytest.raises(NotStaff):
            staff_plans.save(who, "free", _form("free", messages_per_month="1"), "a reason")
    assert plans.get_plan("free").messages_per_month != 1  # type: ignore[union-attr]


def test_a_price_must_be_what_stripe_charges(admin, stripe_fake) -> None:
    # VOPIX_STRIPE_PRICES maps pro to price_pro, which Stripe charges 12.00 a month.
    with pytest.raises(StaffError, match=re.escape("Stripe charges 12.00 a month for price_pro, not 15.00")):
        staff_plans.save(admin, "pro", _form("pro", price="15.00"), "price rise")
    assert plans.get_plan("pro").price_cents != 1500  # type: ignore[union-attr]
    plan = staff_plans.save(admin, "pro", _form("pro", price="12.00", messages_per_month="7777"), "match")
    assert (plan.price_cents, plan.messages_per_month) == (1200, 7777)
    with pytest.raises(StaffError, match="Stripe has no recurring monthly price price_nothere"):
        staff_plans.save(admin, "gold", _form("gold", name="Gold", price="5.00", stripe_price_id="price_nothere",
                                              **{k: "1" for k in ("messages_per_month", "api_calls_per_month",
                                                                  "storage_mb", "run_seconds_per_month",
                                                                  "run_wall_seconds", "run_memory_mb",
                                                                  "run_processes", "run_disk_mb",
                                                                  "max_active_tasks")}),
                          "new plan")
    with session_scope() as s:
        assert s.get(Plan, "gold") is None
