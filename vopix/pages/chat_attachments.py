"""Attachments in the chat: the composer's "Attach files" picker (dropped and pasted files reach
it through assets/chat.js), the files waiting to be sent, and the files listed on a message."""

from __future__ import annotations

import reflex as rx

from vopix.state.chat import ChatState

UPLOAD_ID = "chat-attach"
ATTACH_LABEL = "Attach files"


def _label_file_input(component: rx.Component, label: str) -> None:
    """Give the dropzone's hidden <input type=file> an accessible name (as the workspace page
    does); the visible button stays the way in."""
    for child in component.children:
        if getattr(child, "tag", None) == "input":
            child.custom_attrs["aria-label"] = label
        _label_file_input(child, label)


def attach_button() -> rx.Component:
    picker = rx.upload.root(
        rx.el.button(
            rx.cond(ChatState.attaching, "Attaching…", "Attach files"),
            type="button", class_name="vx-button-quiet", disabled=ChatState.attaching,
        ),
        id=UPLOAD_ID,
        multiple=True,
        no_drag=True,  # drops anywhere on the composer are chat.js's
        no_keyboard=True,  # the button is the keyboard's way in
        on_drop=ChatState.attach(rx.upload_files_chunk(upload_id=UPLOAD_ID)),
        class_name="vx-attach",
    )
    _label_file_input(picker, ATTACH_LABEL)
    return picker


def _file_chip(f: rx.Var, removable: bool) -> rx.Component:
    return rx.el.li(
        rx.el.a(f["name"], href=f["href"], target="_blank", rel="noopener"),
        rx.el.span(" (", f["type"], ", ", f["size"], ")", class_name="vx-muted"),
        rx.el.button(
            "Remove", on_click=ChatState.remove_attachment(f["path"]), type="button",
            aria_label="Remove " + f["name"].to(str), class_name="vx-link-button",
        ) if removable else rx.fragment(),
    )


def pending_files() -> rx.Component:
    """The files waiting on the composer, and why any was refused."""
    return rx.el.div(
        rx.cond(
            ChatState.pending_files.length() > 0,
            rx.el.ul(
                rx.foreach(ChatState.pending_files, lambda f: _file_chip(f, True)),
                aria_label="Files to send", class_name="vx-list vx-attachments",
            ),
        ),
        rx.foreach(ChatState.attach_errors, lambda m: rx.el.p(m, role="alert", class_name="vx-error")),
        rx.cond(ChatState.attaching, rx.el.p("Attaching files…", role="status", class_name="vx-hint")),
    )


def message_files(m: rx.Var) -> rx.Component:
    """The files attached to a person's message, saved in the workspace's inbox/."""
    files = m["files"].to(list[dict[str, str]])
    return rx.cond(
        files.length() > 0,
        rx.el.ul(
            rx.foreach(files, lambda f: _file_chip(f, False)),
            aria_label="Attached files", class_name="vx-list vx-attachments",
        ),
    )
