"""The staff console (/admin). Without a role it is the app's "page not found"."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, checkbox, field, form, page_shell, submit
from vopix.core.privacy.staff_plans import FIELDS as PLAN_FIELDS
from vopix.state.admin import AdminState as A
from vopix.state.session import SessionState


def not_found() -> rx.Component:
    """What Reflex shows for a route it does not know."""
    return rx.el.span("404: Page not found")


def _reason(form_id: str, label: str, hint: str = "") -> rx.Component:
    return field(label, "reason", id=f"{form_id}-reason", required=True, max_length=500,
                 hint=hint or "Required. It is shown to the person on their Privacy page.")


def _look_up() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Look a person up"),
        form(
            field("Email", "email", id="lookup-email", type_="email", required=True),
            _reason("lookup", "Reason for opening the account",
                    "Required: a ticket number or what the person asked for. "
                    "The person sees this look and its reason."),
            submit("Look up"),
            on_submit=A.look_up,
        ),
        class_name="vx-card",
    )


def _facts() -> rx.Component:
    return rx.el.dl(
        rx.foreach(A.person, lambda row: rx.el.div(rx.el.dt(row[0]), rx.el.dd(row[1]), class_name="vx-fact")),
        class_name="vx-facts",
    )


def _suspension() -> rx.Component:
    return rx.cond(
        A.person_standing == "suspended",
        form(_reason("unsuspend", "Reason for lifting the suspension"), submit("Lift the suspension"),
             on_submit=A.unsuspend, aria_label="Lift the suspension"),
        rx.cond(
            A.person_standing == "active",
            form(_reason("suspend", "Reason for the suspension"), submit("Suspend account"),
                 on_submit=A.suspend, aria_label="Suspend account"),
        ),
    )


def _delete() -> rx.Component:
    return rx.cond(
        A.asking_delete,
        form(
            rx.el.p("Delete this account and every row and file of it now, with no way back? "
                    "Use this for an account reported as a child's."),
            _reason("delete", "Reason for the deletion"),
            rx.el.div(
                rx.el.button("Delete account and all its data", type="submit", class_name="vx-danger"),
                rx.el.button("Cancel", type="button", on_click=A.cancel_delete, class_name="vx-button-quiet"),
                class_name="vx-row",
            ),
            on_submit=A.delete_child,
            role="alertdialog",
            aria_label="Delete this account",
            class_name="vx-confirm",
        ),
        rx.el.button("Delete account reported as a child's", type="button", on_click=A.ask_delete,
                     class_name="vx-button-quiet vx-button-danger-quiet"),
    )  # fmt: skip


def _plan() -> rx.Component:
    return rx.cond(
        A.is_admin,
        form(
            rx.el.div(
                rx.el.label("Plan to give", html_for="plan-select", class_name="vx-label"),
                rx.el.select(
                    rx.el.option("None (remove the plan given by staff)", value=""),
                    rx.foreach(A.plan_options, lambda p: rx.el.option(p, value=p)),
                    id="plan-select", name="plan", class_name="vx-input",
                ),
                class_name="vx-field",
            ),
            _reason("plan", "Reason for the plan change"),
            submit("Set plan"),
            on_submit=A.set_plan,
            aria_label="Set plan",
        ),
    )  # fmt: skip


def _plan_form() -> rx.Component:
    inputs = [
        field(f.label, f.key, id=f"plan-{f.key}", default_value=A.plan_form[f.key], hint=f.hint,
              required=f.key == "name", max_length=120,
              input_mode="decimal" if f.kind == "money" else "numeric" if f.kind != "text" else "text")
        for f in PLAN_FIELDS
    ]
    return form(
        rx.el.h3(rx.cond(A.plan_editing == "new", "New plan", "Edit plan " + A.plan_editing)),
        rx.cond(
            A.plan_editing == "new",
            field("Plan id", "id", id="plan-id", required=True, max_length=32,
                  hint="Lowercase letters, digits, - or _ (for example: team). It cannot change later."),
        ),
        rx.el.div(*inputs, class_name="vx-grid-fields"),
        _reason("plan-edit", "Reason for the change",
                "Required. The change applies at once to everyone on the plan and is recorded."),
        alert(A.plan_error),
        rx.el.div(
            submit("Save plan"),
            rx.el.button("Cancel", type="button", on_click=A.cancel_plan, class_name="vx-button-quiet"),
            class_name="vx-row",
        ),
        on_submit=A.save_plan,
        key=A.plan_form_key,
        aria_label="Edit plan",
    )


def _plans() -> rx.Component:
    headers = ("Plan", "Name", "Price", "Messages", "AI calls", "Storage", "")
    return rx.cond(
        A.is_admin,
        rx.el.section(
            rx.el.h2("Plans", id="plans-title"),
            rx.el.p("Limits apply at once to everyone on a plan.", class_name="vx-muted"),
            rx.el.table(
                rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in headers])),
                rx.el.tbody(rx.foreach(A.plan_rows, lambda p: rx.el.tr(
                    rx.el.td(p["id"]), rx.el.td(p["name"]), rx.el.td(p["price"]), rx.el.td(p["messages"]),
                    rx.el.td(p["calls"]), rx.el.td(p["storage"]),
                    rx.el.td(rx.el.button("Edit", type="button", on_click=A.edit_plan(p["id"]),
                                          aria_label="Edit " + p["name"], class_name="vx-button-quiet")),
                ))),
                class_name="vx-table",
                aria_labelledby="plans-title",
            ),
            alert(A.plan_message, kind="ok"),
            rx.cond(
                A.plan_editing != "",
                _plan_form(),
                rx.el.button("New plan", type="button", on_click=A.new_plan, class_name="vx-button-quiet"),
            ),
            class_name="vx-card",
        ),
    )  # fmt: skip


def _person() -> rx.Component:
    return rx.cond(
        A.person.length() > 0,
        rx.el.section(
            rx.el.h2("Account"),
            rx.el.p("Metadata only: no messages, files, tokens or keys.", class_name="vx-muted"),
            _facts(),
            rx.el.h3("Actions"),
            _suspension(),
            _plan(),
            _delete(),
            class_name="vx-card",
            aria_label="Account",
        ),
    )


def _policy() -> rx.Component:
    return rx.cond(
        A.is_admin,
        rx.el.section(
            rx.el.h2("Publish a policy version"),
            form(
                field("Version", "version", id="policy-version", required=True, max_length=32),
                field("Summary of the change", "summary", id="policy-summary", required=True, max_length=600),
                field("Effective date", "effective", id="policy-effective", type_="date", required=True,
                      hint="A material change needs at least 14 days' notice."),
                checkbox("Minor change (not material)", "minor", id="policy-minor"),
                rx.el.div(
                    rx.el.label("Policy text", html_for="policy-body", class_name="vx-label"),
                    rx.el.textarea(id="policy-body", name="body", rows=6, class_name="vx-input"),
                    class_name="vx-field",
                ),
                alert(A.policy_error),
                alert(A.policy_message, kind="ok"),
                submit("Publish and notify everyone"),
                on_submit=A.publish,
                ),
            rx.cond(
                A.versions.length() > 0,
                rx.el.table(
                    rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in
                                           ("Version", "Effective", "Kind", "Notices", "Summary")])),
                    rx.el.tbody(rx.foreach(A.versions, lambda v: rx.el.tr(
                        rx.el.td(v[0]), rx.el.td(v[1]), rx.el.td(v[2]), rx.el.td(v[3]), rx.el.td(v[4])))),
                    class_name="vx-table",
                ),
            ),
            class_name="vx-card",
        ),
    )  # fmt: skip


def _activity() -> rx.Component:
    return rx.cond(
        A.is_admin & (A.activity.length() > 0),
        rx.el.section(
            rx.el.h2("Recent staff activity", id="activity-title"),
            rx.el.p("The newest entries of the audit log, as shown on load. It cannot be edited.",
                    class_name="vx-muted"),
            rx.el.table(
                rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in
                                       ("When", "Staff", "Action", "Account", "Reason", "Detail")])),
                rx.el.tbody(rx.foreach(A.activity, lambda r: rx.el.tr(
                    rx.el.td(r[0]), rx.el.td(r[1]), rx.el.td(r[2]), rx.el.td(r[3]), rx.el.td(r[4]),
                    rx.el.td(r[5])))),
                class_name="vx-table",
                aria_labelledby="activity-title",
            ),
            class_name="vx-card",
        ),
    )  # fmt: skip


def admin_page() -> rx.Component:
    return rx.cond(
        A.allowed,
        page_shell(
            rx.el.p(A.role_label, class_name="vx-badge vx-badge-muted"),
            _look_up(),
            alert(A.error),
            alert(A.message, kind="ok"),
            _person(),
            _plans(),
            _policy(),
            _activity(),
            title="Staff console",
            lead="Every look and action here is recorded and shown to the person.",
            on_log_out=SessionState.log_out,
            email=SessionState.user_email,
        ),
        rx.cond(A.checked, not_found()),
    )
