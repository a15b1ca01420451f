"""Stateful fake of the Stripe API on 127.0.0.1, for the real ``stripe`` SDK, plus webhook signing.

Usage::

    with FakeStripeAPI(prices={"price_pro": {"unit_amount": 1200, "product_name": "Pro"}}) as fake:
        client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url},
                                     max_network_retries=0)
        cus = client.v1.customers.create(params={"email": "a@example.com"})
        cs = client.v1.checkout.sessions.create(params={"mode": "subscription", "customer": cus.id,
            "line_items": [{"price": "price_pro", "quantity": 1}], "success_url": "http://app/ok"})
        fake.deliver_to("http://127.0.0.1:8000/api/stripe/webhook")  # signed, synchronous
        fake.complete_checkout(cs.id)          # or a browser clicks "Subscribe" on cs.url
        sub_id = fake.checkout_sessions[cs.id]["subscription"]
        fake.fail_renewal(sub_id); fake.pay_open_invoice(sub_id); fake.end_period(sub_id)
        fake.fail_next(status=500)             # the next API call answers an api_error

    body, headers = signed_delivery(fake.events[0], fake.webhook_secret)

What is modelled: customers, prices/products (registered by the test), Checkout Sessions,
Billing Portal sessions, subscriptions (current shape: periods on the items), invoices, events,
idempotency keys, Stripe's nested form keys, error bodies and list objects, and the HTML pages
of Checkout (/pay/<cs>), the portal (/portal/<bps>) and hosted invoices (/invoice/<in>).
Not modelled: cards and payment methods (Checkout just succeeds), prorations, taxes, trials.
Events of an API call are delivered before the call's response is sent, so code must not hold a
database write transaction across a Stripe call. The clock (``now``) only moves when the test
says so (``advance``, ``fail_renewal``, ``end_period``); webhook signatures use the real time.
"""

from __future__ import annotations

import copy
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Any

from tests.fakes import _stripe_pages
from tests.fakes._http import LoopbackServer, Request, Response
from tests.fakes._stripe_api import StripeEndpoints
from tests.fakes._stripe_controls import StripeControls
from tests.fakes._stripe_model import price_specs
from tests.fakes._stripe_wire import (
    API_VERSION,
    StripeError,
    as_list,
    check_params,
    decode_form,
    new_id,
    sign,
    signed_delivery,
)

__all__ = ["API_VERSION", "FakeStripeAPI", "sign", "signed_delivery"]

DEFAULT_API_KEY = "sk_test_vopixFakeStripeKey0000"
DEFAULT_WEBHOOK_SECRET = "whsec_vopixFakeWebhookSecret0000"


class FakeStripeAPI(StripeControls, StripeEndpoints, LoopbackServer):
    """In-process fake of ``api.stripe.com`` (v1) with test controls; see the module doc."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        *,
        prices: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]] | None = None,
        now: float | None = None,
    ) -> None:
        LoopbackServer.__init__(self)
        self._init_model(webhook_secret, now)
        self.api_key = api_key
        self.latency = 0.0  # seconds slept before answering each API request
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._failures: list[int] = []
        self._idempotent: dict[tuple[str, str], tuple[dict[str, str], Response]] = {}
        for price_id, spec in price_specs(prices):
            self.add_price(price_id, **spec)
        self._routes = self._routes_table()

    # ------------------------------------------------------------------ test controls

    def fail_next(self, status: int = 500, count: int = 1) -> None:
        """The next ``count`` API requests answer a Stripe error with HTTP ``status``."""
        with self._lock:
            self._failures.extend([status] * count)

    def on_stop(self) -> None:
        self._close_model()

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        if not request.path.startswith("/v1/"):
            return _stripe_pages.render(self, request)
        flat = dict(request.query)
        flat.update({k: v for k, v in request.form().items() if isinstance(v, str)})
        request_id = new_id("req_", 14)
        with self._lock:
            self.requests.append((request.method, request.path, flat))
            failure = self._failures.pop(0) if self._failures else None
        if self.latency:
            time.sleep(self.latency)
        if failure is not None:
            return _error(_failure(failure), request_id)
        response = self._answer(request, flat, request_id)
        self._flush()
        return response

    def _answer(self, request: Request, flat: dict[str, str], request_id: str) -> Response:
        auth = request.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return _error(StripeError(401, "You did not provide an API key. You need to provide "
                                           "your API key in the Authorization header, using Bearer "
                                           "auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."),
                          request_id)
        key = auth[7:].strip()
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]
            return _error(StripeError(401, f"Invalid API Key provided: {shown}"), request_id)
        idem = request.headers.get("Idempotency-Key") if request.method != "GET" else None
        with self._lock:
            if idem is not None:
                seen = self._idempotent.get((request.path, idem))
                if seen is not None:
                    if seen[0] != flat:
                        return _error(StripeError(
                            400, "Keys for idempotent requests can only be used with the same "
                                 f"parameters they were first used with. Try using a key other than "
                                 f"'{idem}' if you meant to execute a different request.",
                            type="idempotency_error"), request_id)
                    replay = seen[1]
                    return Response(replay.status, replay.body, headers={
                        **replay.headers, "Idempotent-Replayed": "true", "Request-Id": request_id})
            self._ctx.request_id, self._ctx.idempotency_key = request_id, idem
            try:
                body = self._dispatch(request.method, request.path, decode_form(flat))
            except StripeError as exc:
                return _error(exc, request_id)
            finally:
                self._ctx.request_id = self._ctx.idempotency_key = None
            response = Response(200, body, headers={
                "Request-Id": request_id, "Stripe-Version": API_VERSION,
                **({"Idempotency-Key": idem} if idem else {})})
            if idem is not None:
                self._idempotent[(request.path, idem)] = (flat, response)
            return response

    def _dispatch(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for route_method, pattern, handler, allowed in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method != method:
                continue
            check_params(params, allowed)
            result = copy.deepcopy(handler(params, *match.groups()))
            for path_ in as_list(params.get("expand"), "expand"):
                result = self._expand(result, str(path_).split("."))
            return result
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                               "https://stripe.com/docs or we can help at https://support.stripe.com/.")

    def _expand(self, obj: Any, path: list[str]) -> Any:
        if not path or not isinstance(obj, dict):
            return obj
        head, rest = path[0], path[1:]
        if head == "data" and obj.get("object") == "list":
            obj["data"] = [self._expand(item, rest) for item in obj["data"]]
            return obj
        value = obj.get(head)
        if isinstance(value, str):
            found = self._find(value)
            if found is None:
                raise StripeError(400, f"This property cannot be expanded ({head}).", param="expand")
            value = copy.deepcopy(found)
        if value is not None:
            obj[head] = self._expand(value, rest)
        return obj


def _failure(status: int) -> StripeError:
    if status == 429:
        return StripeError(429, "Request rate limit exceeded. Learn more about rate limits here "
                                "https://stripe.com/docs/rate-limits.", code="rate_limit")
    return StripeError(status, "An unknown error occurred", type="api_error")


def _error(exc: StripeError, request_id: str) -> Response:
    return Response(exc.status, {"error": {**exc.body, "request_log_url":
                                           f"https://dashboard.stripe.com/test/logs/{request_id}"}},
                    headers={"Request-Id": request_id})

