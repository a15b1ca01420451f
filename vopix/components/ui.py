"""Accessible building blocks: every input has a real <label>, every button a name."""

from __future__ import annotations

from typing import Any

import reflex as rx

NAV_LINKS = [
    ("Chat", "/chat"),
    ("Agent", "/settings"),
    ("Workspace", "/workspace"),
    ("Usage", "/usage"),
    ("Channels", "/channels"),
    ("Account", "/account"),
]


def field(
    label: str | rx.Var, name: str, *, type_: str = "text", autocomplete: str = "", **props: Any
) -> rx.Component:
    field_id = props.pop("id", name.replace("_", "-"))
    return rx.el.div(
        rx.el.label(label, html_for=field_id, class_name="vx-label"),
        rx.el.input(
            id=field_id,
            name=name,
            type=type_,
            auto_complete=autocomplete or "off",
            class_name="vx-input",
            **props,
        ),
        class_name="vx-field",
    )


def checkbox(label: str, name: str, *, required: bool = False, **props: Any) -> rx.Component:
    field_id = props.pop("id", name.replace("_", "-"))
    return rx.el.div(
        rx.el.input(id=field_id, name=name, type="checkbox", required=required, **props),
        rx.el.label(label, html_for=field_id),
        class_name="vx-check",
    )


def alert(message: rx.Var | str, *, kind: str = "error") -> rx.Component:
    return rx.cond(
        message != "",
        rx.el.p(message, role="alert" if kind == "error" else "status", class_name=f"vx-{kind}"),
    )


def submit(label: str, busy: rx.Var | bool = False) -> rx.Component:
    return rx.el.button(label, type="submit", disabled=busy, class_name="vx-button")


def nav(on_log_out: Any, email: rx.Var | str) -> rx.Component:
    return rx.el.nav(
        rx.el.a("VOPIX", href="/", class_name="vx-brand"),
        *[rx.el.a(text, href=href, class_name="vx-navlink") for text, href in NAV_LINKS],
        rx.el.span(email, class_name="vx-email"),
        rx.el.button("Log out", on_click=on_log_out, type="button", class_name="vx-button-quiet"),
        aria_label="Main",
        class_name="vx-nav",
    )


def page_shell(
    *children: rx.Component, title: str, on_log_out: Any = None, email: Any = "", wide: bool = False
) -> rx.Component:
    header = [nav(on_log_out, email)] if on_log_out is not None else []
    return rx.el.div(
        *header,
        rx.el.main(rx.el.h1(title), *children, class_name="vx-main vx-wide" if wide else "vx-main"),
        class_name="vx-page",
    )


def confirm_action(
    *,
    asking: rx.Var,
    trigger: str,
    question: str,
    confirm: str,
    cancel: str,
    on_ask: Any,
    on_confirm: Any,
    on_cancel: Any,
    dialog_label: str,
) -> rx.Component:
    """A destructive action in two steps: the trigger button, then an inline question."""
    return rx.cond(
        asking,
        rx.el.div(
            rx.el.span(question),
            rx.el.button(confirm, on_click=on_confirm, type="button", class_name="vx-danger"),
            rx.el.button(cancel, on_click=on_cancel, type="button", class_name="vx-button-quiet"),
            role="alertdialog",
            aria_label=dialog_label,
            class_name="vx-row",
        ),
        rx.el.button(trigger, on_click=on_ask, type="button", class_name="vx-button-quiet"),
    )
