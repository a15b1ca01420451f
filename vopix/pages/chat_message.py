"""One message of the chat log and what can be done with it: copy it (and each code block),
edit one's own and resend it, regenerate the last answer, delete it (with Undo); its time
shows on hover or focus. The actions are in vopix/state/chat_actions.py; copying is done in
the browser by assets/chat.js (buttons with a data-copy attribute)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from vopix.components.ui import CODE_THEME, form
from vopix.core.kinds import MessageStatus
from vopix.pages.chat_attachments import message_files
from vopix.pages.chat_tools import tool_message
from vopix.state.chat import ChatState

EDIT_HINT = (
    "Resending replaces what followed: the messages after this one are deleted and the agent "
    "answers again."
)


def copy_button(text: rx.Var, what: str) -> rx.Component:
    """Copies `text`; says "Copied" for a moment (chat.js swaps the two labels)."""
    return rx.el.button(
        rx.el.span("Copy", custom_attrs={"data-copy-idle": ""}),
        rx.el.span("Copied", hidden=True, custom_attrs={"data-copy-done": ""}),
        type="button",
        aria_label=f"Copy {what}",
        class_name="vx-link-button vx-copy",
        custom_attrs={"data-copy": text, "data-copy-label": f"Copy {what}"},
    )


def _code_block(code: rx.Var, **props: Any) -> rx.Component:
    """A fenced code block of an answer, with its own Copy button."""
    return rx.el.div(
        copy_button(code, "code"),
        rx.code_block(code, theme=CODE_THEME, margin_y="0", wrap_long_lines=True, **props),
        class_name="vx-code",
    )


def _edit_form(m: rx.Var) -> rx.Component:
    asking = ChatState.resend_question != ""
    return form(
        rx.el.label("Edit your message", html_for="edit-message", class_name="vx-label"),
        rx.el.textarea(
            id="edit-message",
            name="text",
            default_value=m["content"],
            rows=3,
            auto_focus=True,
            aria_describedby="edit-message-hint",
            class_name="vx-input vx-edit-text",
        ),
        rx.el.p(EDIT_HINT, id="edit-message-hint", class_name="vx-hint"),
        rx.cond(
            asking,
            rx.el.div(
                rx.el.span(ChatState.resend_question, class_name="vx-confirm-question"),
                rx.el.div(
                    rx.el.button(
                        "Delete them and resend", on_click=ChatState.confirm_resend, type="button",
                        class_name="vx-danger",
                    ),
                    rx.el.button(
                        "Keep editing", on_click=ChatState.keep_editing, type="button",
                        class_name="vx-button-quiet",
                    ),
                    class_name="vx-row",
                ),
                role="alertdialog",
                aria_label="Confirm resending the edited message",
                class_name="vx-confirm",
            ),
            rx.el.div(
                rx.el.button("Resend", type="submit", class_name="vx-button"),
                rx.el.button(
                    "Cancel", on_click=ChatState.cancel_edit, type="button", class_name="vx-button-quiet"
                ),
                class_name="vx-row",
            ),
        ),
        on_submit=ChatState.ask_resend,
        aria_label="Edit message",
        class_name="vx-edit",
    )


def _body(m: rx.Var) -> rx.Component:
    return rx.match(
        m["role"],
        (
            "user",
            rx.cond(
                (m["id"] != "") & (m["id"] == ChatState.editing_id),
                _edit_form(m),
                rx.fragment(
                    rx.cond(m["text"] != "", rx.el.p(m["text"], class_name="vx-user-text")),
                    message_files(m),
                ),
            ),
        ),
        ("assistant", rx.markdown(m["content"], use_raw=False, component_map={"pre": _code_block})),
        ("tool", tool_message(m)),
        rx.el.div(
            rx.el.p(m["content"]),
            rx.cond(
                m["content"].to(str).contains("/settings"), rx.el.a("Open Agent settings", href="/settings")
            ),
            role="note",
        ),
    )


def _actions(m: rx.Var) -> rx.Component:
    settled = (m["id"] != "") & (m["status"] != MessageStatus.STREAMING.value)
    role = m["role"]
    quiet = "vx-link-button"
    return rx.cond(
        settled & (m["id"] != ChatState.editing_id),
        rx.el.div(
            rx.cond((role == "user") | (role == "assistant"), copy_button(m["content"], "message")),
            rx.cond(
                (role == "user") & ~ChatState.streaming,
                rx.el.button(
                    "Edit", on_click=ChatState.start_edit(m["id"]), type="button",
                    aria_label="Edit message", class_name=quiet,
                ),
            ),
            rx.cond(
                m["id"] == ChatState.regenerable_id,
                rx.cond(
                    m["status"] == MessageStatus.INTERRUPTED.value,
                    # Cut off (its instance died): the same turn again, for the same message.
                    rx.el.button(
                        "Retry", on_click=ChatState.regenerate, type="button",
                        class_name="vx-button-quiet vx-button-small",
                    ),
                    rx.el.button(
                        "Regenerate", on_click=ChatState.regenerate, type="button",
                        aria_label="Regenerate the answer", class_name=quiet,
                    ),
                ),
            ),
            rx.el.button(
                "Delete", on_click=ChatState.delete_message(m["id"]), type="button",
                aria_label="Delete message", class_name=quiet,
            ),
            role="group",
            aria_label="Message actions",
            class_name="vx-msg-actions",
        ),
    )


def message(m: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.el.header(
            rx.el.span(
                rx.match(
                    m["role"],
                    ("user", "You"),
                    ("assistant", ChatState.agent_name),
                    ("tool", "Action"),
                    "Notice",
                ),
                class_name="vx-who",
            ),
            rx.cond(m["channel"] != "", rx.el.span(m["channel"], class_name="vx-badge")),
            rx.cond(
                m["status"] == MessageStatus.STOPPED.value,
                rx.el.span("stopped", class_name="vx-badge vx-badge-muted"),
            ),
            rx.cond(
                m["status"] == MessageStatus.INTERRUPTED.value,
                rx.el.span("interrupted", class_name="vx-badge vx-badge-muted",
                           title="The reply was cut off before it finished."),
            ),
            # Shown on hover, and on focus of any of the message's buttons (CSS).
            rx.cond(m["time"] != "", rx.el.time(m["time"], date_time=m["iso"], class_name="vx-msg-time")),
            class_name="vx-msg-head",
        ),
        rx.el.div(_body(m), class_name="vx-msg-body"),
        _actions(m),
        class_name=rx.cond(
            (m["id"] != "") & (m["id"] == ChatState.focus_id),
            "vx-msg vx-msg-hit vx-msg-" + m["role"].to(str),
            "vx-msg vx-msg-" + m["role"].to(str),
        ),
        aria_busy=m["status"] == MessageStatus.STREAMING.value,
        # chat.js scrolls the message a search hit opened (the log's data-focus) into view.
        custom_attrs={"data-message-id": m["id"]},
    )


def undo_toast() -> rx.Component:
    """After a deletion, for a few seconds: what was deleted, and Undo."""
    count = ChatState.undo_count
    return rx.el.div(
        rx.cond(
            count > 0,
            rx.el.div(
                rx.el.span(
                    rx.cond(count == 1, "Message deleted.", count.to_string() + " messages deleted.")
                ),
                rx.el.button(
                    "Undo", on_click=ChatState.undo_delete, type="button",
                    class_name="vx-button-quiet vx-button-small",
                ),
                class_name="vx-toast",
            ),
        ),
        role="status",
        aria_label="Deleted messages",
    )


def copy_status() -> rx.Component:
    """Where chat.js says "Copied to the clipboard" for screen readers."""
    return rx.el.p(id="copy-status", role="status", class_name="vx-sr-only")
