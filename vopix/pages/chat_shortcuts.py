"""The chat's keyboard shortcuts: the help dialog and the button that opens it. The keys
themselves are handled in the browser by assets/shortcuts.js."""

from __future__ import annotations

import reflex as rx

DIALOG_ID = "shortcuts"
# (keys, what they do). Single keys work only outside text fields, and can be turned off
# (WCAG 2.1.4); Alt combinations work everywhere (on a Mac, Option+letter types a character, so
# there they work outside text fields only). Ctrl+K is not used: browsers move to their own
# search box with it.
SHORTCUTS: list[tuple[tuple[str, ...], str]] = [
    (("?",), "Show these shortcuts"),
    (("/",), "Search messages"),
    (("Alt", "N"), "New conversation"),
    (("Alt", "M"), "Write a message (focus the message box)"),
    (("Esc",), "Stop the reply while it is being written"),
]


def _keys(keys: tuple[str, ...]) -> rx.Component:
    parts: list[rx.Component | str] = []
    for i, key in enumerate(keys):
        if i:
            parts.append(" + ")
        parts.append(rx.el.kbd(key))
    return rx.el.td(*parts, class_name="vx-keys")


def shortcuts_button() -> rx.Component:
    """Opens the help dialog (shortcuts.js listens for clicks on data-shortcuts-open)."""
    return rx.el.button(
        "Keyboard shortcuts",
        type="button",
        aria_haspopup="dialog",
        aria_controls=DIALOG_ID,
        class_name="vx-link-button vx-shortcuts-open",
        custom_attrs={"data-shortcuts-open": "true"},
    )


def shortcuts_dialog() -> rx.Component:
    """A modal <dialog>: shortcuts.js opens it with showModal() (the rest of the page inert),
    keeps Tab inside it, and on close gives focus back to where it was."""
    return rx.el.dialog(
        rx.el.h2("Keyboard shortcuts", id="shortcuts-title"),
        rx.el.table(
            rx.el.thead(rx.el.tr(rx.el.th("Keys", scope="col"), rx.el.th("What it does", scope="col"))),
            rx.el.tbody(*[rx.el.tr(_keys(keys), rx.el.td(what)) for keys, what in SHORTCUTS]),
            class_name="vx-table vx-shortcuts",
        ),
        rx.el.p("? and / work when you are not typing in a field; Esc stops a reply from the "
                "message box too.", class_name="vx-hint"),
        rx.el.div(
            rx.el.input(id="single-key-shortcuts", type="checkbox", default_checked=True,
                        custom_attrs={"data-single-keys": "true"}),
            rx.el.label("Single-key shortcuts (? and /)", html_for="single-key-shortcuts"),
            class_name="vx-check",
        ),
        rx.el.div(
            rx.el.button("Close", type="button", class_name="vx-button-quiet",
                         custom_attrs={"data-shortcuts-close": "true"}),
            class_name="vx-row vx-dialog-foot",
        ),
        rx.script(src="/shortcuts.js"),
        id=DIALOG_ID,
        aria_labelledby="shortcuts-title",
        class_name="vx-dialog",
    )  # fmt: skip
