"""The export section of /privacy: start an export, follow its progress, download the ZIP."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert
from vopix.state.privacy_export import PrivacyExportState as X


def _progress() -> rx.Component:
    return rx.el.div(
        rx.el.label("Export progress", html_for="export-progress", class_name="vx-label"),
        rx.el.progress(
            id="export-progress", value=X.parts_done, max=X.parts_total,
            aria_describedby="export-progress-text", class_name="vx-meter",
        ),
        rx.el.p(X.progress_text, id="export-progress-text", role="status", class_name="vx-num"),
        class_name="vx-field",
    )  # fmt: skip


def _ready() -> rx.Component:
    return rx.el.div(
        rx.el.p(
            "Your export of ", X.asked_text, " is ready (", X.size_text, "). The link works for you "
            "only, until ", rx.el.strong(X.expires_text), ".",
        ),
        # reload_document: a real request (with the cookie) instead of the client-side router.
        rx.el.a("Download your data (ZIP)", href=X.download_href, download="", reload_document=True,
                class_name="vx-button"),
    )  # fmt: skip


def _status() -> rx.Component:
    return rx.match(
        X.export_status,
        ("queued", _progress()),
        ("running", _progress()),
        ("ready", _ready()),
        ("expired", rx.el.p("Your last export (", X.asked_text, ") has expired and its file was deleted.",
                            class_name="vx-muted")),
        rx.fragment(),
    )  # fmt: skip


def export_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Export your data", id="export-title"),
        rx.el.p(
            "One ZIP file with your account, agent, conversations, workspace files, integrations, "
            "usage, channels, security log, billing and script runs — never a password, token or "
            "key. It is prepared in the background; the link works for you only, for 7 days.",
        ),
        _status(),
        alert(X.export_error),
        alert(X.export_message, kind="ok"),
        # Not disabled while an export runs (a disabled button cannot be focused or explained):
        # pressing it then says why nothing new starts.
        rx.el.button(
            "Export my data",
            on_click=X.start_export,
            type="button",
            class_name="vx-button",
        ),
        id="export",
        aria_labelledby="export-title",
        class_name="vx-card",
    )
