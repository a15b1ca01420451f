"""Usage page: figures against limits, a daily chart, and the plans."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import page_shell
from vopix.state.session import SessionState
from vopix.state.usage import UsageState as U


def _meter(label: str, used: rx.Var, limit: rx.Var, pct: rx.Var, meter_id: str) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=meter_id, class_name="vx-label"),
        rx.el.meter(id=meter_id, value=used, min=0, max=limit, high=limit * 0.8, class_name="vx-meter"),
        rx.el.p(used.to(str) + " of " + limit.to(str) + " used (" + pct.to(str) + "%)"),
        class_name="vx-field",
    )


def _chart() -> rx.Component:
    return rx.el.figure(
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(allow_decimals=False),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            rx.recharts.bar(data_key="messages", name="Messages", fill="#3b5bdb"),
            rx.recharts.bar(data_key="api_calls", name="AI calls", fill="#12b76a"),
            data=U.days,
            width="100%",
            height=280,
        ),
        rx.el.figcaption("Messages and AI calls per day, last 30 days (UTC)."),
        role="img",
        aria_label="Chart of daily messages and AI calls for the last 30 days",
    )


def usage_page() -> rx.Component:
    return page_shell(
        rx.el.section(
            rx.el.h2("This month"),
            rx.el.p("Plan: ", rx.el.strong(U.plan_name)),
            _meter("Messages", U.messages_used, U.messages_limit, U.messages_pct, "meter-messages"),
            _meter("AI calls", U.calls_used, U.calls_limit, U.calls_pct, "meter-calls"),
            rx.el.p("Tokens: ", U.input_tokens.to(str), " in, ", U.output_tokens.to(str), " out."),
            class_name="vx-card",
        ),
        rx.el.section(rx.el.h2("Daily usage"), _chart(), class_name="vx-card"),
        rx.el.section(
            rx.el.h2("Plans", id="plans"),
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th("Plan"),
                        rx.el.th("Messages / month"),
                        rx.el.th("AI calls / month"),
                        rx.el.th("Storage"),
                        rx.el.th("Price"),
                    )
                ),
                rx.el.tbody(
                    rx.foreach(
                        U.plans,
                        lambda p: rx.el.tr(
                            rx.el.td(p["name"], rx.cond(p["current"] == "yes", " (your plan)", "")),
                            rx.el.td(p["messages"]),
                            rx.el.td(p["calls"]),
                            rx.el.td(p["storage"]),
                            rx.el.td(p["price"]),
                        ),
                    )
                ),
                class_name="vx-table",
                aria_label="Plans",
            ),
            class_name="vx-card",
        ),
        title="Usage",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
