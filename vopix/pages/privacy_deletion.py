"""The "Delete your account" section of /privacy."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, field, form
from vopix.state.privacy_deletion import DeletionState as S


def _form() -> rx.Component:
    return form(
        rx.el.p(
            "This signs you out everywhere at once, unlinks your Telegram and WhatsApp chats, "
            "disconnects your services (revoking their tokens) and cancels any paid subscription. "
            "Your data is kept for ", S.grace_days, " days: the mail we send has a link that "
            "restores the account until then. After that, everything is deleted for good.",
        ),
        field("Current password", "password", type_="password", id="delete-password",
              autocomplete="current-password", required=True),
        alert(S.deletion_error),
        rx.el.div(
            rx.el.button("Delete my account", type="submit", disabled=S.deletion_busy,
                         class_name="vx-danger"),
            rx.el.button("Keep my account", type="button", on_click=S.cancel,
                         class_name="vx-button-quiet"),
            class_name="vx-row",
        ),
        on_submit=S.delete,
        aria_label="Delete your account",
        role="alertdialog",
    )  # fmt: skip


def deletion_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Delete your account", id="delete-account-title"),
        rx.el.p(
            "Deleting your account removes your messages, workspace files, settings and everything "
            "else VOPIX holds about you, within 30 days.",
        ),
        rx.cond(
            S.deletion_asking,
            _form(),
            rx.el.button("Delete account…", type="button", on_click=S.ask,
                         class_name="vx-button-quiet vx-button-danger-quiet"),
        ),
        id="delete-account",
        aria_labelledby="delete-account-title",
        class_name="vx-card",
    )  # fmt: skip
