"""What VOPIX is, for people who are not logged in: what it does, the plans, sign up or log in."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import live_marker, theme_toggle
from vopix.state.landing import LandingState as L

FEATURES = (
    ("An agent that is yours", "Give it a name, a personality, a language and your time zone, and "
     "choose the AI provider it runs on: ours, any OpenAI-compatible API or Anthropic, with your "
     "own key if you like."),
    ("One conversation everywhere", "Talk to it on the web, on Telegram and on WhatsApp: one "
     "history across all three."),
    ("A private workspace", "Your agent works from your files: skills, documents and scripts, "
     "which it reads and writes with your say-so."),
    ("Private by design", "Your messages go only to the provider you chose and are never used to "
     "train models. Keys are encrypted (AES-256-GCM), access logs are kept 30 days and no longer, "
     "and payments go through Stripe: we never see your card."),
)


def _feature(title: str, text: str) -> rx.Component:
    return rx.el.li(rx.el.h3(title), rx.el.p(text), class_name="vx-landing-feature")


def _plan(p: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(p["name"]),
        rx.el.p(rx.el.strong(p["price"]), class_name="vx-landing-price"),
        rx.el.ul(rx.el.li(p["messages"], " a month"), rx.el.li(p["calls"], " a month"),
                 rx.el.li(p["storage"], " of storage")),
        class_name="vx-landing-plan vx-card",
    )


def landing_page() -> rx.Component:
    return rx.el.div(
        rx.el.header(
            rx.el.a("VOPIX", href="/", class_name="vx-auth-brand", aria_label="VOPIX home"),
            rx.el.nav(
                theme_toggle(),
                rx.el.a("Log in", href="/login", class_name="vx-button-quiet"),
                rx.el.a("Sign up", href="/signup", class_name="vx-button"),
                aria_label="Account", class_name="vx-row vx-landing-nav",
            ),
            class_name="vx-landing-header",
        ),
        rx.el.main(
            rx.el.section(
                rx.el.h1("Your own AI agent, on the web, Telegram and WhatsApp", id="landing-title"),
                rx.el.p("VOPIX is a personal agent you shape and talk to wherever you are. It keeps "
                        "one history across your channels and works from your own files.",
                        class_name="vx-lead"),
                rx.el.div(
                    rx.el.a("Create your agent", href="/signup", class_name="vx-button"),
                    rx.el.a("I have an account", href="/login", class_name="vx-button-quiet"),
                    class_name="vx-row",
                ),
                class_name="vx-landing-hero",
                aria_labelledby="landing-title",
            ),
            rx.el.section(
                rx.el.h2("What it does", id="what"),
                rx.el.ul(*[_feature(t, x) for t, x in FEATURES], class_name="vx-landing-features"),
                aria_labelledby="what",
            ),
            rx.el.section(
                rx.el.h2("Plans", id="plans"),
                rx.el.ul(rx.foreach(L.plans, _plan), class_name="vx-landing-plans"),
                rx.el.p("Start free; upgrade or cancel any time from the Billing page.",
                        class_name="vx-muted"),
                aria_labelledby="plans",
            ),
            id="main",
            class_name="vx-main vx-landing",
        ),
        class_name="vx-page",
        custom_attrs=live_marker(),
    )  # fmt: skip
