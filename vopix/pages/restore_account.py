"""The page of the restore link in the deletion mail: /restore-account."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, live_marker, theme_toggle
from vopix.state.restore_account import RestoreState as S


def restore_account_page() -> rx.Component:
    return rx.el.div(
        rx.el.header(
            rx.el.a("VOPIX", href="/", class_name="vx-auth-brand", aria_label="VOPIX home"),
            theme_toggle(),
            class_name="vx-auth-head",
        ),
        rx.el.main(
            rx.el.h1("Restore your account"),
            rx.cond(
                ~S.restore_ready & ~S.restore_done & (S.restore_error == ""),
                rx.el.p("Checking the link…", class_name="vx-muted", role="status"),
            ),
            alert(S.restore_error),
            rx.cond(
                S.restore_ready,
                rx.fragment(
                    rx.el.p(
                        "Your account is being deleted. Restoring it stops the deletion and keeps "
                        "your data. Your connected services and linked chats stay disconnected: "
                        "connect them again after you log in."
                    ),
                    rx.el.button("Restore my account", type="button", on_click=S.restore,
                                 disabled=S.restore_busy, class_name="vx-button"),
                ),
            ),
            rx.cond(
                S.restore_done,
                rx.el.p(
                    "Your account is restored. Log in again with your password. Your services and "
                    "chats stay disconnected until you connect them again.",
                    role="status", class_name="vx-ok",
                ),
            ),
            rx.el.p(rx.el.a("Log in", href="/login"), class_name="vx-auth-alt"),
            class_name="vx-auth vx-card",
        ),
        class_name="vx-auth-page",
        custom_attrs=live_marker(),
    )  # fmt: skip
