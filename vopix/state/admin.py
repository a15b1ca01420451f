"""The staff console (/admin): look a person up, act on their account, publish policy versions.

Every event re-reads the caller's role on the server (`for_staff`): without one, the state is
emptied and the page shows the app's "page not found", whatever the browser sent. The person
being looked at lives in a backend-only var; what reaches the browser is the metadata summary.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, Concatenate, ParamSpec, TypeVar

import reflex as rx

from vopix.core import plans
from vopix.core.agent import profile
from vopix.core.clock import local_time
from vopix.core.privacy import audit, policy, staff, staff_plans
from vopix.core.privacy.staff import ADMIN, NotStaff, PersonSummary, StaffError
from vopix.core.workspace.base import human_size
from vopix.state.plan_text import plan_row
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState

P = ParamSpec("P")
A = TypeVar("A", bound="AdminState")

NOT_FOUND_TITLE = "404 - Not Found"  # Reflex's own 404 page
CONSOLE_TITLE = "Staff console · VOPIX"


StaffHandler = Callable[Concatenate[A, int, str, P], Awaitable[Any]]
Handler = Callable[Concatenate[A, P], Awaitable[Any]]


def for_staff(admin: bool = False) -> Callable[[StaffHandler], Handler]:
    """An event for staff only: the cookie and the role are re-checked; the handler gets the
    staff member's id and role. Anyone else gets the not-found page and nothing happens."""

    def wrap(fn: StaffHandler) -> Handler:
        @functools.wraps(fn)
        async def handler(self: A, *args: P.args, **kwargs: P.kwargs) -> Any:
            user_id = await self.current_user_id()
            role = await asyncio.to_thread(staff.role_of, user_id) if user_id else None
            if role is None or (admin and role != ADMIN):
                return self._not_found(hide_all=role is None)
            self.role = role
            # The session watcher, as on every signed-in page: a staff tab whose login ends
            # (or whose account is suspended) leaves for /login by itself.
            return self._with_watcher(await fn(self, user_id or 0, role, *args, **kwargs))

        signature = inspect.signature(fn)
        params = list(signature.parameters.values())
        del params[1:3]
        handler.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        names = list(inspect.signature(fn).parameters)[1:3]
        handler.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k not in names}
        return handler

    return wrap


def _rows(p: PersonSummary, zone: str | None) -> list[list[str]]:
    standing = p.standing
    if p.standing == "suspended" and p.suspended_reason:
        standing = f"suspended ({p.suspended_reason})"
    elif p.standing == "deleting" and p.purge_after is not None:
        standing = f"being deleted (purge after {local_time(p.purge_after, zone)})"
    plan = f"{p.plan_name} ({p.plan_id})" + (f", given by staff: {p.comped_plan}" if p.comped_plan else "")
    return [
        ["Account", f"#{p.user_id} {p.email}"],
        ["Signed up", local_time(p.signed_up, zone)],
        ["Plan", plan],
        ["Subscription", p.subscription_status],
        ["Standing", standing],
        ["Messages this month", f"{p.messages_this_month:,}"],
        ["AI calls this month", f"{p.ai_calls_this_month:,}"],
        ["Workspace storage", human_size(p.storage_bytes)],
        ["Linked channels", ", ".join(p.channels) or "none"],
        ["Integrations", ", ".join(p.integrations) or "none"],
    ]


