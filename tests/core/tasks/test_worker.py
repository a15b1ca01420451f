"""Due occurrences run exactly once, on an injected clock: one-off and recurring reminders, late
and missed runs after downtime, quiet hours, the web fallback, a lease taken over after a worker
dies, two workers racing for one occurrence, and a suspended account."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.core.tasks.conftest import T0, run_at, runs_of, task_messages, task_row
from vopix.core import account_standing
from vopix.core.kinds import MailKind
from vopix.core.tasks import claim as claims
from vopix.core.tasks import store, worker
from vopix.db import session_scope
from vopix.models import MailOutbox, Notice

MIN = timedelta(minutes=1)


def test_a_one_off_reminder_arrives_once_in_its_own_conversation_marked_as_from_a_task(person) -> None:
    user = person()
    task = store.create(user, "reminder", "call Ana", {"in_minutes": 10}, now=T0)
    assert run_at(T0 + 9 * MIN) == 0  # not yet
    assert run_at(T0 + 10 * MIN) == 1
    [msg] = task_messages(user)
    assert (msg.role, msg.content, msg.channel) == ("assistant", "\u23f0 Reminder: call Ana", "task")
    [run] = runs_of(task.id)
    assert (run.outcome, run.channel, run.message_id) == ("delivered", "web", msg.id)
    row = task_row(task.id)
    assert (row.status, row.next_run_at, row.conversation_id) == ("finished", None, msg.conversation_id)
    assert run_at(T0 + 11 * MIN) == 0 and len(task_messages(user)) == 1


def test_a_recurring_reminder_moves_to_its_next_occurrence_in_the_same_conversation(person) -> None:
    user = person("America/New_York")
    task = store.create(user, "reminder", "stand up", {"repeat": "daily", "time": "08:00"}, now=T0)
    first, second = task.next_runs[:2]
    assert run_at(first) == 1
    assert task_row(task.id).next_run_at == second
    assert run_at(second) == 1
    messages = task_messages(user)
    assert len(messages) == 2 and messages[0].conversation_id == messages[1].conversation_id
    assert [r.occurrence_at for r in runs_of(task.id)] == [first, second]


def test_after_downtime_a_run_inside_the_grace_period_runs_late_with_a_note(person) -> None:
    user = person()
    task = store.create(user, "reminder", "take the pills", {"repeat": "daily", "time": "09:00"}, now=T0)
    due = task.next_runs[0]
    assert run_at(due + 12 * MIN) == 1
    [msg] = task_messages(user)
    assert msg.content.startswith("\u23f0 Reminder: take the pills") and "Late by 12 min" in msg.content
    [run] = runs_of(task.id)
    assert (run.outcome, run.late_seconds) == ("delivered", 12 * 60)


def test_after_longer_downtime_the_run_is_recorded_as_missed_and_the_next_counted_from_now(person) -> None:
    user = person()
    task = store.create(user, "reminder", "walk", {"repeat": "rrule", "rrule": "FREQ=HOURLY"}, now=T0)
    due = task.next_runs[0]
    back = due + timedelta(hours=3, minutes=20)  # three occurrences passed while VOPIX was down
    assert run_at(back) == 1
    assert task_messages(user) == []  # nothing delivered
    runs = runs_of(task.id)
    assert [r.outcome for r in runs] == ["missed"] * 4
    assert all("not run" in r.detail for r in runs)
    assert task_row(task.id).next_run_at == due + timedelta(hours=4)  # the next one after now


def test_quiet_hours_hold_a_reminder_until_they_end_unless_the_task_ignores_them(person) -> None:
    user = person("Europe/Berlin")
    store.save_delivery_settings(user, "web", "22:00", "07:00")
    night = store.create(user, "reminder", "night owl", {"in_minutes": 60 * 12}, now=T0)
    loud = store.create(user, "reminder", "wake up", {"in_minutes": 60 * 12}, ignore_quiet_hours=True, now=T0)
    due = night.next_runs[0]
    local = due.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    quiet = store.DeliverySettings("web", f"{local:%H:%M}", f"{(local + timedelta(hours=2)):%H:%M}")
    store.save_delivery_settings(user, *quiet.__dict__.values())
    assert run_at(due) == 2
    assert [m.content for m in task_messages(user)] == ["\u23f0 Reminder: wake up"]
    assert task_row(night.id).next_run_at == due + timedelta(hours=2)
    assert task_row(night.id).occurrence_at == due  # still the same occurrence
    assert run_at(due + timedelta(hours=2)) == 1
    assert [m.content for m in task_messages(user)][-1] == "\u23f0 Reminder: night owl"
    assert task_row(loud.id).status == "finished"


def test_an_unlinked_channel_falls_back_to_the_web_chat_with_a_notice_and_a_mail(person) -> None:
    user = person()
    store.save_delivery_settings(user, "telegram", "", "")
    task = store.create(user, "reminder", "pay rent", {"in_minutes": 5}, now=T0)
    store.create(user, "reminder", "pay rent again", {"in_minutes": 5}, now=T0)
    assert run_at(T0 + 5 * MIN) == 2
    assert len(task_messages(user)) == 2  # both in the web history
    [run] = runs_of(task.id)
    assert (run.outcome, run.channel) == ("fallback", "web")
    assert "Telegram is not" in run.detail
    with session_scope() as s:
        notices = s.exec(select(Notice).where(Notice.user_id == user)).all()
        mails = s.exec(select(MailOutbox).where(MailOutbox.user_id == user, MailOutbox.kind == MailKind.TASK)).all()
    assert len(notices) == 1 and "could not be delivered on Telegram" in notices[0].text  # once a day
    assert len(mails) == 1 and "waiting in the web chat" in mails[0].subject


def test_a_worker_that_dies_leaves_the_occurrence_to_another_after_the_lease(person) -> None:
    user = person()
    task = store.create(user, "reminder", "feed the cat", {"in_minutes": 5}, now=T0)
    due_at = T0 + 5 * MIN
    [taken] = claims.claim("dead-worker", due_at)  # claimed, then the process dies
    assert taken.task_id == task.id
    assert claims.claim("w2", due_at + timedelta(seconds=30)) == []  # its lease still holds
    assert run_at(due_at + claims.LEASE - timedelta(seconds=1), "w2") == 0
    assert run_at(due_at + claims.LEASE + timedelta(seconds=1), "w2") == 1
    [msg] = task_messages(user)
    assert msg.content.startswith("\u23f0 Reminder: feed the cat\n\n(Late by 1 min")
    assert [r.outcome for r in runs_of(task.id)] == ["delivered"]


def test_two_workers_racing_for_one_occurrence_deliver_it_once(person) -> None:
    user = person()
    task = store.create(user, "reminder", "one and only", {"in_minutes": 5}, now=T0)
    due_at = T0 + 5 * MIN
    [due] = claims.claim("w1", due_at)

    async def race():
        return await asyncio.gather(worker.process(due, "w1", lambda: due_at),
                                    worker.process(due, "w2", lambda: due_at))

    results = asyncio.run(race())
    assert sorted(r.outcome for r in results) == ["delivered", "lost"]
    assert len(task_messages(user)) == 1
    assert [r.outcome for r in runs_of(task.id)] == ["delivered"]
    assert task_row(task.id).status == "finished"


def test_a_suspended_account_s_task_never_runs(person) -> None:
    user = person()
    task = store.create(user, "reminder", "should not arrive", {"repeat": "daily", "time": "10:00"}, now=T0)
    account_standing.suspend(user, "abuse report under review")
    first = task.next_runs[0]
    assert run_at(first) == 1
    assert task_messages(user) == []
    [run] = runs_of(task.id)
    assert run.outcome == "refused" and "suspended" in run.detail
    assert task_row(task.id).next_run_at == task.next_runs[1]


def test_a_batch_of_reminders_is_stored_together_and_one_failure_sends_each_its_own_way(
    person, monkeypatch
) -> None:
    """A claimed batch's fresh reminders go in one transaction; when one of them fails there
    (a conversation gone a moment ago, say), none of the batch is kept and each occurrence runs
    on its own: every reminder still arrives exactly once."""
    from vopix.core.agent import history

    user = person()
    tasks = [store.create(user, "reminder", f"drink water {i}", {"in_minutes": 10}, now=T0) for i in range(3)]
    assert run_at(T0 + 10 * MIN) == 3
    assert sorted(m.content for m in task_messages(user)) == [f"\u23f0 Reminder: drink water {i}" for i in range(3)]
    assert [len(runs_of(t.id)) for t in tasks] == [1, 1, 1]

    later = [store.create(user, "reminder", f"stretch {i}", {"in_minutes": 20}, now=T0) for i in range(3)]
    real, calls = history.insert_message, []

    def flaky(*args, **kwargs):  # the batch's second message fails once
        calls.append(1)
        if len(calls) == 2:
            raise history.NotFound("conversation not found")
        return real(*args, **kwargs)

    monkeypatch.setattr(history, "insert_message", flaky)
    assert run_at(T0 + 20 * MIN) == 3
    stretched = [m.content for m in task_messages(user) if "stretch" in m.content]
    assert sorted(stretched) == [f"\u23f0 Reminder: stretch {i}" for i in range(3)]
    assert [[r.outcome for r in runs_of(t.id)] for t in later] == [["delivered"]] * 3
    assert len(calls) == 5  # two in the batch (rolled back), then three one by one


def test_the_grace_period_is_a_setting_with_bounds(settings_env, monkeypatch) -> None:
    from vopix.core.tasks import runs
    from vopix.settings import load_settings

    settings_env(VOPIX_TASK_GRACE_MINUTES="40")
    assert runs.grace().total_seconds() == 40 * 60
    monkeypatch.setenv("VOPIX_TASK_GRACE_MINUTES", "-1")  # refused at start-up, with its bounds
    with pytest.raises(ValueError, match="VOPIX_TASK_GRACE_MINUTES must be between 0 and 1440"):
        load_settings()
