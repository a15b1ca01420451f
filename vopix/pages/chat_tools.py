"""A tool call in the chat, as a person would describe it: what it does ("Delete README.md?"
while it waits for them), its arguments as labelled fields, its state in words, and what came
of it. The rows come from vopix/state/chat_rows.tool_fields."""

from __future__ import annotations

import reflex as rx

from vopix.core.kinds import MessageStatus
from vopix.state.chat import ChatState


def _field(f: rx.Var) -> rx.Component:
    return rx.el.div(rx.el.dt(f["label"]), rx.el.dd(f["value"]), class_name="vx-tool-field")


def tool_message(m: rx.Var) -> rx.Component:
    waiting = m["status"] == MessageStatus.AWAITING_CONFIRMATION.value
    fields = m["fields"].to(list[dict[str, str]])
    return rx.el.div(
        rx.el.p(
            rx.el.strong(m["tool_title"], class_name="vx-tool-title"),
            rx.el.span(m["tool_state"], class_name="vx-badge vx-tool-" + m["tool_style"].to(str)),
            class_name="vx-tool-head",
        ),
        rx.cond(
            fields.length() > 0,
            rx.el.dl(rx.foreach(fields, _field), class_name="vx-tool-fields"),
        ),
        rx.cond(m["tool_note"] != "", rx.el.p(m["tool_note"], class_name="vx-tool-note")),
        rx.cond(
            m["tool_result"] != "",
            rx.el.details(
                rx.el.summary("Result"),
                rx.el.pre(m["tool_result"], class_name="vx-pre"),
                class_name="vx-tool-result",
            ),
        ),
        rx.cond(
            waiting,
            rx.el.div(
                rx.el.button(
                    "Confirm",
                    on_click=ChatState.answer_confirmation(m["id"], True),
                    type="button",
                    class_name="vx-danger",
                ),
                rx.el.button(
                    "Cancel",
                    on_click=ChatState.answer_confirmation(m["id"], False),
                    type="button",
                    class_name="vx-button-quiet",
                ),
                class_name="vx-row",
                role="group",
                aria_label=m["tool_title"],
            ),
        ),
        class_name="vx-tool",
    )
