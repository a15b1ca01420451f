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


def _chart() -> rx.Component:
    return rx.el.figure(
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke="#e4e7ec"),
            rx.recharts.x_axis(data_key="day", stroke="#667085"),
            rx.recharts.y_axis(allow_decimals=False, stroke="#667085", width=40),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            rx.recharts.bar(data_key="messages", name="Messages", fill="#3b5bdb", radius=[3, 3, 0, 0]),
            # Dark enough for the legend text (which takes the bar colour) to read on white.
            rx.recharts.bar(data_key="api_calls", name="AI calls", fill="#067647", radius=[3, 3, 0, 0]),
            data=U.days,
            width="100%",
            height=280,
        ),
        rx.el.figcaption("Messages and AI calls per day, last 30 days (UTC)."),
        role="img",
        aria_label="Chart of daily messages and AI calls for the last 30 days",
        class_name="vx-chart",
    )


def _plan_cell(value: rx.Var, label: str) -> rx.Component:
    # data-label names the cell when narrow screens show each plan as a card.
    return rx.el.td(value, class_name="vx-num", custom_attrs={"data-label": label})


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
            rx.el.h2("Plans", id="plans"),
            rx.el.div(
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th("Plan", scope="col"),
                            rx.el.th("Messages / month", scope="col"),
                            rx.el.th("AI calls / month", scope="col"),
                            rx.el.th("Storage", scope="col"),
                            rx.el.th("Price", scope="col"),
                        )
                    ),
                    rx.el.tbody(
                        rx.foreach(
                            U.plans,
                            lambda p: rx.el.tr(
                                rx.el.td(
                                    rx.el.strong(p["name"]),
                                    rx.cond(
                                        p["current"] == "yes",
                                        rx.el.span(" (your plan)", class_name="vx-muted"),
                                        "",
                                    ),
                                    class_name="vx-cell-title",
                                ),
                                _plan_cell(p["messages"], "Messages / month"),
                                _plan_cell(p["calls"], "AI calls / month"),
                                _plan_cell(p["storage"], "Storage"),
                                _plan_cell(p["price"], "Price"),
                                class_name=rx.cond(p["current"] == "yes", "vx-current", ""),
                            ),
                        )
                    ),
                    class_name="vx-table vx-table-stack",
                    aria_label="Plans",
                ),
                class_name="vx-table-wrap",
            ),
            class_name="vx-card",
        ),
        title="Usage",
        lead="What you and your agent used this month, against your plan's limits.",
        active="/usage",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
