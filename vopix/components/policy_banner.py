"""The privacy policy notice at the top of every signed-in page (page_shell), until dismissed."""

from __future__ import annotations

import reflex as rx

from vopix.state.policy_banner import PolicyBannerState as S


def policy_banner() -> rx.Component:
    # The wrapper is always there (it loads the notice when the page mounts); its content only
    # when there is a version the person has not dismissed.
    return rx.el.div(
        rx.cond(
            S.policy_version != "",
            rx.el.section(
                rx.el.p(rx.el.strong(S.policy_text), " ", S.policy_summary),
                rx.el.div(
                    rx.el.a("Read the policy", href="/policy"),
                    rx.el.button("Dismiss", type="button", on_click=S.dismiss,
                                 aria_label="Dismiss the privacy policy notice",
                                 class_name="vx-button-quiet"),
                    class_name="vx-row",
                ),
                aria_label="Privacy policy update",
                class_name="vx-card vx-policy-banner",
            ),
        ),
        on_mount=S.load,
    )
