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
MAIN_ID = "main"


def form(*children: Any, **props: Any) -> rx.Component:
    """A form handled by its on_submit event. method=post: a submit before the page has
    loaded its scripts (the browser's own submit) must not put the fields, passwords among
    them, into the URL, the history and every log on the way."""
    return rx.el.form(*children, method="post", **props)


def field(
    label: str | rx.Var,
    name: str,
    *,
    type_: str = "text",
    autocomplete: str = "",
    hint: str = "",
    **props: Any,
) -> rx.Component:
    """A labelled input; `hint` is shown under it and tied to it with aria-describedby."""
    field_id = props.pop("id", name.replace("_", "-"))
    hint_id = f"{field_id}-hint"
    if hint:
        props["aria_describedby"] = hint_id
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
        *([rx.el.p(hint, id=hint_id, class_name="vx-hint")] if hint else []),
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


def empty_state(title: str | rx.Var, *body: Any, small: bool = False) -> rx.Component:
    """What a part of a page says before there is anything in it."""
    return rx.el.div(
        rx.el.p(title, class_name="vx-empty-title"),
        *body,
        class_name="vx-empty vx-empty-small" if small else "vx-empty",
    )


def _nav_link(text: str, href: str, active: str) -> rx.Component:
    current = {"aria_current": "page"} if href == active else {}
    return rx.el.li(rx.el.a(text, href=href, class_name="vx-navlink", **current))


def nav(on_log_out: Any, email: rx.Var | str, active: str = "") -> rx.Component:
    return rx.el.nav(
        rx.el.a("VOPIX", href="/", class_name="vx-brand", aria_label="VOPIX home"),
        rx.el.ul(*[_nav_link(text, href, active) for text, href in NAV_LINKS], class_name="vx-navlinks"),
        rx.el.div(
            rx.el.span(email, class_name="vx-email", title=email),
            rx.el.button("Log out", on_click=on_log_out, type="button", class_name="vx-button-quiet"),
            class_name="vx-user",
        ),
        aria_label="Main",
        class_name="vx-nav",
    )


def page_shell(
    *children: rx.Component,
    title: str,
    on_log_out: Any = None,
    email: Any = "",
    wide: bool = False,
    active: str = "",
    lead: str = "",
) -> rx.Component:
    """A signed-in page: skip link, the main navigation (the current page marked with
    aria-current), then <main> with the page's one <h1>."""
    header = (
        [
            # Following #main scrolls but leaves focus on the link: move it, so the next Tab
            # starts inside the page's content.
            rx.el.a(
                "Skip to content",
                href=f"#{MAIN_ID}",
                on_click=rx.call_script(f"document.getElementById('{MAIN_ID}')?.focus()"),
                class_name="vx-skip",
            ),
            rx.el.header(nav(on_log_out, email, active), class_name="vx-header"),
        ]
        if on_log_out is not None
        else []
    )
    head = rx.el.div(
        rx.el.h1(title),
        *([rx.el.p(lead, class_name="vx-lead")] if lead else []),
        class_name="vx-page-head",
    )
    return rx.el.div(
        *header,
        rx.el.main(
            head,
            *children,
            id=MAIN_ID,
            tab_index=-1,
            class_name="vx-main vx-wide" if wide else "vx-main",
        ),
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
            rx.el.span(question, class_name="vx-confirm-question"),
            rx.el.div(
                rx.el.button(confirm, on_click=on_confirm, type="button", class_name="vx-danger"),
                rx.el.button(cancel, on_click=on_cancel, type="button", class_name="vx-button-quiet"),
                class_name="vx-row",
            ),
            role="alertdialog",
            aria_label=dialog_label,
            class_name="vx-confirm",
        ),
        rx.el.button(
            trigger, on_click=on_ask, type="button", class_name="vx-button-quiet vx-button-danger-quiet"
        ),
    )
