"""/policy: the privacy policy version in force or coming, with its summary and text."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import empty_state, page_shell
from vopix.state.policy_banner import PolicyPageState as S


def policy_page() -> rx.Component:
    return page_shell(
        rx.cond(
            S.version != "",
            rx.el.section(
                rx.el.h2("Version ", S.version, ", in effect from ", S.effective),
                rx.el.p(rx.el.strong("What changed: "), S.summary),
                rx.foreach(S.paragraphs, lambda p: rx.el.p(p, class_name="vx-user-text")),
                class_name="vx-card",
            ),
            empty_state("No policy version has been published in the app yet.",
                        rx.el.p("The policy you accepted when you signed up applies.")),
        ),
        rx.el.p(rx.el.a("Back to VOPIX", href="/")),
        title="Privacy policy",
    )
