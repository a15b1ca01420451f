"""Channels page: connect Telegram (deep link and QR code) and WhatsApp (LINK code)."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, page_shell
from vopix.state.channels import ChannelsState as C
from vopix.state.session import SessionState


def _head(title: str, enabled: rx.Var, linked: rx.Var) -> rx.Component:
    return rx.el.div(
        rx.el.h2(title),
        rx.cond(
            enabled,
            rx.cond(
                linked,
                rx.el.span("Linked", class_name="vx-badge vx-badge-ok"),
                rx.el.span("Not linked", class_name="vx-badge vx-badge-muted"),
            ),
            rx.el.span("Unavailable", class_name="vx-badge vx-badge-muted"),
        ),
        class_name="vx-card-head",
    )


def _linked(name: rx.Var, since: rx.Var, channel: str, label: str) -> rx.Component:
    return rx.el.div(
        rx.el.p("Linked to ", rx.el.strong(name), " since ", since, "."),
        rx.el.button(
            f"Unlink {label}", on_click=C.unlink(channel), type="button",
            class_name="vx-button-quiet vx-button-danger-quiet",
        ),
    )


def _telegram() -> rx.Component:
    connect = rx.el.div(
        rx.el.p("Talk to your agent from Telegram, with the same history as here."),
        rx.el.button("Connect Telegram", on_click=C.connect_telegram, type="button", class_name="vx-button"),
        rx.cond(
            C.telegram_link != "",
            rx.el.div(
                rx.el.p(
                    "Open this link on the device where Telegram is installed and press Start: ",
                    rx.el.a(
                        C.telegram_link, href=C.telegram_link, target="_blank", rel="noopener noreferrer",
                        aria_label="Open the Telegram link", class_name="vx-linkbox",
                    ),
                ),
                rx.el.img(
                    src=C.telegram_qr, alt="QR code of the Telegram link", width="220", height="220",
                    class_name="vx-qr",
                ),
                rx.el.p("Or scan the code with your phone. It works once, until ", C.code_expires, ".",
                        class_name="vx-muted"),
                rx.cond(C.waiting, rx.el.p("Waiting for Telegram…", role="status", class_name="vx-muted")),
            ),
        ),
    )
    return rx.el.section(
        _head("Telegram", C.telegram_enabled, C.telegram_linked),
        rx.cond(
            C.telegram_enabled,
            rx.cond(
                C.telegram_linked, _linked(C.telegram_name, C.telegram_since, "telegram", "Telegram"), connect
            ),
            rx.el.p(
                "Telegram is not set up on this server yet. Once the operator adds a bot, you can "
                "connect it here.",
                class_name="vx-muted",
            ),
        ),
        class_name="vx-card vx-channel",
        aria_label="Telegram",
    )


def _whatsapp() -> rx.Component:
    connect = rx.el.div(
        rx.el.p("Talk to your agent from WhatsApp, with the same history as here."),
        rx.el.button("Connect WhatsApp", on_click=C.connect_whatsapp, type="button", class_name="vx-button"),
        rx.cond(
            C.whatsapp_code != "",
            rx.el.div(
                rx.el.p(
                    "From your WhatsApp, send ", rx.el.strong("LINK " + C.whatsapp_code),
                    " to ", rx.el.strong(C.whatsapp_number), ".",
                ),
                rx.cond(
                    C.whatsapp_chat_link != "",
                    rx.el.p(rx.el.a("Open WhatsApp with the message ready", href=C.whatsapp_chat_link,
                                    target="_blank", rel="noopener noreferrer")),
                ),
                rx.el.p("The code works once, until ", C.code_expires, ".", class_name="vx-muted"),
                rx.cond(C.waiting, rx.el.p("Waiting for WhatsApp…", role="status", class_name="vx-muted")),
            ),
        ),
    )
    linked = rx.el.div(
        _linked(C.whatsapp_name, C.whatsapp_since, "whatsapp", "WhatsApp"),
        rx.el.p(
            "Reply window: ", C.whatsapp_window, ". WhatsApp lets your agent reply freely for 24 hours "
            "after your last message; after that only a short template message can be sent, and the "
            "reply waits here.",
            class_name="vx-muted",
        ),
    )
    return rx.el.section(
        _head("WhatsApp", C.whatsapp_enabled, C.whatsapp_linked),
        rx.cond(
            C.whatsapp_enabled,
            rx.cond(C.whatsapp_linked, linked, connect),
            rx.el.p(
                "WhatsApp is not set up on this server yet. Once the operator adds a number, you can "
                "connect it here.",
                class_name="vx-muted",
            ),
        ),
        class_name="vx-card vx-channel",
        aria_label="WhatsApp",
    )


def _notice(n: rx.Var) -> rx.Component:
    return rx.el.div(
        rx.el.p(n["time"], ": ", n["text"]),
        rx.el.button(
            "Dismiss", on_click=C.dismiss(n["id"]), type="button", class_name="vx-link-button",
            aria_label="Dismiss notice",
        ),
        class_name="vx-notice",
        role="status",
    )


def channels_page() -> rx.Component:
    return page_shell(
        alert(C.error),
        alert(C.message, kind="ok"),
        rx.foreach(C.notices, _notice),
        _telegram(),
        _whatsapp(),
        title="Channels",
        lead="Talk to your agent from Telegram and WhatsApp. Every channel shares one history.",
        active="/channels",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
