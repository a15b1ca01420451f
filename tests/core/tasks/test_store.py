"""Creating, changing, pausing, resuming and deleting tasks: the same validation for the tools
and the page, plan limits, and refusals that change nothing."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.core.tasks.conftest import T0
from vopix.core import plans
from vopix.core.agent.history import MAX_MESSAGE_CHARS
from vopix.core.tasks import store
from vopix.db import session_scope


def test_create_list_change_pause_resume_delete(person) -> None:
    user = person("Europe/Berlin")
    task = store.create(user, "reminder", "call Ana", {"repeat": "weekdays", "time": "09:00"}, now=T0)
    assert (task.kind, task.title, task.status, task.timezone) == ("reminder", "call Ana", "active", "Europe/Berlin")
    assert task.words == "Every weekday at 09:00"
    assert len(task.next_runs) == 3 and task.next_runs == sorted(task.next_runs)
    assert all(f"{t.astimezone(ZoneInfo('Europe/Berlin')):%H:%M}" == "09:00" for t in task.next_runs)

    changed = store.update_task(user, task.id, text="call Ana and Bea", spec={"repeat": "daily", "time": "10:30"},
                                now=T0)
    assert (changed.text, changed.words) == ("call Ana and Bea", "Every day at 10:30")
    paused = store.pause(user, task.id, now=T0)
    assert paused.status == "paused" and paused.next_run_at is None
    resumed = store.resume(user, task.id, now=T0 + timedelta(days=3))
    assert resumed.status == "active" and resumed.next_run_at > T0 + timedelta(days=3)
    assert [t.id for t in store.list_tasks(user, now=T0)] == [task.id]
    store.delete(user, task.id)
    assert store.list_tasks(user, now=T0) == []


def test_another_persons_task_is_not_there_for_anyone_else(person) -> None:
    owner, other = person(), person()
    task = store.create(owner, "reminder", "water the plants", {"in_minutes": 30}, now=T0)
    for act in (lambda: store.pause(other, task.id, now=T0), lambda: store.delete(other, task.id),
                lambda: store.update_task(other, task.id, text="mine now", now=T0),
                lambda: store.get(other, task.id)):
        with pytest.raises(store.TaskError, match="no task"):
            act()
    assert store.get(owner, task.id, now=T0).text == "water the plants"
    assert store.get(owner, task.id, now=T0).status == "active"


@pytest.mark.parametrize(("kind", "text", "spec", "zone", "says"), [
    ("reminder", "x", {"when": "2020-01-01 09:00"}, None, "in the past"),
    ("reminder", "x", {"when": "2030-01-01 09:00"}, "Atlantis/Capital", "not a time zone"),
    ("reminder", "x", {"repeat": "rrule", "rrule": "FREQ=MINUTELY"}, None, "every 5 minutes"),
    ("reminder", "x", {"repeat": "rrule", "rrule": "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31"}, None, "never runs"),
    ("agent", "y" * (MAX_MESSAGE_CHARS + 1), {"in_minutes": 5}, None, "the limit is"),
    ("reminder", "   ", {"in_minutes": 5}, None, "needs its text"),
    ("alarm", "x", {"in_minutes": 5}, None, "kind must be"),
])
def test_bad_input_gets_a_clear_answer_and_stores_nothing(person, kind, text, spec, zone, says) -> None:
    user = person()
    with pytest.raises(store.TaskError, match=says):
        store.create(user, kind, text, spec, timezone=zone, now=T0)
    assert store.list_tasks(user, now=T0) == []


def test_a_refused_change_leaves_the_task_as_it_was(person) -> None:
    user = person()
    task = store.create(user, "reminder", "stretch", {"repeat": "daily", "time": "11:00"}, now=T0)
    with pytest.raises(store.TaskError, match="every 5 minutes"):
        store.update_task(user, task.id, text="new text", spec={"repeat": "rrule", "rrule": "FREQ=MINUTELY"}, now=T0)
    after = store.get(user, task.id, now=T0)
    assert (after.text, after.rrule, after.next_run_at) == ("stretch", "FREQ=DAILY", task.next_run_at)


def test_active_tasks_are_limited_by_the_plan(person) -> None:
    user = person()
    for i in range(5):  # Free: 5
        store.create(user, "reminder", f"r{i}", {"in_minutes": 10 + i}, now=T0)
    with pytest.raises(store.TaskError, match="allows 5 active tasks"):
        store.create(user, "reminder", "one too many", {"in_minutes": 30}, now=T0)
    first = store.list_tasks(user, now=T0)[0]
    store.pause(user, first.id, now=T0)
    store.create(user, "reminder", "fits now", {"in_minutes": 30}, now=T0)  # a paused one leaves room
    with pytest.raises(store.TaskError, match="allows 5"):
        store.resume(user, first.id, now=T0)
    assert plans.get_plan("pro").max_active_tasks > 5
    with session_scope() as s:
        plans.set_effective(s, user, "pro", "active")
    store.resume(user, first.id, now=T0)
    assert sum(t.status == "active" for t in store.list_tasks(user, now=T0)) == 6


def test_delivery_settings_are_checked(person) -> None:
    user = person()
    assert store.delivery_settings(user) == store.DeliverySettings("web", "", "")
    assert store.save_delivery_settings(user, "telegram", "22:00", "7:00") == store.DeliverySettings(
        "telegram", "22:00", "07:00")
    for bad in (("pigeon", "", ""), ("web", "22:00", ""), ("web", "26:00", "07:00")):
        with pytest.raises(store.TaskError):
            store.save_delivery_settings(user, *bad)
    assert store.delivery_settings(user).channel == "telegram"
