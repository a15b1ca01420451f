"""The "Who looked at your account" section of /privacy."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import empty_state
from vopix.state.privacy_access import AccessState as S


def _row(look: rx.Var) -> rx.Component:
    return rx.el.tr(
        rx.el.td(look["when"], class_name="vx-num"),
        rx.el.td(look["who"]),
        rx.el.td(look["what"]),
        rx.el.td(look["reason"]),
    )


def access_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Who looked at your account", id="who-looked-title"),
        rx.el.p(
            "Our staff open an account only to help you or to keep the service safe, always with a "
            "reason, and every time is listed here: who (their role and staff number), when (in your "
            "time zone) and why.",
        ),
        rx.cond(
            S.looks.length() > 0,
            rx.el.table(
                rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in ("When", "Who", "What", "Reason")])),
                rx.el.tbody(rx.foreach(S.looks, _row)),
                class_name="vx-table",
                aria_labelledby="who-looked-title",
            ),
            rx.cond(S.looks_loaded,
                    empty_state("No one from our staff has opened your account.", small=True)),
        ),
        id="who-looked",
        class_name="vx-card",
        on_mount=S.load,
    )
