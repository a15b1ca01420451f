"""Tasks page (/tasks): reminders and scheduled agent tasks, their next runs and last runs, a
form to create or edit one, and where tasks deliver (channel, quiet hours)."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, empty_state, field, form, page_shell
from vopix.core.tasks.schedule import DAY_NAMES, WEEKDAYS
from vopix.state.session import SessionState
from vopix.state.tasks import TasksState as T


def _select(label: str, name: str, options: list[tuple[str, str]], **props: object) -> rx.Component:
    field_id = name.replace("_", "-")
    return rx.el.div(
        rx.el.label(label, html_for=field_id, class_name="vx-label"),
        rx.el.select(
            *[rx.el.option(text, value=value) for value, text in options],
            id=field_id, name=name, class_name="vx-input", **props,
        ),
        class_name="vx-field",
    )


def _run(r: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.time(r["when"]), " \u2014 ", rx.el.strong(r["outcome"]),
        rx.cond(r["channel"] != "", rx.el.span(" (", r["channel"], ")")),
        rx.cond(r["detail"] != "", rx.el.span(": ", r["detail"], class_name="vx-muted")),
        rx.cond(
            (r["message"] != "") & (r["conversation"] != ""),
            rx.el.button(
                "Open message", on_click=T.open_message(r["conversation"], r["message"]), type="button",
                class_name="vx-link-button", aria_label="Open the delivered message in the chat",
            ),
        ),
    )


def _task(t: rx.Var) -> rx.Component:
    actions = rx.el.div(
        rx.el.button("Edit", on_click=T.edit(t["id"]), type="button", class_name="vx-button-quiet",
                     aria_label="Edit " + t["title"]),
        rx.cond(
            t["status"] == "active",
            rx.el.button("Pause", on_click=T.pause(t["id"]), type="button", class_name="vx-button-quiet",
                         aria_label="Pause " + t["title"]),
            rx.cond(
                t["status"] == "paused",
                rx.el.button("Resume", on_click=T.resume(t["id"]), type="button",
                             class_name="vx-button-quiet", aria_label="Resume " + t["title"]),
            ),
        ),
        rx.cond(
            T.deleting_id == t["id"],
            rx.el.div(
                rx.el.span("Delete this task for good?", class_name="vx-confirm-question"),
                rx.el.button("Delete task", on_click=T.delete(t["id"]), type="button",
                             class_name="vx-danger"),
                rx.el.button("Keep it", on_click=T.keep, type="button", class_name="vx-button-quiet"),
                role="alertdialog", aria_label="Delete task", class_name="vx-confirm vx-row",
            ),
            rx.el.button("Delete", on_click=T.ask_delete(t["id"]), type="button",
                         class_name="vx-button-quiet vx-button-danger-quiet",
                         aria_label="Delete " + t["title"]),
        ),
        class_name="vx-row",
    )
    return rx.el.article(
        rx.el.div(
            rx.el.h3(t["title"]),
            rx.el.span(t["kind"], class_name="vx-badge"),
            rx.cond(t["status"] != "active", rx.el.span(t["status"], class_name="vx-badge vx-badge-muted")),
            class_name="vx-card-head",
        ),
        rx.el.dl(
            rx.el.dt("Schedule"), rx.el.dd(t["words"], " (", t["zone"], ")",
                                           rx.cond(t["quiet"] != "", rx.el.span(", ", t["quiet"]))),
            rx.el.dt("Next runs"),
            rx.el.dd(rx.cond(
                t["next_1"] != "",
                rx.el.ol(
                    rx.el.li(t["next_1"]),
                    rx.cond(t["next_2"] != "", rx.el.li(t["next_2"])),
                    rx.cond(t["next_3"] != "", rx.el.li(t["next_3"])),
                    class_name="vx-next-runs",
                ),
                rx.el.span("None", class_name="vx-muted"),
            )),
            rx.el.dt("Delivers on"), rx.el.dd(t["channel"]),
            rx.el.dt(rx.cond(t["kind"] == "Reminder", "Text", "Prompt")), rx.el.dd(t["text"]),
        ),
        rx.el.h4("Last runs"),
        rx.el.ul(rx.foreach(T.runs, lambda r: rx.cond(r["task"] == t["id"], _run(r))), class_name="vx-runs"),
        actions,
        class_name="vx-card",
        aria_label=t["title"],
    )


def _days() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Days (weekly)"),
        *[
            rx.el.div(
                rx.el.input(id=f"day-{code.lower()}", name=f"day_{code}", type="checkbox",
                            default_checked=T.form[f"day_{code}"] != ""),
                rx.el.label(name, html_for=f"day-{code.lower()}"),
                class_name="vx-check",
            )
            for code, name in zip(WEEKDAYS, DAY_NAMES, strict=True)
        ],
        class_name="vx-days",
    )


def _task_form() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.cond(T.editing_id != "", "Edit task", "New task")),
        form(
            rx.cond(
                T.editing_id == "",
                _select("Kind", "kind", [("reminder", "Reminder: a fixed text at the time"),
                                         ("agent", "Agent task: a prompt your agent runs at the time")],
                        default_value=T.form["kind"]),
            ),
            rx.el.div(
                rx.el.label("Text or prompt", html_for="task-text", class_name="vx-label"),
                rx.el.textarea(id="task-text", name="text", default_value=T.form["text"], rows=3,
                               class_name="vx-input", required=True),
                class_name="vx-field",
            ),
            field("Title (optional)", "title", id="task-title", default_value=T.form["title"]),
            _select("Repeats", "repeat", [("once", "Once"), ("daily", "Every day"),
                                          ("weekdays", "Every weekday"), ("weekly", "Weekly on given days"),
                                          ("monthly", "Monthly on a day"), ("rrule", "Custom RRULE")],
                    default_value=T.form["repeat"], on_change=T.set_repeat),
            rx.cond(
                (T.form_repeat == "once") | (T.form_repeat == "rrule"),
                field("Date and time", "when", id="task-when", type_="datetime-local",
                      default_value=T.form["when"], hint="Your local time (" + T.zone + ")."),
            ),
            rx.cond(
                T.form_repeat != "once",
                field("Time of day", "time", id="task-time", type_="time", default_value=T.form["time"]),
            ),
            rx.cond(T.form_repeat == "weekly", _days()),
            rx.cond(
                T.form_repeat == "monthly",
                field("Day of the month", "day_of_month", id="task-day", type_="number", min="1", max="31",
                      default_value=T.form["day_of_month"]),
            ),
            rx.cond(
                T.form_repeat == "rrule",
                field("RRULE", "rrule", id="task-rrule", default_value=T.form["rrule"],
                      hint="RFC 5545, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=MO (at most every 5 minutes)."),
            ),
            rx.el.div(
                rx.el.input(id="task-ignore-quiet", name="ignore_quiet_hours", type="checkbox",
                            default_checked=T.form["ignore_quiet_hours"] != ""),
                rx.el.label("Ignore quiet hours", html_for="task-ignore-quiet"),
                class_name="vx-check",
            ),
            rx.el.div(
                rx.el.button(rx.cond(T.editing_id != "", "Save task", "Create task"), type="submit",
                             class_name="vx-button"),
                rx.cond(T.editing_id != "", rx.el.button("Cancel", on_click=T.cancel_edit, type="button",
                                                         class_name="vx-button-quiet")),
                class_name="vx-row",
            ),
            key=T.form_key,
            on_submit=T.save,
            aria_label="Task",
        ),
        class_name="vx-card",
    )


def _settings() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Where tasks deliver"),
        form(
            _select("Deliver on", "channel", [("web", "Web chat"), ("telegram", "Telegram"),
                                              ("whatsapp", "WhatsApp")], default_value=T.channel),
            rx.el.p("If that channel is not linked or refuses the message, it is in the web chat (and "
                    "you get a notice). Every task message is also in the web chat's history.",
                    class_name="vx-muted"),
            field("Quiet hours from", "quiet_start", id="quiet-start", type_="time",
                  default_value=T.quiet_start),
            field("Quiet hours until", "quiet_end", id="quiet-end", type_="time", default_value=T.quiet_end,
                  hint="Your local time (" + T.zone + "). Tasks due inside wait until the end, unless "
                  "they ignore quiet hours. Leave both empty for none."),
            rx.el.button("Save delivery settings", type="submit", class_name="vx-button"),
            key=T.channel + T.quiet_start + T.quiet_end,
            on_submit=T.save_settings,
            aria_label="Delivery settings",
        ),
        class_name="vx-card",
    )


def tasks_page() -> rx.Component:
    return page_shell(
        alert(T.error),
        alert(T.message, kind="ok"),
        rx.el.section(
            rx.el.h2("Your tasks"),
            rx.cond(
                T.tasks.length() > 0,
                rx.el.div(rx.foreach(T.tasks, _task), class_name="vx-stack"),
                empty_state("No tasks yet", rx.el.p(
                    "Ask your agent \u201cremind me at 9 to call Ana\u201d, or create one below.")),
            ),
        ),
        _task_form(),
        _settings(),
        title="Tasks",
        lead="Reminders and tasks your agent runs on time, in your time zone, on your channel.",
        active="/tasks",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
