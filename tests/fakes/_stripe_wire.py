"""Stripe's wire format for the fake Stripe server: nested form keys, errors, list objects, ids,
money, and webhook signatures. Used by ``tests/fakes/stripe.py`` (which re-exports the helpers)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import string
import time
from typing import Any

API_VERSION = "2026-10-28.endive"
_KEY_PART = re.compile(r"\[([^\[\]]*)\]")
_ALPHABET = string.ascii_letters + string.digits
_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF ", "jpy": "¥"}
_ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk", "ugx", "xaf", "xof"}


class StripeError(Exception):
    """An API error answered as Stripe's ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type, "message": message}
        if code is not None:
            self.body["code"] = code
        if param is not None:
            self.body["param"] = param


def missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", param=param,
                       code="parameter_missing")


def no_such(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404 if param == "id" else 400, f"No such {kind}: '{object_id}'",
                       param=param, code="resource_missing")


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def decode_form(flat: dict[str, str]) -> dict[str, Any]:
    """``{"line_items[0][price]": "p"}`` -> ``{"line_items": [{"price": "p"}]}``."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key[len(head):])]
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # "expand[]=x": append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def as_int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


def as_bool(value: Any, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeError(400, f"Invalid boolean: {value}", param=param)


def as_list(value: Any, param: str) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    raise StripeError(400, f"Invalid array: {param} must be an array", param=param)


def check_params(params: dict[str, Any], allowed: frozenset[str]) -> None:
    for key in params:
        if key not in allowed:
            raise StripeError(400, f"Received unknown parameter: {key}", param=key,
                              code="parameter_unknown")


def created_matches(created: int, cond: Any) -> bool:
    """Stripe's ``created`` filter: an exact timestamp or ``{gt, gte, lt, lte}``."""
    if cond is None:
        return True
    if not isinstance(cond, dict):
        return created == as_int(cond, "created")
    checks = {"gt": created.__gt__, "gte": created.__ge__, "lt": created.__lt__, "lte": created.__le__}
    for op, value in cond.items():
        if op not in checks:
            raise StripeError(400, f"Received unknown parameter: created[{op}]", param=f"created[{op}]")
        if not checks[op](as_int(value, f"created[{op}]")):
            return False
    return True


def list_object(items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """``items`` oldest first -> Stripe's list object, newest first, honouring limit and cursors."""
    limit = as_int(params.get("limit", 10), "limit")
    if not 1 <= limit <= 100:
        raise StripeError(400, "Invalid limit: must be between 1 and 100", param="limit")
    data = list(reversed(items))
    ids = [o["id"] for o in data]
    if params.get("starting_after") in ids:
        data = data[ids.index(params["starting_after"]) + 1:]
    elif params.get("ending_before") in ids:
        data = data[:ids.index(params["ending_before"])][-limit:]
    return {"object": "list", "data": data[:limit], "has_more": len(data) > limit, "url": url}


def format_amount(amount: int, currency: str) -> str:
    """``1200, "eur"`` -> ``"€12.00"``."""
    cur = currency.lower()
    symbol = _SYMBOLS.get(cur, cur.upper() + " ")
    if cur in _ZERO_DECIMAL:
        return f"{symbol}{amount:,}"
    return f"{symbol}{amount / 100:,.2f}"


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value: ``t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">``."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def signed_delivery(
    event: dict[str, Any], secret: str, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """Serialize ``event`` as Stripe does and return ``(raw_body, headers)`` for a webhook POST."""
    body = json.dumps(event, indent=2).encode()
    return body, {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": sign(body, secret, timestamp),
    }
