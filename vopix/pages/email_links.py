"""The pages the email-change links open: /confirm-email and /undo-email."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, live_marker, theme_toggle
from vopix.state.email_links import EmailLinkState


def _link_page(title: str, waiting: str, *action: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.header(
            rx.el.a("VOPIX", href="/", class_name="vx-auth-brand", aria_label="VOPIX home"),
            theme_toggle(),
            class_name="vx-auth-head",
        ),
        rx.el.main(
            rx.el.h1(title),
            rx.cond(
                (EmailLinkState.message == "") & (EmailLinkState.error == "")
                & (EmailLinkState.undo_address == ""),
                rx.el.p(waiting, class_name="vx-muted", role="status"),
            ),
            alert(EmailLinkState.error),
            alert(EmailLinkState.message, kind="ok"),
            *action,
            rx.el.p(
                rx.cond(EmailLinkState.logged_in, rx.el.a("Back to your account", href="/account"),
                        rx.el.a("Log in", href="/login")),
                class_name="vx-auth-alt",
            ),
            class_name="vx-auth vx-card",
        ),
        class_name="vx-auth-page",
        custom_attrs=live_marker(),
    )


def confirm_email_page() -> rx.Component:
    return _link_page("Confirm your new email address", "Checking the link…")


def undo_email_page() -> rx.Component:
    ready = (EmailLinkState.undo_address != "") & ~EmailLinkState.done & (EmailLinkState.error == "")
    return _link_page(
        "Undo the email change",
        "Checking the link…",
        rx.cond(
            ready,
            rx.fragment(
                rx.el.p(
                    "If you did not change the email address of your VOPIX account, this puts ",
                    rx.el.strong(EmailLinkState.undo_address),
                    " back, signs out every session and mails a link to set a new password there.",
                ),
                rx.el.button(
                    "Put my old address back", type="button", on_click=EmailLinkState.undo,
                    disabled=EmailLinkState.busy, class_name="vx-button",
                ),
            ),
        ),
    )
