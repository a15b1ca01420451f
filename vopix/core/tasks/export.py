"""tasks.json in the person's data export (P28, P30): every task as stored (rule, zone, text or
prompt), its runs, and the delivery settings. Registered by vopix.core.tasks.install."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from vopix.db import session_scope
from vopix.models import Task, TaskRun, TaskSettings


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def write_tasks(w: Any) -> None:
    from vopix.core.privacy.export_parts import keyset

    t, r = Task, TaskRun
    tasks = keyset(
        select(t.id, t.kind, t.title, t.text, t.timezone, t.start_local, t.rrule, t.ignore_quiet_hours,
               t.status, t.next_run_at, t.conversation_id, t.created_at, t.updated_at)
        .where(col(t.user_id) == w.user_id),
        col(t.id),
    )
    runs = keyset(
        select(r.id, r.task_id, r.occurrence_at, r.outcome, r.channel, r.detail, r.late_seconds, r.message_id,
               r.started_at, r.finished_at).where(col(r.user_id) == w.user_id),
        col(r.id),
    )
    with session_scope() as s:
        prefs = s.get(TaskSettings, w.user_id)
        row = prefs or TaskSettings(user_id=w.user_id, channel="web")
        settings = {"channel": row.channel, "quiet_start": row.quiet_start, "quiet_end": row.quiet_end}
    w.write_json("tasks.json", {
        "about": "Your reminders and scheduled agent tasks: each rule (RFC 5545 RRULE, empty for a "
                 "one-off) with its local start time and time zone, every run and its outcome, and "
                 "where tasks deliver.",
        "delivery": settings,
        "tasks": map(_row, tasks),
        "runs": map(_row, runs),
    })  # fmt: skip


def register() -> None:
    try:
        from vopix.core.privacy.export_parts import register_export_part
    except ImportError:  # an install without the export feature
        return
    register_export_part("tasks.json", write_tasks, "your reminders and scheduled tasks, and their runs")
