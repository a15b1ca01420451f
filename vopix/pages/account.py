"""Account page."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, field, page_shell, submit
from vopix.state.account import AccountState
from vopix.state.session import SessionState


def _session_row(row: rx.Var) -> rx.Component:
    return rx.el.tr(
        rx.el.td(row["device"], class_name="vx-cell-title"),
        rx.el.td(row["ip"], class_name="vx-num", custom_attrs={"data-label": "IP address"}),
        rx.el.td(row["started"], class_name="vx-num", custom_attrs={"data-label": "Signed in"}),
        rx.el.td(
            rx.cond(
                row["current"] == "yes",
                rx.el.span(row["last_seen"], class_name="vx-badge vx-badge-ok"),
                row["last_seen"],
            ),
            custom_attrs={"data-label": "Last seen"},
        ),
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
                class_name="vx-button-quiet vx-button-small",
            ),
            class_name="vx-cell-actions",
        ),
    )


def account_page() -> rx.Component:
    sessions_card = rx.el.section(
        rx.el.h2("Active sessions"),
        rx.el.p(
            "Every browser signed in to your account. End any you do not recognise.", class_name="vx-muted"
        ),
        rx.el.div(
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th("Device", scope="col"),
                        rx.el.th("IP address", scope="col"),
                        rx.el.th("Signed in", scope="col"),
                        rx.el.th("Last seen", scope="col"),
                        rx.el.th(rx.el.span("Actions", class_name="vx-sr-only"), scope="col"),
                    )
                ),
                rx.el.tbody(rx.foreach(AccountState.session_rows, _session_row)),
                class_name="vx-table vx-table-stack",
                aria_label="Active sessions",
            ),
            class_name="vx-table-wrap",
        ),
        alert(AccountState.sessions_message, kind="ok"),
        rx.el.button(
            "End all other sessions",
            on_click=AccountState.end_other_sessions,
            type="button",
            class_name="vx-button-quiet vx-button-danger-quiet",
        ),
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
        rx.el.p("You sign in with ", rx.el.strong(AccountState.user_email), ".", class_name="vx-muted"),
        rx.el.form(
            field(
                "New email", "email", type_="email", autocomplete="email", required=True,
                hint="We mail a link to the new address; your address changes when you open it.",
            ),
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
        rx.el.hr(class_name="vx-divider"),
        rx.el.h3("Email preferences"),
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
        active="/account",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
