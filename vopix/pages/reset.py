"""Forgot password (/forgot), the reset link's page (/reset) and "this wasn't me" (/not-me)."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, field, form, submit
from vopix.pages.auth import _auth_page
from vopix.state.reset import ForgotState, NotMeState, ResetState


def _next(text: str, href: str) -> rx.Component:
    """What to do now: a link that looks like the page's button."""
    return rx.el.p(rx.el.a(text, href=href, class_name="vx-button"))


def _alt(text: str, href: str) -> rx.Component:
    return rx.el.p(rx.el.a(text, href=href), class_name="vx-auth-alt")


def forgot_page() -> rx.Component:
    return _auth_page(
        rx.el.h1("Reset your password"),
        rx.cond(
            ForgotState.answer != "",
            rx.fragment(
                rx.el.p(ForgotState.answer, role="status", class_name="vx-ok"),
                rx.el.p("No mail? Check the address and your spam folder, then ask again.",
                        class_name="vx-muted"),
            ),
            rx.fragment(
                rx.el.p("Enter the email address of your account: we will mail you a link to set a "
                        "new password.", class_name="vx-muted"),
                form(
                    field("Email", "email", type_="email", autocomplete="email", required=True),
                    alert(ForgotState.error),
                    submit("Send reset link", ForgotState.busy),
                    on_submit=ForgotState.request,
                    aria_label="Reset your password",
                ),
            ),
        ),
        _alt("Back to log in", "/login"),
    )


def _dead_link(problem: rx.Var, retry: str) -> rx.Component:
    """What a wrong, used or expired link shows: why, and the way to a new one."""
    return rx.fragment(
        rx.el.h1("This link does not work"),
        rx.el.p(problem, role="alert", class_name="vx-error"),
        _next(retry, "/forgot"),
        _alt("Log in", "/login"),
    )


def reset_page() -> rx.Component:
    return _auth_page(
        rx.cond(
            ResetState.problem != "",
            _dead_link(ResetState.problem, "Send a new link"),
            rx.cond(
                ResetState.done,
                rx.fragment(
                    rx.el.h1("Your password was changed"),
                    rx.el.p("Every session of your account was signed out. Log in with your new "
                            "password.", role="status", class_name="vx-ok"),
                    _next("Log in", "/login"),
                ),
                rx.cond(
                    ResetState.checked,
                    rx.fragment(
                        rx.el.h1("Set a new password"),
                        form(
                            field("New password", "password", type_="password",
                                  autocomplete="new-password", required=True, min_length=10,
                                  hint="At least 10 characters; avoid common passwords."),
                            field("Repeat the new password", "repeat", type_="password",
                                  autocomplete="new-password", required=True),
                            alert(ResetState.error),
                            submit("Set new password", ResetState.busy),
                            on_submit=ResetState.set_password,
                            aria_label="Set a new password",
                        ),
                    ),
                    rx.el.h1("Checking your link…"),
                ),
            ),
        ),
    )


def not_me_page() -> rx.Component:
    return _auth_page(
        rx.cond(
            NotMeState.problem != "",
            _dead_link(NotMeState.problem, "Reset my password"),
            rx.cond(
                NotMeState.done,
                rx.fragment(
                    rx.el.h1("Your account is signed out everywhere"),
                    rx.el.p("We signed out every session of your account and mailed a link to set "
                            "a new password to its address. The link works for 30 minutes.",
                            role="status", class_name="vx-ok"),
                    _next("Log in", "/login"),
                ),
                rx.cond(
                    NotMeState.checked,
                    rx.fragment(
                        rx.el.h1("Secure your account"),
                        rx.el.p("If you did not do what the security alert describes, someone else "
                                "may be using your account. This signs out every session of your "
                                "account and mails a link to set a new password to its address.",
                                class_name="vx-muted"),
                        rx.el.button("Sign out everywhere and reset my password", type="button",
                                     on_click=NotMeState.confirm, disabled=NotMeState.busy,
                                     class_name="vx-button"),
                    ),
                    rx.el.h1("Checking your link…"),
                ),
            ),
        ),
    )