class AdminState(SessionState):
    checked: bool = False  # the role check of this page load is done
    role: str = ""  # support | admin, or "" (not found)
    error: str = ""
    message: str = ""
    person: list[list[str]] = []
    person_standing: str = ""
    asking_delete: bool = False
    plan_options: list[str] = []
    policy_error: str = ""
    policy_message: str = ""
    versions: list[list[str]] = []
    activity: list[list[str]] = []  # admins: the newest rows of the whole audit log
    plan_rows: list[dict[str, str]] = []  # admins: every plan as the Billing page words it
    plan_form: dict[str, str] = {}  # the plan being edited or created (what the form shows)
    plan_editing: str = ""  # its id, "new" for a new plan, "" when no form is open
    plan_form_key: int = 0  # a new number re-mounts the form with plan_form's values
    plan_error: str = ""
    plan_message: str = ""
    _subject_id: int = 0

    @rx.var
    def allowed(self) -> bool:
        return self.role != ""

    @rx.var
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @rx.var
    def role_label(self) -> str:
        return f"Signed in as {self.role}" if self.role else ""

    def _clear_person(self) -> None:
        self._subject_id = 0
        self.person, self.person_standing, self.asking_delete = [], "", False

    def _not_found(self, hide_all: bool = True) -> Reply:
        if hide_all:
            self.role = ""
            self._clear_person()
            self.versions, self.plan_options, self.activity = [], [], []
            self.plan_rows, self.plan_form, self.plan_editing = [], {}, ""
            self.checked = True
            return rx.call_script(f"document.title={NOT_FOUND_TITLE!r}")
        self.error = "Only an admin can do that."
        return None

    async def _show(self, staff_id: int, summary: PersonSummary | None) -> None:
        zone = await asyncio.to_thread(_staff_zone, staff_id)
        if summary is None:
            self._clear_person()
            return
        self._subject_id = summary.user_id
        self.person, self.person_standing = _rows(summary, zone), summary.standing

    async def _refresh_person(self, staff_id: int) -> None:
        summary = await asyncio.to_thread(staff.summary_after_action, staff_id, self._subject_id)
        await self._show(staff_id, summary)

    @rx.event
    @for_staff()
    async def load(self, staff_id: int, role: str) -> Reply:
        self.checked = True
        self.error = self.message = self.policy_error = self.policy_message = ""
        self._clear_person()
        self.plan_editing = self.plan_error = self.plan_message = ""
        if role == ADMIN:
            await self._load_plans()
            await self._load_versions()
            await self._load_activity(staff_id)
        return [rx.call_script(REFRESH_SCRIPT), rx.call_script(f"document.title={CONSOLE_TITLE!r}")]

    async def _load_activity(self, staff_id: int) -> None:
        zone = await asyncio.to_thread(_staff_zone, staff_id)
        self.activity = [
            [local_time(r.at, zone), f"{r.role} #{r.staff_user_id or '-'}", r.action,
             f"#{r.subject_user_id}" if r.subject_user_id else "-", r.reason, r.detail]
            for r in await asyncio.to_thread(audit.recent, 30)
        ]

    async def _load_plans(self) -> None:
        listed = await asyncio.to_thread(plans.list_plans)
        self.plan_options = [p.id for p in listed]
        self.plan_rows = [plan_row(p) for p in listed]

    def _open_plan_form(self, editing: str, values: dict[str, str]) -> None:
        self.plan_editing, self.plan_form = editing, values
        self.plan_form_key += 1

    @rx.event
    @for_staff(admin=True)
    async def edit_plan(self, staff_id: int, role: str, plan_id: str) -> Reply:
        self.plan_error = self.plan_message = ""
        plan = await asyncio.to_thread(plans.get_plan, plan_id)
        if plan is None:
            self.plan_error = "That plan does not exist any more."
            await self._load_plans()
            return None
        self._open_plan_form(plan.id, staff_plans.form_values(plan))
        return None

    @rx.event
    @for_staff(admin=True)
    async def new_plan(self, staff_id: int, role: str) -> Reply:
        self.plan_error = self.plan_message = ""
        self._open_plan_form("new", staff_plans.form_values(None))
        return None

    @rx.event
    @for_staff(admin=True)
    async def cancel_plan(self, staff_id: int, role: str) -> Reply:
        self.plan_editing, self.plan_error = "", ""
        return None

    @rx.event
    @for_staff(admin=True)
    async def save_plan(self, staff_id: int, role: str, form: dict[str, Any]) -> Reply:
        self.plan_error = self.plan_message = ""
        if not self.plan_editing:
            return None
        plan_id = str(form.get("id", "")) if self.plan_editing == "new" else self.plan_editing
        reason = str(form.get("reason", ""))
        try:
            plan = await asyncio.to_thread(staff_plans.save, staff_id, plan_id, form, reason)
        except (ValueError, StaffError) as exc:
            # What was typed stays in the form (bad input changes nothing, and loses nothing).
            self.plan_form = {k: str(v) for k, v in form.items() if k != "reason"}
            self.plan_error = str(exc)
            return None
        self.plan_editing = ""
        self.plan_message = f"Saved the {plan.name} plan ({plan.id}): it applies now to everyone on it."
        await self._load_plans()
        await self._load_activity(staff_id)
        return None

    async def _load_versions(self) -> None:
        rows = await asyncio.to_thread(policy.list_versions)
        self.versions = [
            [r.version, f"{r.effective_on:%Y-%m-%d}", "material" if r.material else "minor",
             f"{r.notices_queued} mail(s)" + ("" if r.notices_sent_at else ", still sending"), r.summary]
            for r in rows
        ]

    @rx.event
    @for_staff()
    async def look_up(self, staff_id: int, role: str, form: dict[str, Any]) -> Reply:
        self.error = self.message = ""
        self.asking_delete = False
        email, reason = str(form.get("email", "")).strip(), str(form.get("reason", ""))
        try:
            summary = await asyncio.to_thread(staff.look_up, staff_id, email, reason)
        except (ValueError, NotStaff) as exc:
            self.error = str(exc)
            return None
        if summary is None:
            self._clear_person()
            self.error = f"No account with the email {email}."
            return None
        await self._show(staff_id, summary)
        return None

    async def _act(self, staff_id: int, call: Callable[[], Any], done: str) -> None:
        self.error = self.message = ""
        if not self._subject_id:
            self.error = "Look a person up first."
            return
        try:
            await asyncio.to_thread(call)
        except (ValueError, StaffError) as exc:
            self.error = str(exc)
            return
        self.message = done
        await self._refresh_person(staff_id)

    @rx.event
    @for_staff()
    async def suspend(self, staff_id: int, role: str, form: dict[str, Any]) -> Reply:
        subject, reason = self._subject_id, str(form.get("reason", ""))
        await self._act(staff_id, lambda: staff.suspend(staff_id, subject, reason),
                        "Suspended: every session of the account has ended.")
        return None

    @rx.event
    @for_staff()
    async def unsuspend(self, staff_id: int, role: str, form: dict[str, Any]) -> Reply:
        subject, reason = self._subject_id, str(form.get("reason", ""))
        await self._act(staff_id, lambda: staff.unsuspend(staff_id, subject, reason),
                        "The suspension is lifted: the person can log in again.")
        return None

    @rx.event
    @for_staff()
    async def ask_delete(self, staff_id: int, role: str) -> None:
        self.asking_delete = bool(self._subject_id)

    @rx.event
    @for_staff()
    async def cancel_delete(self, staff_id: int, role: str) -> None:
        self.asking_delete = False

    @rx.event
    @for_staff()
    async def delete_child(self, staff_id: int, role: str, form: dict[str, Any]) -> Reply:
        self.error = self.message = ""
        subject, reason = self._subject_id, str(form.get("reason", ""))
        if not subject:
            self.error = "Look a person up first."
            return None
        try:
            await asyncio.to_thread(staff.delete_child_account, staff_id, subject, reason)
        except (ValueError, StaffError) as exc:
            self.error = str(exc)
            return None
        self._clear_person()
        self.message = f"Account #{subject} was deleted with all its data."
        return None

    @rx.event
    @for_staff(admin=True)
    async def set_plan(self, staff_id: int, role: str, form: dict[str, Any]) -> Reply:
        subject, reason = self._subject_id, str(form.get("reason", ""))
        plan_id = str(form.get("plan", "")).strip() or None
        await self._act(staff_id, lambda: staff.set_plan(staff_id, subject, plan_id, reason),
                        f"Plan given: {plan_id}." if plan_id else "The plan given by staff is removed.")
        return None

    @rx.event
    @for_staff(admin=True)
    async def publish(self, staff_id: int, role: str, form: dict[str, Any]) -> Reply:
        self.policy_error = self.policy_message = ""
        try:
            effective = date.fromisoformat(str(form.get("effective", "")))
        except ValueError:
            self.policy_error = "Give the effective date as YYYY-MM-DD."
            return None
        material = str(form.get("minor", "")) not in ("on", "true", "1")
        try:
            published = await asyncio.to_thread(
                lambda: policy.publish(
                    version=str(form.get("version", "")), summary=str(form.get("summary", "")),
                    effective_on=effective, material=material, body=str(form.get("body", "")),
                    by=f"admin, staff #{staff_id}", by_user_id=staff_id,
                )
            )
        except policy.PolicyError as exc:
            self.policy_error = str(exc)
            return None
        self.policy_message = (f"Published version {published.version}: {published.notices_queued} "
                               "notice mail(s) queued.")
        await self._load_versions()
        return None


def _staff_zone(staff_id: int) -> str | None:
    return profile.timezone_of(staff_id)

