"""Account page."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, field, page_shell, submit
from vopix.state.account import AccountState
from vopix.state.session import SessionState


def _session_row(row: rx.Var) -> rx.Component:
    return rx.el.tr(
        rx.el.td(row["device"]),
        rx.el.td(row["ip"]),
        rx.el.td(row["started"]),
        rx.el.td(row["last_seen"]),
        rx.el.td(
            rx.el.button(
                rx.cond(row["current"] == "yes", "Log out here", "End session"),
                on_click=AccountState.end_session(row["id"]),
                type="button",
                aria_label=rx.cond(
                    row["current"] == "yes",
                    "Log out here",
                    "End session on " + row["device"].to(str) + " from " + row["ip"].to(str),
                ),
                class_name="vx-button-quiet",
            )
        ),
    )


def account_page() -> rx.Component:
    sessions_card = rx.el.section(
        rx.el.h2("Active sessions"),
        rx.el.table(
            rx.el.thead(
                rx.el.tr(
                    rx.el.th("Device"),
                    rx.el.th("IP address"),
                    rx.el.th("Signed in"),
                    rx.el.th("Last seen"),
                    rx.el.th(rx.el.span("Actions", class_name="vx-muted")),
                )
            ),
            rx.el.tbody(rx.foreach(AccountState.session_rows, _session_row)),
            class_name="vx-table",
            aria_label="Active sessions",
        ),
        rx.el.button(
            "End all other sessions",
            on_click=AccountState.end_other_sessions,
            type="button",
            class_name="vx-button-quiet",
        ),
        alert(AccountState.sessions_message, kind="ok"),
        class_name="vx-card",
    )
    password_card = rx.el.section(
        rx.el.h2("Change password"),
        rx.el.form(
            field(
                "Current password",
                "current_password",
                type_="password",
                autocomplete="current-password",
                required=True,
            ),
            field(
                "New password", "new_password", type_="password", autocomplete="new-password", required=True
            ),
            field(
                "Repeat new password",
                "confirm_password",
                type_="password",
                autocomplete="new-password",
                required=True,
            ),
            alert(AccountState.password_error),
            alert(AccountState.password_message, kind="ok"),
            submit("Change password"),
            on_submit=AccountState.change_password,
            reset_on_submit=True,
            aria_label="Change password",
        ),
        class_name="vx-card",
    )
    email_card = rx.el.section(
        rx.el.h2("Email address"),
        rx.el.p("Current: ", rx.el.strong(AccountState.user_email)),
        rx.el.form(
            field("New email", "email", type_="email", autocomplete="email", required=True),
            field(
                "Password",
                "password",
                type_="password",
                id="email-password",
                autocomplete="current-password",
                required=True,
            ),
            alert(AccountState.email_error),
            alert(AccountState.email_message, kind="ok"),
            submit("Change email"),
            on_submit=AccountState.change_email,
            reset_on_submit=True,
            aria_label="Change email",
        ),
        rx.el.div(
            rx.el.input(
                id="marketing",
                type="checkbox",
                checked=AccountState.marketing_opt_in,
                on_change=AccountState.set_marketing,
            ),
            rx.el.label("Email me product news", html_for="marketing"),
            class_name="vx-check",
        ),
        class_name="vx-card",
    )
    return page_shell(
        email_card,
        password_card,
        sessions_card,
        title="Your account",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
