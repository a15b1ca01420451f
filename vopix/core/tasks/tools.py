"""The agent's tools for reminders and scheduled tasks, in any channel. They call the same store
functions as the Tasks page, so every refusal (bad zone, past time, a rule that never fires or
fires too often, a prompt over the limit, someone else's task) reads the same and changes
nothing. Times go in and come out in the person's local time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from vopix.core.agent.tools import Tool, ToolContext, ToolFailed, register_tool
from vopix.core.clock import local_time
from vopix.core.tasks import store

_SCHEDULE_PROPS: dict[str, Any] = {
    "repeat": {"type": "string", "enum": ["once", "daily", "weekdays", "weekly", "monthly", "rrule"],
               "description": "How it repeats (default once)."},
    "when": {"type": "string", "description": "For a one-off (or a recurring task's first run): local "
             "date and time, YYYY-MM-DD HH:MM, in the person's time zone."},
    "in_minutes": {"type": "integer", "description": "For a one-off: minutes from now (e.g. 20)."},
    "time": {"type": "string", "description": "For daily, weekdays, weekly, monthly: local time HH:MM."},
    "days": {"type": "array", "items": {"type": "string"},
             "description": "For weekly: days, e.g. [\"MO\", \"TH\"]."},
    "day_of_month": {"type": "integer", "description": "For monthly: 1-31 (months without it are skipped)."},
    "rrule": {"type": "string", "description": "For repeat=rrule: an RFC 5545 RRULE such as "
              "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO (at most every 5 minutes)."},
    "timezone": {"type": "string", "description": "IANA zone; default the person's own."},
}
_SCHEDULE_KEYS = ("repeat", "when", "in_minutes", "time", "days", "day_of_month", "rrule")


def _spec(args: dict[str, Any]) -> dict[str, Any]:
    return {k: args[k] for k in _SCHEDULE_KEYS if args.get(k) not in (None, "")}


def _guard(fn: Callable[[ToolContext, dict[str, Any]], str]) -> Callable[[ToolContext, dict[str, Any]], str]:
    def run(ctx: ToolContext, args: dict[str, Any]) -> str:
        try:
            return fn(ctx, args)
        except store.TaskError as exc:
            raise ToolFailed(f"{exc} Nothing was changed.") from None

    run.__name__ = fn.__name__
    return run


def _times(runs: list[datetime], zone: str) -> str:
    return "; ".join(local_time(t, zone) for t in runs) or "none"


def _line(t: store.TaskView) -> str:
    kind = "Reminder" if t.kind == "reminder" else "Agent task"
    quiet = ", ignores quiet hours" if t.ignore_quiet_hours else ""
    return (f"#{t.id} [{t.status}] {kind} \u201c{t.title}\u201d \u2014 {t.words} ({t.timezone}){quiet}. "
            f"Next runs: {_times(t.next_runs, t.timezone)}")


def preview_task_schedule(ctx: ToolContext, args: dict[str, Any]) -> str:
    zone = args.get("timezone") or store.person_timezone(ctx.user_id)
    words, runs = store.preview(ctx.user_id, _spec(args), zone)
    return f"{words} ({zone}). Next runs: {_times(runs, zone)}. Nothing is stored yet."


def create_task(ctx: ToolContext, args: dict[str, Any]) -> str:
    task = store.create(
        ctx.user_id, str(args.get("kind") or "reminder"), str(args.get("text") or ""), _spec(args),
        title=args.get("title") or None, timezone=args.get("timezone") or None,
        ignore_quiet_hours=bool(args.get("ignore_quiet_hours")),
    )
    return f"Created. {_line(task)}. Tell the person these run times."


def list_tasks(ctx: ToolContext, args: dict[str, Any]) -> str:
    tasks = store.list_tasks(ctx.user_id)
    return "\n".join(_line(t) for t in tasks) if tasks else "The person has no tasks."


def update_task(ctx: ToolContext, args: dict[str, Any]) -> str:
    spec = _spec(args)
    task = store.update_task(
        ctx.user_id, args.get("task_id"), text=args.get("text"), spec=spec or None,
        title=args.get("title"), timezone=args.get("timezone") or None,
        ignore_quiet_hours=args.get("ignore_quiet_hours"),
    )
    return f"Changed. {_line(task)}"


def pause_task(ctx: ToolContext, args: dict[str, Any]) -> str:
    return f"Paused. {_line(store.pause(ctx.user_id, args.get('task_id')))}"


def resume_task(ctx: ToolContext, args: dict[str, Any]) -> str:
    return f"Resumed. {_line(store.resume(ctx.user_id, args.get('task_id')))}"


def delete_task(ctx: ToolContext, args: dict[str, Any]) -> str:
    task = store.get(ctx.user_id, args.get("task_id"))
    store.delete(ctx.user_id, task.id)
    return f"Deleted task #{task.id} \u201c{task.title}\u201d; it will not run again."


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


_ID = {"task_id": {"type": "integer", "description": "The task's number (see list_tasks)."}}
_TASK_PROPS: dict[str, Any] = {
    "kind": {"type": "string", "enum": ["reminder", "agent"],
             "description": "reminder: the text is delivered as it is; agent: the text is a prompt "
             "you will run at the time (with the person's tools), your answer delivered."},
    "text": {"type": "string", "description": "The reminder's text, or the agent task's prompt."},
    "title": {"type": "string", "description": "A short name (default: the start of the text)."},
    "ignore_quiet_hours": {"type": "boolean", "description": "Deliver even inside the person's quiet hours."},
    **_SCHEDULE_PROPS,
}

TOOLS = [
    Tool("preview_task_schedule", "Work out a schedule's next run times without storing anything; "
         "use it to tell the person when a task would run before you create it.",
         _obj(_SCHEDULE_PROPS, []), _guard(preview_task_schedule),
         describe=lambda a: "Work out when a task would run"),
    Tool("create_task", "Create a reminder or a scheduled agent task (one-off or recurring), in the "
         "person's time zone. State the next run times back to the person.",
         _obj(_TASK_PROPS, ["kind", "text"]), _guard(create_task),
         describe=lambda a: f"Schedule \u201c{str(a.get('title') or a.get('text') or '')[:60]}\u201d"),
    Tool("list_tasks", "List the person's reminders and scheduled tasks with their next runs.",
         _obj({}, []), _guard(list_tasks), describe=lambda a: "List your tasks"),
    Tool("update_task", "Change a task: its text, title, schedule (give the schedule fields anew), "
         "time zone or quiet-hours choice.", _obj({**_ID, **_TASK_PROPS}, ["task_id"]),
         _guard(update_task), describe=lambda a: f"Change task #{a.get('task_id')}"),
    Tool("pause_task", "Pause a task (it does not run until resumed).", _obj(_ID, ["task_id"]),
         _guard(pause_task), describe=lambda a: f"Pause task #{a.get('task_id')}"),
    Tool("resume_task", "Resume a paused task; its next run is counted from now.", _obj(_ID, ["task_id"]),
         _guard(resume_task), describe=lambda a: f"Resume task #{a.get('task_id')}"),
    Tool("delete_task", "Cancel a task for good (its past messages stay in the history).",
         _obj(_ID, ["task_id"]), _guard(delete_task), describe=lambda a: f"Cancel task #{a.get('task_id')}"),
]  # fmt: skip


def register() -> None:
    for tool in TOOLS:
        register_tool(tool)
