"""Tasks page: every reminder and scheduled task with its schedule in words, its next runs in
the person's zone, where it delivers and its last runs; create, edit, pause, resume, delete, and
the delivery settings. Validation is core's (vopix/core/tasks/store.py), the same as the tools'."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from vopix.core import live
from vopix.core.agent import profile
from vopix.core.clock import local_time
from vopix.core.tasks import store
from vopix.core.tasks.schedule import WEEKDAYS
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, follow_live, for_user

CHANNEL_LABELS = {"web": "Web chat", "telegram": "Telegram", "whatsapp": "WhatsApp"}
OUTCOME_LABELS = {
    "delivered": "Delivered", "fallback": "Delivered in the web chat", "missed": "Missed",
    "refused": "Did not run", "failed": "Failed", "started": "Running", "stored": "Running",
    "sending": "Sending",
}
EMPTY_FORM = {
    "kind": "reminder", "text": "", "title": "", "repeat": "once", "when": "", "time": "",
    "day_of_month": "", "rrule": "", "ignore_quiet_hours": "", **{f"day_{d}": "" for d in WEEKDAYS},
}


def _form_spec(form: dict[str, Any]) -> dict[str, Any]:
    repeat = str(form.get("repeat") or "once")
    spec: dict[str, Any] = {"repeat": repeat}
    when = str(form.get("when") or "").strip()
    if when and repeat in ("once", "rrule"):
        spec["when"] = when
    if repeat != "once" and form.get("time"):
        spec["time"] = str(form["time"])
    if repeat == "weekly":
        spec["days"] = [d for d in WEEKDAYS if form.get(f"day_{d}")]
    if repeat == "monthly":
        spec["day_of_month"] = str(form.get("day_of_month") or "")
    if repeat == "rrule":
        spec["rrule"] = str(form.get("rrule") or "")
    return spec


def _repeat_of(view: store.TaskView) -> tuple[str, dict[str, str]]:
    rule = view.rrule
    if not rule:
        return "once", {}
    if rule == "FREQ=DAILY":
        return "daily", {}
    if rule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR":
        return "weekdays", {}
    if rule.startswith("FREQ=WEEKLY;BYDAY=") and rule.count(";") == 1:
        return "weekly", {f"day_{d}": "on" for d in rule.split("=")[-1].split(",")}
    if rule.startswith("FREQ=MONTHLY;BYMONTHDAY=") and rule.count(";") == 1:
        return "monthly", {"day_of_month": rule.split("=")[-1]}
    return "rrule", {"rrule": rule}


class TasksState(SessionState):
    tasks: list[dict[str, str]] = []
    runs: list[dict[str, str]] = []  # the last runs of every task, each naming its task
    form: dict[str, str] = dict(EMPTY_FORM)
    form_key: int = 0  # a new key remounts the form with the values of `form`
    editing_id: str = ""
    deleting_id: str = ""
    channel: str = "web"
    quiet_start: str = ""
    quiet_end: str = ""
    zone: str = "UTC"
    error: str = ""
    message: str = ""

    @rx.var
    def form_repeat(self) -> str:
        return self.form.get("repeat", "once")

    async def _refresh(self, user_id: int) -> None:
        self._show_tasks(*await asyncio.to_thread(_read_tasks, user_id))

    async def _show_changes(self, user_id: int) -> bool:
        """A live notice said the person's tasks or their runs changed (a run ended, the agent
        made a task in a chat): show what is stored. Run by the tab's session watcher with
        this state locked (follow_live below)."""
        found = await asyncio.to_thread(_read_tasks, user_id)
        if self._owned_by(user_id):  # last, with no await after it
            self._show_tasks(*found)
        return True

    def _show_tasks(self, views: list[store.TaskView], runs: dict[int, list[store.RunView]],
                    prefs: store.DeliverySettings, zone: str) -> None:
        self.zone = zone
        self.channel, self.quiet_start, self.quiet_end = prefs.channel, prefs.quiet_start, prefs.quiet_end
        rows = []
        for v in views:
            nxt = [local_time(t, v.timezone) for t in v.next_runs] + ["", "", ""]
            rows.append({
                "id": str(v.id), "kind": "Reminder" if v.kind == "reminder" else "Agent task",
                "title": v.title, "text": v.text, "words": v.words, "zone": v.timezone,
                "status": v.status, "channel": CHANNEL_LABELS.get(prefs.channel, prefs.channel),
                "quiet": "ignores quiet hours" if v.ignore_quiet_hours else "",
                "next_1": nxt[0], "next_2": nxt[1], "next_3": nxt[2],
            })
        self.tasks = rows
        self.runs = [
            {
                "task": str(task_id), "when": local_time(r.occurrence_at, self.zone),
                "outcome": OUTCOME_LABELS.get(r.outcome, r.outcome),
                "channel": CHANNEL_LABELS.get(r.channel, ""),
                "detail": r.detail, "conversation": str(r.conversation_id or ""),
                "message": str(r.message_id or ""),
            }
            for task_id, items in runs.items() for r in items
        ]

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        self.error = self.message = ""
        await self._refresh(user_id)
        return rx.call_script(REFRESH_SCRIPT)

    @rx.event
    def set_repeat(self, value: str) -> None:
        self.form = {**self.form, "repeat": value}

    @rx.event
    @for_user
    async def save(self, user_id: int, form: dict[str, Any]) -> None:
        self.error = self.message = ""
        spec = _form_spec(form)
        ignore = bool(form.get("ignore_quiet_hours"))
        try:
            if self.editing_id:
                view = await asyncio.to_thread(
                    lambda: store.update_task(
                        user_id, self.editing_id, text=str(form.get("text") or ""), spec=spec,
                        title=str(form.get("title") or ""), ignore_quiet_hours=ignore,
                    )
                )
                self.message = f"Saved \u201c{view.title}\u201d. Next run: {self._first(view)}."
            else:
                view = await asyncio.to_thread(
                    lambda: store.create(
                        user_id, str(form.get("kind") or "reminder"), str(form.get("text") or ""), spec,
                        title=str(form.get("title") or "") or None, ignore_quiet_hours=ignore,
                    )
                )
                self.message = f"Created \u201c{view.title}\u201d. Next run: {self._first(view)}."
        except store.TaskError as exc:
            self.error = str(exc)[:1].upper() + str(exc)[1:]
            self.form = {**EMPTY_FORM, **{k: str(v) for k, v in form.items()}}
            return
        self.editing_id, self.form = "", dict(EMPTY_FORM)
        self.form_key += 1
        await self._refresh(user_id)

    @staticmethod
    def _first(view: store.TaskView) -> str:
        return local_time(view.next_runs[0], view.timezone) if view.next_runs else "none"

    @rx.event
    @for_user
    async def edit(self, user_id: int, task_id: str) -> None:
        self.error = self.message = ""
        try:
            view = await asyncio.to_thread(store.get, user_id, task_id)
        except store.TaskError as exc:
            self.error = str(exc)
            return
        repeat, extra = _repeat_of(view)
        start = view.start_local
        self.form = {
            **EMPTY_FORM, "kind": view.kind, "text": view.text, "title": view.title, "repeat": repeat,
            "when": start if repeat in ("once", "rrule") else "",
            "time": start[-5:] if repeat != "once" else "",
            "ignore_quiet_hours": "on" if view.ignore_quiet_hours else "", **extra,
        }
        self.editing_id = str(view.id)
        self.form_key += 1

    @rx.event
    def cancel_edit(self) -> None:
        self.editing_id, self.form, self.error = "", dict(EMPTY_FORM), ""
        self.form_key += 1

    @rx.event
    @for_user
    async def pause(self, user_id: int, task_id: str) -> None:
        await self._act(user_id, store.pause, task_id, "Paused")

    @rx.event
    @for_user
    async def resume(self, user_id: int, task_id: str) -> None:
        await self._act(user_id, store.resume, task_id, "Resumed")

    async def _act(self, user_id: int, fn: Any, task_id: str, done: str) -> None:
        self.error = self.message = ""
        try:
            view = await asyncio.to_thread(fn, user_id, task_id)
            self.message = f"{done} \u201c{view.title}\u201d."
        except store.TaskError as exc:
            self.error = str(exc)[:1].upper() + str(exc)[1:]
        await self._refresh(user_id)

    @rx.event
    def ask_delete(self, task_id: str) -> None:
        self.deleting_id = task_id

    @rx.event
    def keep(self) -> None:
        self.deleting_id = ""

    @rx.event
    @for_user
    async def delete(self, user_id: int, task_id: str) -> None:
        self.error = self.message = ""
        try:
            await asyncio.to_thread(store.delete, user_id, task_id)
            self.message = "Task deleted."
        except store.TaskError as exc:
            self.error = str(exc)
        self.deleting_id = ""
        await self._refresh(user_id)

    @rx.event
    @for_user
    async def save_settings(self, user_id: int, form: dict[str, Any]) -> None:
        self.error = self.message = ""
        try:
            await asyncio.to_thread(
                store.save_delivery_settings, user_id, str(form.get("channel") or "web"),
                str(form.get("quiet_start") or ""), str(form.get("quiet_end") or ""),
            )
            self.message = "Delivery settings saved."
        except store.TaskError as exc:
            self.error = str(exc)[:1].upper() + str(exc)[1:]
        await self._refresh(user_id)

    @rx.event
    @for_user
    async def open_message(self, user_id: int, conversation_id: str, message_id: str) -> Reply:
        """A run's "Open message": the task's conversation in the chat, on the page around the
        delivered message and scrolled to it (as a search hit opens)."""
        if not (conversation_id.isdigit() and message_id.isdigit()):
            return None
        return rx.redirect(f"/chat?c={conversation_id}&m={message_id}")


def _read_tasks(user_id: int) -> tuple[
    list[store.TaskView], dict[int, list[store.RunView]], store.DeliverySettings, str
]:
    """What the page shows, in one thread hop."""
    views = store.list_tasks(user_id)
    return (views, store.recent_runs(user_id, [v.id for v in views]), store.delivery_settings(user_id),
            profile.timezone_of(user_id))


# While the page is open, a run that ends and a task made elsewhere appear without a reload.
follow_live(live.TASKS, "/tasks", TasksState, TasksState._show_changes)
