"""A person's tasks: create, list, change, pause, resume and delete, with the one validation the
agent's tools and the Tasks page share. Every refusal is a TaskError whose message is for the
person, raised before anything is written: a refused call changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from vopix.core import live
from vopix.core.agent.history import MAX_MESSAGE_CHARS
from vopix.core.clock import utcnow
from vopix.core.tasks import schedule as sch
from vopix.db import session_scope
from vopix.models import AgentProfile, Plan, Task, TaskRun, TaskSettings, User

KINDS = ("reminder", "agent")
CHANNELS = ("web", "telegram", "whatsapp")
ACTIVE, PAUSED, FINISHED = "active", "paused", "finished"
TITLE_MAX = 120
FREE_ACTIVE_TASKS = 5


class TaskError(ValueError):
    """A refusal for the person (the tools hand it to the model, the page shows it)."""


@dataclass(frozen=True)
class RunView:
    id: int
    occurrence_at: datetime
    finished_at: datetime | None
    outcome: str
    channel: str
    detail: str
    message_id: int | None
    conversation_id: int | None


@dataclass(frozen=True)
class TaskView:
    id: int
    kind: str
    title: str
    text: str
    timezone: str
    start_local: str
    rrule: str
    status: str
    ignore_quiet_hours: bool
    next_run_at: datetime | None
    conversation_id: int | None
    words: str
    next_runs: list[datetime]

    @property
    def schedule(self) -> sch.Schedule:
        return sch.Schedule(self.start_local, self.rrule, self.timezone)


@dataclass(frozen=True)
class DeliverySettings:
    channel: str
    quiet_start: str
    quiet_end: str


def _view(t: Task, now: datetime) -> TaskView:
    schedule = sch.Schedule(t.start_local, t.rrule, t.timezone)
    runs: list[datetime] = []
    if t.status == ACTIVE and t.next_run_at is not None:
        runs = [t.next_run_at, *sch.upcoming(schedule, max(t.occurrence_at or now, t.next_run_at), 2)]
    elif t.status == PAUSED:
        runs = sch.upcoming(schedule, now, 3)
    return TaskView(
        t.id or 0, t.kind, t.title, t.text, t.timezone, t.start_local, t.rrule, t.status,
        t.ignore_quiet_hours, t.next_run_at if t.status == ACTIVE else None, t.conversation_id,
        sch.describe(schedule), runs[:3],
    )


def _own(s: Session, user_id: int, task_id: Any) -> Task:
    try:
        key = int(task_id)
    except (TypeError, ValueError):
        raise TaskError(f"there is no task {task_id!r}.") from None
    task = s.get(Task, key)
    if task is None or task.user_id != user_id:  # another person's task reads as none at all
        raise TaskError(f"there is no task {key} among yours.")
    return task


def person_timezone(user_id: int) -> str:
    with session_scope() as s:
        profile = s.get(AgentProfile, user_id)
        return (profile.timezone if profile else "") or "UTC"


def active_limit(s: Session, user_id: int) -> int:
    limit = s.exec(
        select(Plan.max_active_tasks).join(User, col(User.plan_id) == col(Plan.id)).where(User.id == user_id)
    ).first()
    return int(limit if limit is not None else FREE_ACTIVE_TASKS)


def _check_room(s: Session, user_id: int, except_id: int | None = None) -> None:
    # The person's row is locked (PostgreSQL) so two creates at once cannot both take the last place.
    s.exec(select(User.id).where(User.id == user_id).with_for_update()).first()
    q = select(func.count()).select_from(Task).where(Task.user_id == user_id, Task.status == ACTIVE)
    if except_id is not None:
        q = q.where(Task.id != except_id)
    used, limit = int(s.exec(q).one()), active_limit(s, user_id)
    if used >= limit:
        raise TaskError(
            f"your plan allows {limit} active tasks and {used} are active. Pause or delete one, or "
            "upgrade on the Billing page."
        )


def _checked_text(kind: str, text: str) -> str:
    if kind not in KINDS:
        raise TaskError(f"kind must be reminder or agent, not {kind!r}.")
    value = (text or "").strip()
    if not value:
        raise TaskError(
            "a reminder needs its text." if kind == "reminder" else "an agent task needs its prompt."
        )
    if len(value) > MAX_MESSAGE_CHARS:
        what = "text" if kind == "reminder" else "prompt"
        raise TaskError(f"the {what} is {len(value):,} characters; the limit is {MAX_MESSAGE_CHARS:,}.")
    return value


def _title(title: str | None, text: str) -> str:
    given = " ".join((title or "").split())
    if given:
        return given[:TITLE_MAX]
    words = " ".join(text.split())
    return words if len(words) <= 60 else words[:59].rstrip() + "…"


def _schedule(spec: dict[str, Any], timezone: str, now: datetime) -> tuple[sch.Schedule, datetime]:
    try:
        schedule = sch.build(spec, timezone, now)
        return schedule, sch.check(schedule, now)
    except sch.ScheduleError as exc:
        raise TaskError(str(exc)) from None


def preview(user_id: int, spec: dict[str, Any], timezone: str | None = None,
            now: datetime | None = None, count: int = 3) -> tuple[str, list[datetime]]:
    """What a schedule would be, in words, and its next runs (nothing is stored)."""
    moment = now or utcnow()
    zone = timezone or person_timezone(user_id)
    schedule, first = _schedule(spec, zone, moment)
    return sch.describe(schedule), [first, *sch.upcoming(schedule, first, count - 1)]


def create(
    user_id: int,
    kind: str,
    text: str,
    spec: dict[str, Any],
    *,
    title: str | None = None,
    timezone: str | None = None,
    ignore_quiet_hours: bool = False,
    now: datetime | None = None,
) -> TaskView:
    moment = now or utcnow()
    value = _checked_text(kind, text)
    zone = timezone or person_timezone(user_id)
    schedule, first = _schedule(spec, zone, moment)
    with session_scope() as s:
        _check_room(s, user_id)
        task = Task(
            user_id=user_id, kind=kind, title=_title(title, value), text=value,
            timezone=schedule.timezone, start_local=schedule.start_local, rrule=schedule.rrule,
            ignore_quiet_hours=bool(ignore_quiet_hours), status=ACTIVE, next_run_at=first,
            occurrence_at=first, created_at=moment, updated_at=moment,
        )
        s.add(task)
        live.changed(s, user_id, live.TASKS)  # an open Tasks page shows it (a tool made it, say)
        s.flush()
        return _view(task, moment)


def update_task(
    user_id: int,
    task_id: Any,
    *,
    text: str | None = None,
    spec: dict[str, Any] | None = None,
    title: str | None = None,
    timezone: str | None = None,
    ignore_quiet_hours: bool | None = None,
    now: datetime | None = None,
) -> TaskView:
    """Change a task; a new schedule (or zone) starts from now. A worker holding the old
    occurrence loses it: its lease is cleared, and its finish no longer matches."""
    moment = now or utcnow()
    with session_scope() as s:
        task = _own(s, user_id, task_id)
        if text is not None:
            task.text = _checked_text(task.kind, text)
        if title is not None:
            task.title = _title(title, task.text)
        if spec is not None or timezone is not None:
            if spec is None:
                current = sch.Schedule(task.start_local, task.rrule, timezone or task.timezone)
                try:
                    sch.zone(current.timezone)
                    first = sch.check(current, moment)
                except sch.ScheduleError as exc:
                    raise TaskError(str(exc)) from None
                schedule = current
            else:
                schedule, first = _schedule(spec, timezone or task.timezone, moment)
            task.start_local, task.rrule = schedule.start_local, schedule.rrule
            task.timezone = schedule.timezone
            if task.status == FINISHED:
                _check_room(s, user_id, task.id)
                task.status = ACTIVE
            task.next_run_at = task.occurrence_at = first
            task.lease_until, task.worker = None, ""
        if ignore_quiet_hours is not None:
            task.ignore_quiet_hours = bool(ignore_quiet_hours)
        task.updated_at = moment
        s.add(task)
        live.changed(s, user_id, live.TASKS)  # an open Tasks page shows it (a tool made it, say)
        s.flush()
        return _view(task, moment)


def pause(user_id: int, task_id: Any, now: datetime | None = None) -> TaskView:
    moment = now or utcnow()
    with session_scope() as s:
        task = _own(s, user_id, task_id)
        if task.status != ACTIVE:
            raise TaskError(f"task {task.id} is {task.status}, not active.")
        task.status, task.lease_until, task.worker, task.updated_at = PAUSED, None, "", moment
        s.add(task)
        live.changed(s, user_id, live.TASKS)  # an open Tasks page shows it (a tool made it, say)
        s.flush()
        return _view(task, moment)


def resume(user_id: int, task_id: Any, now: datetime | None = None) -> TaskView:
    """Back to active, with the next run counted from now (runs while paused are skipped)."""
    moment = now or utcnow()
    with session_scope() as s:
        task = _own(s, user_id, task_id)
        if task.status != PAUSED:
            raise TaskError(f"task {task.id} is {task.status}, not paused.")
        nxt = sch.next_after(sch.Schedule(task.start_local, task.rrule, task.timezone), moment)
        if nxt is None:
            raise TaskError(
                f"task {task.id} has no run left after now; give it a new time to use it again."
            )
        _check_room(s, user_id, task.id)
        task.status, task.next_run_at, task.occurrence_at, task.updated_at = ACTIVE, nxt, nxt, moment
        s.add(task)
        live.changed(s, user_id, live.TASKS)  # an open Tasks page shows it (a tool made it, say)
        s.flush()
        return _view(task, moment)


def delete(user_id: int, task_id: Any) -> None:
    """The task and its runs go; the messages it delivered stay in its conversation."""
    with session_scope() as s:
        s.delete(_own(s, user_id, task_id))
        live.changed(s, user_id, live.TASKS)


def get(user_id: int, task_id: Any, now: datetime | None = None) -> TaskView:
    with session_scope() as s:
        return _view(_own(s, user_id, task_id), now or utcnow())


def list_tasks(user_id: int, now: datetime | None = None) -> list[TaskView]:
    moment = now or utcnow()
    with session_scope() as s:
        rows = s.exec(
            select(Task).where(Task.user_id == user_id).order_by(col(Task.created_at), col(Task.id))
        ).all()
        return [_view(t, moment) for t in rows]


def recent_runs(user_id: int, task_ids: list[int], per_task: int = 5) -> dict[int, list[RunView]]:
    """The last runs of each task, newest first."""
    out: dict[int, list[RunView]] = {t: [] for t in task_ids}
    if not task_ids:
        return out
    with session_scope() as s:
        rows = s.exec(
            select(TaskRun, Task.conversation_id)
            .join(Task, col(Task.id) == col(TaskRun.task_id))
            .where(TaskRun.user_id == user_id, col(TaskRun.task_id).in_(task_ids))
            .order_by(col(TaskRun.occurrence_at).desc(), col(TaskRun.id).desc())
            .limit(per_task * len(task_ids) * 4)
        ).all()
        for run, conversation_id in rows:
            bucket = out[run.task_id]
            if len(bucket) < per_task:
                bucket.append(RunView(
                    run.id or 0, run.occurrence_at, run.finished_at, run.outcome or run.stage,
                    run.channel, run.detail, run.message_id, conversation_id,
                ))
    return out


# -- delivery settings ----------------------------------------------------------------------
def delivery_settings(user_id: int) -> DeliverySettings:
    with session_scope() as s:
        row = s.get(TaskSettings, user_id)
        if row is None:
            return DeliverySettings("web", "", "")
        return DeliverySettings(row.channel, row.quiet_start, row.quiet_end)


def save_delivery_settings(user_id: int, channel: str, quiet_start: str, quiet_end: str) -> DeliverySettings:
    value = (channel or "web").strip().lower()
    if value not in CHANNELS:
        raise TaskError(f"the channel must be one of {', '.join(CHANNELS)}.")
    times = []
    for label, raw in (("start", quiet_start), ("end", quiet_end)):
        text = (raw or "").strip()
        if text:
            try:
                hour, minute = sch.parse_time(text)
            except sch.ScheduleError as exc:
                raise TaskError(f"quiet hours {label}: {exc}") from None
            text = f"{hour:02d}:{minute:02d}"
        times.append(text)
    if bool(times[0]) != bool(times[1]):
        raise TaskError("give both ends of the quiet hours, or neither.")
    with session_scope() as s:
        row = s.get(TaskSettings, user_id) or TaskSettings(user_id=user_id)
        row.channel, row.quiet_start, row.quiet_end, row.updated_at = value, times[0], times[1], utcnow()
        s.add(row)
        live.changed(s, user_id, live.TASKS)
    return DeliverySettings(value, times[0], times[1])


def clear_leases(user_id: int) -> int:
    """Operators and tests: release every lease of a person's tasks."""
    with session_scope() as s:
        n = s.exec(  # type: ignore[call-overload]
            update(Task).where(col(Task.user_id) == user_id).values(lease_until=None, worker="")
        ).rowcount
        return int(n or 0)
