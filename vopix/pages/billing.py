"""Billing page: your plan and its use, the plans on offer with their buttons, Stripe's portal,
and the invoices of the last 12 months."""

from __future__ import annotations

import reflex as rx

from vopix.components.ui import alert, empty_state, page_shell
from vopix.state.billing import BillingState as B
from vopix.state.session import SessionState


def _plan_card() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.h2("Your plan", id="your-plan"),
            rx.el.span(B.plan_name, class_name="vx-badge", id="current-plan"),
            class_name="vx-card-head",
        ),
        rx.el.p(B.status_text, class_name="vx-billing-status vx-billing-" + B.status_level,
                role=rx.cond(B.status_level == "error", "alert", "status")),
        rx.el.h3("Included each month"),
        rx.el.ul(rx.foreach(B.includes, lambda line: rx.el.li(line)), aria_label="Included in your plan"),
        rx.el.h3("Used so far"),
        rx.el.ul(
            rx.el.li(B.messages_text), rx.el.li(B.calls_text), rx.el.li(B.storage_text),
            aria_label="Your usage this month", class_name="vx-num",
        ),
        rx.el.p(rx.el.a("See daily usage", href="/usage"), class_name="vx-muted"),
        rx.el.div(
            rx.cond(
                B.enabled & B.has_customer,
                rx.el.button("Manage billing", type="button", on_click=B.manage, disabled=B.working,
                             class_name="vx-button"),
            ),
            rx.cond(
                B.cancel_scheduled,
                rx.el.button("Keep my plan", type="button", on_click=B.keep_plan,
                             class_name="vx-button-quiet"),
            ),
            class_name="vx-row",
        ),
        rx.cond(
            B.enabled & B.has_customer,
            rx.el.p("Payment method, invoices and cancelling are on Stripe's secure page; VOPIX never "
                    "sees your card.", class_name="vx-hint"),
        ),
        class_name="vx-card",
        custom_attrs={"aria-labelledby": "your-plan"},
    )  # fmt: skip


def _cell(value: rx.Var, label: str) -> rx.Component:
    return rx.el.td(value, class_name="vx-num", custom_attrs={"data-label": label})


def _action(offer: rx.Var) -> rx.Component:
    return rx.cond(
        offer["current"] == "yes",
        rx.el.span("Your plan", class_name="vx-muted"),
        rx.cond(
            offer["action"] != "",
            rx.el.button(
                offer["label"], type="button", on_click=B.choose(offer["id"]), disabled=B.working,
                class_name="vx-button vx-button-small",
            ),
            rx.el.span(""),
        ),
    )


def _plans() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Plans", id="plans"),
        rx.cond(
            ~B.enabled,
            rx.el.p("Billing is not set up on this VOPIX server, so plans cannot be bought here. "
                    "Everything else works as usual.", role="status", class_name="vx-info"),
        ),
        rx.cond(
            B.switch_to != "",
            rx.el.div(
                rx.el.span(B.switch_question, class_name="vx-confirm-question"),
                rx.el.div(
                    rx.el.button("Switch now", type="button", on_click=B.confirm_switch,
                                 class_name="vx-button"),
                    rx.el.button("Keep my current plan", type="button", on_click=B.cancel_switch,
                                 class_name="vx-button-quiet"),
                    class_name="vx-row",
                ),
                role="alertdialog", aria_label="Switch plans", class_name="vx-confirm",
            ),
        ),
        rx.el.div(
            rx.el.table(
                rx.el.thead(rx.el.tr(
                    rx.el.th("Plan", scope="col"), rx.el.th("Price", scope="col"),
                    rx.el.th("Messages / month", scope="col"), rx.el.th("AI calls / month", scope="col"),
                    rx.el.th("Storage", scope="col"),
                    rx.el.th(rx.el.span("Action", class_name="vx-sr-only"), scope="col"),
                )),
                rx.el.tbody(rx.foreach(B.offers, lambda o: rx.el.tr(
                    rx.el.th(rx.el.strong(o["name"]), scope="row", class_name="vx-cell-title"),
                    _cell(o["price"], "Price"), _cell(o["messages"], "Messages / month"),
                    _cell(o["calls"], "AI calls / month"), _cell(o["storage"], "Storage"),
                    rx.el.td(_action(o)),
                    class_name=rx.cond(o["current"] == "yes", "vx-current", ""),
                ))),
                class_name="vx-table vx-table-stack vx-plans", aria_label="Plans on offer",
            ),
            class_name="vx-table-wrap",
        ),
        rx.cond(B.plan_from_stripe, rx.el.p(
            "To go back to Free, cancel in Manage billing: your plan stays until the end of the "
            "paid period.", class_name="vx-hint")),
        class_name="vx-card",
    )  # fmt: skip


def _invoices() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Invoices"),
        rx.match(
            B.invoices_state,
            ("loading", rx.el.p("Loading invoices…", role="status", class_name="vx-muted")),
            ("failed", rx.el.p("Invoices could not be loaded from Stripe just now.", role="status",
                               class_name="vx-billing-status vx-billing-warning")),
            rx.cond(
                B.invoices.length() > 0,
                rx.el.div(rx.el.table(
                    rx.el.thead(rx.el.tr(
                        rx.el.th("Date", scope="col"), rx.el.th("Invoice", scope="col"),
                        rx.el.th("Amount", scope="col"), rx.el.th("Status", scope="col"),
                    )),
                    rx.el.tbody(rx.foreach(B.invoices, lambda inv: rx.el.tr(
                        _cell(inv["date"], "Date"),
                        rx.el.td(rx.el.a(inv["number"], href=inv["url"], target="_blank",
                                         rel="noopener noreferrer", aria_label="Invoice " + inv["number"]),
                                 custom_attrs={"data-label": "Invoice"}),
                        _cell(inv["amount"], "Amount"),
                        rx.el.td(inv["status"], custom_attrs={"data-label": "Status"}),
                    ))),
                    class_name="vx-table vx-table-stack vx-invoices",
                    aria_label="Invoices of the last 12 months",
                ), class_name="vx-table-wrap"),
                empty_state("No invoices yet", rx.el.p("Invoices of the last 12 months appear here."),
                            small=True),
            ),
        ),
        class_name="vx-card",
    )  # fmt: skip


def billing_page() -> rx.Component:
    return page_shell(
        alert(B.error),
        alert(B.message, kind="ok"),
        _plan_card(),
        _plans(),
        rx.cond(B.enabled, _invoices()),
        title="Billing",
        lead="Your plan, what it includes, and payments through Stripe.",
        active="/billing",
        on_log_out=SessionState.log_out,
        email=SessionState.user_email,
    )
