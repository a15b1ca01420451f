"""How plans and money read on every page that shows them (Billing, the landing page)."""

from __future__ import annotations

from vopix.core.workspace.base import human_size
from vopix.models import Plan

CURRENCY_SIGNS = {"eur": "€", "usd": "$", "gbp": "£"}


def amount(cents: int, currency: str = "eur") -> str:
    sign = CURRENCY_SIGNS.get(currency.lower())
    return f"{sign}{cents / 100:.2f}" if sign else f"{currency.upper()} {cents / 100:.2f}"


def price(cents: int) -> str:
    return "Free" if not cents else f"{amount(cents)} / month"


def limit(value: int, unit: str) -> str:
    """'5,000 messages', '1 message a month', 'Unlimited AI calls' (0 is no limit)."""
    if not value:
        return f"Unlimited {unit}"
    first, _, rest = unit.partition(" ")
    return f"1 {first.removesuffix('s')} {rest}".rstrip() if value == 1 else f"{value:,} {unit}"


def storage(value: int) -> str:
    return human_size(value) if value else "Unlimited"


def plan_row(p: Plan) -> dict[str, str]:
    """A plan's name, price and limits as the pages show them."""
    return {
        "id": p.id, "name": p.name, "price": price(p.price_cents),
        "messages": limit(p.messages_per_month, "messages"),
        "calls": limit(p.api_calls_per_month, "AI calls"),
        "storage": storage(p.storage_bytes),
    }
