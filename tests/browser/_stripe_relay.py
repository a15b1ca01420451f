"""Stripe's webhook delivery for the browser tests: the fake Stripe hands each signed event to
this relay, which answers at once and forwards the events, in order, from a thread of its own
to the app's webhook, as real Stripe does (asynchronously, never inside an API call).

Why not let the fake deliver to the app itself: it delivers pending events from inside
whichever API request it is answering, before answering it. A webhook whose work waits on
another delivery's Stripe call (say, a re-read of the customer shared by a burst of events)
then waits for itself until a timeout; real Stripe never couples the two.
"""

from __future__ import annotations

import json
import threading
import time

import httpx

from tests.fakes._http import LoopbackServer, Request, Response


class WebhookRelay(LoopbackServer):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.answers: list[tuple[str, int]] = []  # (event type, the app's HTTP status), in order
        self._pending: list[tuple[bytes, dict[str, str]]] = []
        self._cond = threading.Condition()
        self._received = 0
        self._forwarder = threading.Thread(target=self._forward, daemon=True)

    def start(self) -> WebhookRelay:
        super().start()
        if not self._forwarder.is_alive():
            self._forwarder.start()
        return self

    def on_stop(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def handle(self, request: Request) -> Response:
        headers = {
            "Content-Type": request.headers.get("Content-Type") or "application/json",
            "Stripe-Signature": request.headers.get("Stripe-Signature") or "",
        }
        with self._cond:
            self._pending.append((request.body, headers))
            self._received += 1
            self._cond.notify_all()
        return Response(200, {"received": True})

    def _forward(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.closing.is_set():
                with self._cond:
                    while not self._pending and not self.closing.is_set():
                        self._cond.wait(0.5)
                    if not self._pending:
                        return
                    body, headers = self._pending[0]
                try:
                    status = client.post(self.target, content=body, headers=headers).status_code
                except httpx.HTTPError:
                    status = 0
                with self._cond:
                    self._pending.pop(0)
                    self.answers.append((str(json.loads(body).get("type")), status))
                    self._cond.notify_all()

    def delivered(self, within: float = 30.0) -> list[tuple[str, int]]:
        """Wait until every event received so far has reached the app; the app's answers."""
        deadline = time.monotonic() + within
        with self._cond:
            while len(self.answers) < self._received:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self._received - len(self.answers)} webhook(s) still undelivered")
                self._cond.wait(left)
            return list(self.answers)
