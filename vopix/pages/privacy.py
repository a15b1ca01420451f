"""The Privacy page (/privacy): what a person can do with the data held about them.

The page is a list of sections, one per right: each is a function returning an <section
class="vx-card"> with its own <h2>. A new section is one import and one entry in SECTIONS.
"""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from vopix.components.ui import page_shell
from vopix.pages.privacy_access import access_section
from vopix.pages.privacy_deletion import deletion_section
from vopix.pages.privacy_export import export_section
from vopix.state.session import SessionState

# The policy these rights come from (docs/privacy-policy.txt in the design notes).
POLICY_HREF = "/policy"


def _intro() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Your rights"),
        rx.el.p(
            "You can take a copy of everything VOPIX holds about you, correct your account and "
            "agent at any time (on the ",
            rx.el.a("Account", href="/account"), " and ", rx.el.a("Agent", href="/settings"),
            " pages), delete your account, and see every time our staff opened it.",
        ),
        rx.el.p("These rights come from our ", rx.el.a("privacy policy", href=POLICY_HREF), ".",
                class_name="vx-muted"),
        class_name="vx-card",
    )  # fmt: skip


# The page's sections, in order. Add yours here (one import above, one entry below).
SECTIONS: list[Callable[[], rx.Component]] = [
    _intro,
    export_section,
    access_section,
    deletion_section,
]


def privacy_page() -> rx.Component:
    return page_shell(
        *[section() for section in SECTIONS],
        title="Privacy",
        lead="Export your data, delete your account, see who looked.",
        active="/privacy",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
