"""Usage page: figures against limits, a daily chart, and the plans."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import empty_state, page_shell
from vopix.state.session import SessionState
from vopix.state.usage import UsageState as U


def _meter(label: str, used: rx.Var, limit: rx.Var, figure: rx.Var, meter_id: str) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.label(label, html_for=meter_id, class_name="vx-label"),
            rx.el.meter(
                id=meter_id, value=used, min=0, max=limit, low=limit * 0.8, high=limit * 0.99,
                optimum=0, class_name="vx-meter", aria_describedby=f"{meter_id}-figure",
            ),
            rx.el.p(figure, id=f"{meter_id}-figure", class_name="vx-stat-figure vx-num"),
            class_name="vx-field",
        ),
        class_name="vx-stat",
    )  # fmt: skip


_TOP = [3, 3, 0, 0]  # rounded top corners of a bar


def _chart() -> rx.Component:
    # Colours are the palette's CSS variables, so the chart follows the theme (SVG presentation
    # attributes and inline styles both resolve var()).
    # The chart is one image to assistive technology, named; the figure holds it and its caption
    # (role=img on the <figure> itself is not an allowed role there).
    return rx.el.figure(
        rx.el.div(rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="var(--vx-line)"),
            rx.recharts.x_axis(data_key="day", stroke="var(--vx-chart-text)"),
            rx.recharts.y_axis(allow_decimals=False, stroke="var(--vx-chart-text)", width=40),
            # Reflex's defaults name Radix colour variables this app does not define, which
            # leaves the hover band black over the bar: the palette's colours instead.
            rx.recharts.graphing_tooltip(
                cursor={"fill": "var(--vx-accent-soft)"},
                content_style={"background": "var(--vx-card)", "border": "1px solid var(--vx-line)",
                               "borderRadius": "6px", "color": "var(--vx-fg)"},
                label_style={"color": "var(--vx-fg)", "fontWeight": 600},
                item_style={"color": "var(--vx-fg)"},
            ),
            rx.recharts.legend(),
            rx.recharts.bar(data_key="messages", name="Messages", fill="var(--vx-accent)", radius=_TOP),
            # Dark enough (light enough, in the dark theme) for the legend text, which takes
            # the bar colour, to read on the card.
            rx.recharts.bar(data_key="api_calls", name="AI calls", fill="var(--vx-chart-bar-2)", radius=_TOP),
            data=U.days,
            width="100%",
            height=280,
        ), role="img", aria_label="Chart of daily messages and AI calls for the last 30 days"),
        rx.el.figcaption("Messages and AI calls per day, last 30 days (UTC)."),
        class_name="vx-chart",
    )  # fmt: skip


def _no_usage() -> rx.Component:
    return empty_state(
        "Nothing to chart yet",
        rx.el.p("Your daily messages and AI calls will appear here once you start talking to your agent."),
        rx.el.a("Send your first message", href="/chat", class_name="vx-button"),
    )


def usage_page() -> rx.Component:
    return page_shell(
        rx.el.section(
            rx.el.div(
                rx.el.h2("This month"),
                rx.el.span("Plan: ", rx.el.strong(U.plan_name), class_name="vx-badge vx-badge-muted"),
                class_name="vx-card-head",
            ),
            rx.el.div(
                _meter("Messages", U.messages_used, U.messages_limit, U.messages_figure, "meter-messages"),
                _meter("AI calls", U.calls_used, U.calls_limit, U.calls_figure, "meter-calls"),
                class_name="vx-stats",
            ),
            rx.el.p(U.tokens_figure, class_name="vx-tokens vx-num"),
            class_name="vx-card",
        ),
        rx.el.section(
            rx.el.h2("Daily usage"),
            rx.cond(U.has_daily_usage, _chart(), _no_usage()),
            class_name="vx-card",
        ),
        rx.el.section(
            rx.el.h2("Plans"),
            rx.el.p("You are on the ", rx.el.strong(U.plan_name),
                    " plan. Plans, upgrades and invoices are on the Billing page."),
            rx.el.a("See plans and billing", href="/billing", class_name="vx-button"),
            class_name="vx-card",
        ),
        title="Usage",
        lead="What you and your agent used this month, against your plan's limits.",
        active="/usage",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
