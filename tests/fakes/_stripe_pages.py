"""The HTML pages of the fake Stripe server: Checkout (/pay/<cs>), the customer portal
(/portal/<bps>) and hosted invoices (/invoice/<in>). Plain HTML forms, no JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from tests.fakes._http import Request, Response
from tests.fakes._stripe_wire import format_amount

if TYPE_CHECKING:
    from tests.fakes.stripe import FakeStripeAPI

_PAGE = re.compile(r"^/(?P<kind>pay|portal|invoice)/(?P<id>[A-Za-z0-9_]+)(?:/(?P<action>[a-z]+))?$")
_STATUS = {"active": "Active", "past_due": "Past due", "unpaid": "Unpaid", "canceled": "Canceled",
           "incomplete": "Incomplete", "paid": "Paid", "open": "Open", "draft": "Draft",
           "void": "Void", "uncollectible": "Uncollectible"}
_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0"
        b">>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def render(fake: FakeStripeAPI, request: Request) -> Response:
    match = _PAGE.match(request.path)
    if match is None:
        return _html(404, "Not found", "<h1>Page not found</h1>")
    kind, object_id, action = match["kind"], match["id"], match["action"]
    if kind == "pay":
        return _pay(fake, object_id, request.method == "POST")
    if kind == "portal":
        return _portal(fake, object_id, action if request.method == "POST" else None)
    return _invoice(fake, object_id, action)


def _html(status: int, title: str, body: str) -> Response:
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title></head><body><main>{body}</main></body></html>")
    return Response(status, raw=page.encode(), content_type="text/html; charset=utf-8")


def _redirect(url: str) -> Response:
    return Response(303, raw=b"", content_type="text/html", headers={"Location": url})


def _date(ts: int | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%B %-d, %Y")


def _pay(fake: FakeStripeAPI, cs_id: str, submit: bool) -> Response:
    session = fake.get(cs_id) if cs_id.startswith("cs_") else None
    if session is None:
        return _html(404, "Not found", "<h1>Page not found</h1>")
    if session["status"] != "open":
        return _html(410 if submit else 200, "Checkout",
                     "<h1>This checkout session is no longer active</h1>"
                     f"<p>Status: {escape(session['status'])}</p>")
    if submit:
        fake.complete_checkout(cs_id)
        target = session["success_url"]
        if not target:
            return _html(200, "Thanks", "<h1>Thanks for your order</h1>")
        return _redirect(target.replace("{CHECKOUT_SESSION_ID}", cs_id))
    lines = fake.checkout_line_items(cs_id)
    names = " and ".join(fake.product_name(price) for price, _ in lines)
    verb = "Subscribe" if session["mode"] == "subscription" else "Pay"
    heading = f"Subscribe to {names}" if verb == "Subscribe" else f"Pay for {names}"
    prices = "".join(f"<p>{escape(fake.price_label(price, qty))}"
                     f"{escape(f' (quantity {qty})') if qty != 1 else ''}</p>" for price, qty in lines)
    back = (f'<p><a href="{escape(session["cancel_url"])}">Back to VOPIX</a></p>'
            if session["cancel_url"] else "")
    body = (f"<h1>{escape(heading)}</h1>{prices}"
            f'<form method="post" action="/pay/{escape(cs_id)}"><button type="submit">{verb}'
            f"</button></form>{back}")
    return _html(200, heading, body)


def _portal(fake: FakeStripeAPI, bps_id: str, action: str | None) -> Response:
    session = fake.get(bps_id) if bps_id.startswith("bps_") else None
    if session is None:
        return _html(404, "Not found", "<h1>Page not found</h1>")
    sub = fake.current_subscription(session["customer"])
    if action is not None:
        if sub is None or action not in ("cancel", "pay"):
            return _html(400, "Billing portal", "<h1>Nothing to do</h1>")
        if action == "cancel" and sub["status"] != "canceled":
            fake.schedule_cancel(sub["id"])
        elif action == "pay" and sub["status"] in ("past_due", "unpaid"):
            fake.pay_open_invoice(sub["id"])
        return _redirect(f"/portal/{bps_id}")
    parts = ["<h1>Billing portal</h1>", "<section><h2>Current plan</h2>"]
    if sub is None:
        parts.append("<p>No plan</p></section>")
    else:
        parts.append(_plan(fake, sub, bps_id))
        parts.append("</section>")
        invoices = fake.invoices_of(sub["id"])
        if invoices:
            rows = "".join(
                f'<li><a href="{escape(i["hosted_invoice_url"])}">Invoice {escape(i["number"])}</a> '
                f"{_date(i['created'])} {escape(format_amount(i['amount_due'], i['currency']))} "
                f"{_STATUS.get(i['status'], i['status'])}</li>" for i in reversed(invoices))
            parts.append(f"<section><h2>Invoice history</h2><ul>{rows}</ul></section>")
    if session["return_url"]:
        parts.append(f'<p><a href="{escape(session["return_url"])}">Return to VOPIX</a></p>')
    return _html(200, "Billing portal", "".join(parts))


def _plan(fake: FakeStripeAPI, sub: dict[str, Any], bps_id: str) -> str:
    items = sub["items"]["data"]
    names = " and ".join(fake.product_name(i["price"]) for i in items)
    labels = "".join(f"<p>{escape(fake.price_label(i['price'], i['quantity']))}</p>" for i in items)
    end = items[0]["current_period_end"]
    status = sub["status"]
    html = f"<p>{escape(names)}</p>{labels}<p>Status: {_STATUS.get(status, status)}</p>"
    if status == "canceled":
        return html + f"<p>Ended on {_date(sub['ended_at'])}</p>"
    if sub["cancel_at_period_end"]:
        html += f"<p>Cancels on {_date(sub['cancel_at'])}</p>"
    else:
        html += f"<p>Renews on {_date(end)}</p>"
        html += (f'<form method="post" action="/portal/{bps_id}/cancel">'
                 '<button type="submit">Cancel plan</button></form>')
    if status in ("past_due", "unpaid"):
        html += ("<p>Your last payment failed.</p>"
                 f'<form method="post" action="/portal/{bps_id}/pay">'
                 '<button type="submit">Update payment method</button></form>')
    return html


def _invoice(fake: FakeStripeAPI, in_id: str, action: str | None) -> Response:
    invoice = fake.get(in_id) if in_id.startswith("in_") else None
    if invoice is None or action not in (None, "pdf"):
        return _html(404, "Not found", "<h1>Page not found</h1>")
    if action == "pdf":
        return Response(200, raw=_PDF, content_type="application/pdf")
    amount = format_amount(invoice["amount_due"], invoice["currency"])
    paid = format_amount(invoice["amount_paid"], invoice["currency"])
    status = _STATUS.get(invoice["status"], invoice["status"])
    body = (f"<h1>Invoice {escape(invoice['number'])}</h1><p>Amount due: {escape(amount)}</p>"
            f"<p>Amount paid: {escape(paid)}</p><p>Status: {status}</p>"
            f"<p>Period: {_date(invoice['period_start'])} – {_date(invoice['period_end'])}</p>"
            f'<p><a href="{escape(invoice["invoice_pdf"])}">Download invoice</a></p>')
    return _html(200, f"Invoice {invoice['number']}", body)
