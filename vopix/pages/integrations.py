"""Integrations page: the services, what the agent may do with each, connect and disconnect, and
the activity log of every call the agent made with them."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, empty_state, form, page_shell
from vopix.state.integrations import IntegrationsState as S
from vopix.state.session import SessionState


def _paste_form(c: rx.Var) -> rx.Component:
    field_id = "token-" + c["id"]
    return form(
        rx.el.input(type="hidden", name="service", value=c["id"]),
        rx.el.div(
            rx.el.label(c["paste"], html_for=field_id, class_name="vx-label"),
            rx.el.input(id=field_id, name="token", type="password", auto_complete="off", required=True,
                        class_name="vx-input", aria_describedby=field_id + "-hint"),
            rx.el.p(c["paste_hint"], id=field_id + "-hint", class_name="vx-hint"),
            class_name="vx-field",
        ),
        rx.el.button("Connect " + c["label"] + " with this token", type="submit", class_name="vx-button"),
        on_submit=S.paste_token,
        aria_label="Connect " + c["label"] + " with a token",
    )


def _connect(c: rx.Var, *, again: bool = False) -> rx.Component:
    return rx.cond(
        c["oauth"] == "yes",
        rx.el.button(("Reconnect " if again else "Connect ") + c["label"], type="button",
                     on_click=S.connect(c["id"]),
                     auto_focus=S.focus_service == c["id"], class_name="vx-button"),
        rx.cond(c["paste"] != "", _paste_form(c),
                rx.el.p("Not offered on this server.", class_name="vx-muted")),
    )


def _disconnect(c: rx.Var) -> rx.Component:
    return rx.cond(
        S.asking_disconnect == c["id"],
        rx.el.div(
            rx.el.span(c["disconnect_question"], class_name="vx-confirm-question"),
            rx.el.div(
                rx.el.button("Disconnect", type="button", on_click=S.confirm_disconnect,
                             class_name="vx-danger"),
                rx.el.button("Keep it", type="button", on_click=S.keep_connection, auto_focus=True,
                             class_name="vx-button-quiet"),
                class_name="vx-row",
            ),
            role="alertdialog", aria_label="Disconnect " + c["label"], class_name="vx-confirm",
        ),
        rx.el.button("Disconnect " + c["label"], type="button", on_click=S.ask_disconnect(c["id"]),
                     auto_focus=S.focus_service == c["id"],
                     class_name="vx-button-quiet vx-button-danger-quiet"),
    )


def _card(c: rx.Var) -> rx.Component:
    return rx.el.section(
        rx.el.div(rx.el.h2(c["label"], id="svc-" + c["id"]),
                  rx.el.span(c["state"], class_name="vx-badge vx-badge-muted"), class_name="vx-card-head"),
        rx.el.p("What your agent may do with it:", class_name="vx-muted"),
        rx.el.ul(rx.foreach(S.abilities[c["id"]], lambda line: rx.el.li(line)),
                 aria_label="What the agent may do with " + c["label"]),
        rx.cond(c["hint"] != "", rx.el.p(c["hint"], class_name="vx-hint")),
        rx.cond(c["problem"] != "", rx.el.p(c["problem"], class_name="vx-info")),
        rx.cond(
            c["offered"] == "yes",
            rx.cond(
                c["connected"] == "yes",
                rx.el.div(rx.cond(c["needs_reconnect"] == "yes", _connect(c, again=True)), _disconnect(c),
                          class_name="vx-row"),
                _connect(c),
            ),
        ),
        class_name="vx-card", aria_labelledby="svc-" + c["id"],
    )


def _cell(value: rx.Var, label: str, **props: str) -> rx.Component:
    # On a phone the table stacks into one card per call: data-label names each value there.
    return rx.el.td(value, custom_attrs={"data-label": label}, **props)


def _log() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Activity", id="activity"),
            rx.el.div(
                rx.el.label("Service", html_for="log-service", class_name="vx-label"),
                rx.el.select(
                    rx.el.option("All services", value=""), rx.el.option("GitHub", value="github"),
                    rx.el.option("Slack", value="slack"), rx.el.option("Gmail", value="google"),
                    id="log-service", value=S.log_service, on_change=S.filter_log, class_name="vx-select",
                ),
                class_name="vx-field vx-inline-field",
            ),
            class_name="vx-card-head",
        ),
        rx.el.p("Every call your agent made with a connected service, newest first.", class_name="vx-muted"),
        rx.cond(
            S.log.length() > 0,
            rx.el.div(rx.el.table(
                rx.el.thead(rx.el.tr(
                    rx.el.th("When", scope="col"), rx.el.th("Service", scope="col"),
                    rx.el.th("What", scope="col"),
                    rx.el.th("Asked in", scope="col"), rx.el.th("Outcome", scope="col"),
                )),
                rx.el.tbody(rx.foreach(S.log, lambda a: rx.el.tr(
                    _cell(a["when"], "When", class_name="vx-num"), _cell(a["service"], "Service"),
                    _cell(a["action"], "What"), _cell(a["where"], "Asked in"), _cell(a["outcome"], "Outcome"),
                ))),
                class_name="vx-table vx-table-stack", aria_label="Activity log",
            ), class_name="vx-table-wrap"),
            empty_state("Nothing yet", rx.el.p(rx.cond(
                S.log_service != "",
                "Your agent has not used this service. Choose “All services” to see every call.",
                "When your agent uses a connected service, each call is listed here.")), small=True),
        ),
        rx.cond(S.log_more, rx.el.button("Show older", type="button", on_click=S.older_log,
                                         class_name="vx-button-quiet")),
        class_name="vx-card", aria_labelledby="activity",
    )


def integrations_page() -> rx.Component:
    return page_shell(
        alert(S.error),
        alert(S.message, kind="ok"),
        rx.foreach(S.cards, _card),
        _log(),
        title="Integrations",
        lead="Connect the services your agent may act in for you. Tokens are kept encrypted and used only "
             "for what you or your agent ask.",
        active="/integrations",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )  # fmt: skip
