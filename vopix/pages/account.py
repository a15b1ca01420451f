"""Account page."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, field, form, page_shell, submit
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


def _mail_choice(field_id: str, label: str, hint: str, **input_props: object) -> rx.Component:
    """A checkbox with its label, and a sentence under it tied to it (aria-describedby)."""
    return rx.el.div(
        rx.el.input(id=field_id, type="checkbox", aria_describedby=f"{field_id}-hint", **input_props),
        rx.el.div(
            rx.el.label(label, html_for=field_id),
            rx.el.p(hint, id=f"{field_id}-hint", class_name="vx-hint"),
        ),
        class_name="vx-check",
    )


def _mail_choices_card() -> rx.Component:
    """Which mail the person gets (P12, P13); each choice is saved as it is clicked."""
    return rx.el.section(
        rx.el.h2("Email notifications"),
        _mail_choice(
            "mail-security",
            "Security alerts",
            "Always on: they tell you when someone signs in from a new device, or your password "
            "or email changes, so they cannot be turned off.",
            default_checked=True,
            disabled=True,
        ),
        _mail_choice(
            "quota-mail",
            "Quota warnings",
            "A mail when you reach 80% and 100% of a monthly limit of your plan.",
            checked=AccountState.quota_mail_opt_in,
            on_change=AccountState.set_quota_mail,
        ),
        _mail_choice(
            "marketing",
            "Product news",
            "Now and then, what is new in VOPIX. Off unless you turn it on.",
            checked=AccountState.marketing_opt_in,
            on_change=AccountState.set_marketing,
        ),
        alert(AccountState.mail_error),
        alert(AccountState.mail_message, kind="ok"),
        rx.el.p("Every optional mail has an unsubscribe link as well.", class_name="vx-hint"),
        class_name="vx-card",
        aria_label="Email notifications",
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
        form(
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
            aria_label="Change password",
        ),
        class_name="vx-card",
    )
    email_card = rx.el.section(
        rx.el.h2("Email address"),
        rx.el.p("You sign in with ", rx.el.strong(AccountState.user_email, class_name="vx-address"), ".",
                class_name="vx-muted"),
        form(
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
            aria_label="Change email",
        ),
        class_name="vx-card",
    )
    return page_shell(
        email_card,
        _mail_choices_card(),
        password_card,
        sessions_card,
        rx.el.section(
            rx.el.h2("Your data"),
            rx.el.p("Export or delete your data on the ", rx.el.a("Privacy page", href="/privacy"), "."),
            class_name="vx-card",
        ),
        title="Your account",
        active="/account",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
