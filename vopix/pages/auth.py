"""Sign-up and login pages."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, checkbox, field, form, live_marker, submit, theme_toggle
from vopix.state.auth import AuthFormState


def _auth_page(*children: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.header(
            rx.el.a("VOPIX", href="/", class_name="vx-auth-brand", aria_label="VOPIX home"),
            theme_toggle(),
            class_name="vx-auth-head",
        ),
        rx.el.main(*children, class_name="vx-auth vx-card"),
        class_name="vx-auth-page",
        custom_attrs=live_marker(),
    )


def signup_page() -> rx.Component:
    return _auth_page(
        rx.el.h1("Create your VOPIX account"),
        rx.el.p("Your own AI agent on the web, Telegram and WhatsApp.", class_name="vx-muted"),
        form(
            field("Email", "email", type_="email", autocomplete="email", required=True, auto_focus=True),
            field(
                "Password",
                "password",
                type_="password",
                autocomplete="new-password",
                required=True,
                min_length=10,
                hint="At least 10 characters; avoid common passwords.",
            ),
            checkbox("I confirm that I am 16 or older", "age_confirmed", required=True),
            checkbox("Email me product news (optional, you can stop any time)", "marketing_opt_in"),
            alert(AuthFormState.error),
            submit("Create account", AuthFormState.busy),
            on_submit=AuthFormState.sign_up,
            aria_label="Sign up",
        ),
        rx.el.p("Already have an account? ", rx.el.a("Log in", href="/login"), class_name="vx-auth-alt"),
    )


def login_page() -> rx.Component:
    return _auth_page(
        rx.el.h1("Log in to VOPIX"),
        rx.el.p("Welcome back: pick up where you left off.", class_name="vx-muted"),
        form(
            field("Email", "email", type_="email", autocomplete="username", required=True, auto_focus=True),
            field("Password", "password", type_="password", autocomplete="current-password", required=True),
            alert(AuthFormState.error),
            submit("Log in", AuthFormState.busy),
            on_submit=AuthFormState.log_in,
            aria_label="Log in",
        ),
        rx.el.p(rx.el.a("Forgot password?", href="/forgot")),
        rx.el.p("New here? ", rx.el.a("Create an account", href="/signup"), class_name="vx-auth-alt"),
    )
