"""Accessible building blocks: every input has a real <label>, every button a name."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.style import resolved_color_mode, toggle_color_mode
from reflex_components_code.code import construct_theme_var

from vopix.components.policy_banner import policy_banner

NAV_LINKS = [
    ("Chat", "/chat"),
    ("Tasks", "/tasks"),
    ("Agent", "/settings"),
    ("Workspace", "/workspace"),
    ("Usage", "/usage"),
    ("Billing", "/billing"),
    ("Channels", "/channels"),
    ("Integrations", "/integrations"),
    ("Account", "/account"),
    ("Privacy", "/privacy"),
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
    hint: str | rx.Var = "",
    **props: Any,
) -> rx.Component:
    """A labelled input; `hint` (text, or a state var that follows the form) is shown under it
    and tied to it with aria-describedby."""
    field_id = props.pop("id", name.replace("_", "-"))
    hint_id = f"{field_id}-hint"
    has_hint = isinstance(hint, rx.Var) or bool(hint)
    if has_hint:
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
        *([rx.el.p(hint, id=hint_id, class_name="vx-hint")] if has_hint else []),
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
    """A form's submit button, disabled while `busy` and until the page is hydrated: a click
    before the app's handlers are live would post the form natively, reload the page and lose
    what was typed (seen on a slow machine right after following a link)."""
    not_ready = ~rx.State.is_hydrated
    disabled = not_ready if isinstance(busy, bool) and not busy else (busy | not_ready)
    return rx.el.button(label, type="submit", disabled=disabled, class_name="vx-button")


def empty_state(title: str | rx.Var, *body: Any, small: bool = False) -> rx.Component:
    """What a part of a page says before there is anything in it."""
    return rx.el.div(
        rx.el.p(title, class_name="vx-empty-title"),
        *body,
        class_name="vx-empty vx-empty-small" if small else "vx-empty",
    )


# Syntax colours of code blocks: Prism's accessible themes, every token colour at 4.5:1 or more
# on its background (Reflex's default one-light and one-dark have tokens near 2.5-3:1). Reflex
# switches them with the colour mode.
CODE_THEME = rx.color_mode_cond(
    light=construct_theme_var("a11yOneLight"), dark=rx.code_block.themes.a11y_dark
)


def markdown_code_block(code: rx.Var, **props: Any) -> rx.Component:
    """A fenced code block in rendered markdown (component_map={"pre": ...}), readable in both
    themes."""
    return rx.code_block(code, theme=CODE_THEME, margin_y="1em", wrap_long_lines=True, **props)


# A crescent moon (Feather's "moon"), drawn in the button's text colour.
_MOON = "M21 12.79A9 9 0 1 1 11.21 3 7 7 0 0 0 21 12.79z"


def theme_toggle() -> rx.Component:
    """The theme switch: one toggle button named "Dark theme", pressed while the dark theme
    shows. Reflex keeps the choice (localStorage "theme") and puts class "dark" or "light" on
    <html> before the first paint; with no choice made the system setting decides, live."""
    dark = resolved_color_mode == "dark"
    return rx.el.button(
        rx.el.svg(
            rx.el.path(d=_MOON),
            view_box="0 0 24 24", width="18", height="18", fill="none", stroke="currentColor",
            stroke_width="2", stroke_linecap="round", stroke_linejoin="round",
            aria_hidden="true", focusable="false",
        ),
        rx.el.span("Dark theme", class_name="vx-theme-label"),
        on_click=toggle_color_mode,
        type="button",
        aria_pressed=rx.cond(dark, "true", "false"),
        title="Dark theme",
        class_name="vx-button-quiet vx-theme-toggle",
    )  # fmt: skip


# Three lines (Feather's "menu"), drawn in the button's text colour.
_BARS = "M3 6h18M3 12h18M3 18h18"
NAV_MENU_ID = "nav-menu"
NAV_MORE_ID = "nav-more-list"


def _nav_link(text: str, href: str, active: str, hidden: bool = False) -> rx.Component:
    current = {"aria_current": "page"} if href == active else {}
    return rx.el.li(
        rx.el.a(text, href=href, class_name="vx-navlink", **current),
        hidden=hidden,
        custom_attrs={"data-href": href},
    )


def _icon(path: str) -> rx.Component:
    return rx.el.svg(
        rx.el.path(d=path),
        view_box="0 0 24 24", width="18", height="18", fill="none", stroke="currentColor",
        stroke_width="2", stroke_linecap="round", stroke_linejoin="round",
        aria_hidden="true", focusable="false",
    )  # fmt: skip


def nav(on_log_out: Any, email: rx.Var | str, active: str = "") -> rx.Component:
    """The main navigation, always one row. On narrow screens (900px and less) a Menu button
    opens the destinations as a panel under the bar; on wider ones they sit in the row, and
    the ones that do not fit move into a More menu (nav.js measures; with scripts off every
    destination stays in the row). The email shows in the bar, on phones inside the panel."""
    return rx.el.nav(
        rx.el.a("VOPIX", href="/", class_name="vx-brand", aria_label="VOPIX home"),
        rx.el.button(
            _icon(_BARS),
            rx.el.span("Menu"),
            type="button",
            id="nav-menu-button",
            aria_expanded="false",
            aria_controls=NAV_MENU_ID,
            class_name="vx-button-quiet vx-nav-toggle",
        ),
        rx.el.div(
            rx.el.p(email, class_name="vx-nav-who"),
            rx.el.ul(*[_nav_link(text, href, active) for text, href in NAV_LINKS], class_name="vx-navlinks"),
            id=NAV_MENU_ID,
            class_name="vx-navmenu",
        ),
        rx.el.div(
            rx.el.button(
                "More",
                type="button",
                id="nav-more-button",
                aria_expanded="false",
                aria_controls=NAV_MORE_ID,
                class_name="vx-navlink vx-nav-more-button",
            ),
            rx.el.ul(
                *[_nav_link(text, href, active, hidden=True) for text, href in NAV_LINKS],
                id=NAV_MORE_ID,
                hidden=True,
                class_name="vx-nav-more-list",
            ),
            hidden=True,
            class_name="vx-nav-more",
        ),
        rx.el.div(
            rx.el.span(email, class_name="vx-email", title=email),
            theme_toggle(),
            rx.el.button("Log out", on_click=on_log_out, type="button", class_name="vx-button-quiet"),
            class_name="vx-user",
        ),
        rx.script(src="/nav.js"),
        aria_label="Main",
        class_name="vx-nav",
    )


def live_marker() -> dict[str, Any]:
    """custom_attrs for a page's outer element: data-live="1" once the app is live on it (its
    handlers attached, its on_load done). Browser tests wait for it before acting: a click on
    the prerendered page before that does nothing, and what is typed may be wiped at boot."""
    return {"data-live": rx.cond(rx.State.is_hydrated, "1", "0")}


def page_shell(
    *children: rx.Component,
    title: str,
    on_log_out: Any = None,
    email: Any = "",
    wide: bool = False,
    active: str = "",
    lead: str = "",
    fill: bool = False,
) -> rx.Component:
    """A signed-in page: skip link, the main navigation (the current page marked with
    aria-current), then <main> with the page's one <h1>. `fill`: the page is exactly the
    window's height and its content scrolls inside (the chat); its <h1> is for screen readers
    only (the navigation shows where one is)."""
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
            *([policy_banner()] if on_log_out is not None else []),  # P34: until dismissed
            head,
            *children,
            id=MAIN_ID,
            tab_index=-1,
            class_name="vx-main vx-wide" if wide else "vx-main",
        ),
        class_name="vx-page vx-page-fill" if fill else "vx-page",
        custom_attrs=live_marker(),
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
