"""Once across processes (issue 15): two mail workers share the outbox, two billing workers
Stripe's events; one of each is killed -9 in the middle of its work. Nothing is lost, nothing
is done twice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlmodel import select

from tests.cluster._workers import Workers, until
from tests.cluster.conftest import child_env
from tests.core.billing.conftest import subscribe
from tests.fakes.smtp import FakeSMTP
from tests.fakes.stripe import signed_delivery
from vopix.core.billing import webhook
from vopix.core.kinds import MailKind, MailStatus, StripeEventStatus
from vopix.core.mail import outbox
from vopix.db import session_scope
from vopix.models import MailOutbox, StripeEvent, User

MAILS = 24

# A process's mail worker, as the app's lifespan runs it, with a short lease so that the test
# need not wait the production 2 minutes for a dead worker's mails.
CHILD = """
import asyncio
from datetime import timedelta
from vopix.core.mail import outbox, worker
outbox.LEASE = timedelta(seconds=4)
asyncio.run(worker.run(idle_poll=0.5))
"""


def _rows() -> list[MailOutbox]:
    with session_scope() as s:
        return list(s.exec(select(MailOutbox)).all())


def test_a_mail_worker_killed_mid_send_loses_no_mail_and_sends_none_twice(
    tmp_path: Path, scratch_db: str
) -> None:
    with FakeSMTP() as smtp:
        handler = smtp.handler
        accept_rcpt = handler.handle_RCPT
        gate = threading.Event()  # closed: every SMTP conversation waits before its RCPT
        gate.set()

        async def slow_rcpt(*args: Any) -> str:
            # The SMTP conversation takes a while before DATA: a worker killed there has sent
            # nothing the server could deliver (after DATA, SMTP itself cannot tell).
            await asyncio.sleep(0.6)
            while not gate.is_set():
                await asyncio.sleep(0.05)
            return await accept_rcpt(*args)

        handler.handle_RCPT = slow_rcpt  # type: ignore[method-assign]
        env = {**child_env(), "VOPIX_SMTP_HOST": "127.0.0.1", "VOPIX_SMTP_PORT": str(smtp.port),
               "VOPIX_SMTP_TLS": "none", "VOPIX_MAIL_FROM": "VOPIX <no-reply@vopix.test>"}
        for i in range(MAILS):
            outbox.send_mail(to=f"person{i}@example.com", kind=MailKind.TEST, template="test",
                             public_url="http://localhost")
        with Workers(tmp_path, CHILD, env) as workers:
            victim = workers.start()

            def victim_holds_mail() -> list[int]:
                return [r.id for r in _rows()  # type: ignore[misc]
                        if r.status == MailStatus.SENDING and f"-{victim.pid}-" in r.worker]

            until(victim_holds_mail, 60, "the first worker is sending")
            other = workers.start()  # the second worker, now that the first holds mail
            gate.clear()  # what is past RCPT finishes and is recorded; the rest waits there
            time.sleep(1.0)
            held = until(victim_holds_mail, 10, "the first worker still sending")
            workers.kill9(victim)
            gate.set()

            until(lambda: all(r.status == MailStatus.SENT for r in _rows()), 90, "every mail sent")
            time.sleep(1)  # a late duplicate would have arrived by now
            arrived = Counter(to for mail in smtp.received for to in mail.rcpt_tos)
            assert arrived == Counter({f"person{i}@example.com": 1 for i in range(MAILS)})
            rows = {r.id: r for r in _rows()}
            # The mails the killed worker held were sent by the other one, on a later attempt.
            assert all(f"-{other.pid}-" in rows[i].worker and rows[i].attempts >= 2 for i in held)


BILLING_CHILD = """
import asyncio
from datetime import timedelta
from vopix.core.billing import events, worker
events.LEASE = timedelta(seconds=3)
asyncio.run(worker.run(idle_poll=0.5))
"""


def _stripe_events() -> list[StripeEvent]:
    with session_scope() as s:
        return list(s.exec(select(StripeEvent)).all())


def _plan(user_id: int) -> str:
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user.plan_id


def test_a_billing_worker_killed_mid_sync_loses_no_stripe_event(
    tmp_path: Path, scratch_db: str, stripe_fake, make_user
) -> None:
    """Each customer's events are settled by one re-read of the customer in one transaction:
    a worker killed during the re-read commits nothing, and the other settles them."""
    users = [make_user()[0] for _ in range(6)]
    mark = len(stripe_fake.events)
    for user_id in users:
        subscribe(stripe_fake, user_id)
    for event in stripe_fake.events[mark:]:  # stored and acknowledged, as the route does
        body, headers = signed_delivery(event, stripe_fake.webhook_secret)
        webhook.handle(body, headers["Stripe-Signature"])
    assert all(_plan(u) != "pro" for u in users)  # nothing settled yet: no worker ran
    stripe_fake.latency = 1.0  # every API call takes a second: a worker is killed mid-read

    try:
        with Workers(tmp_path, BILLING_CHILD) as workers:
            victim = workers.start()

            def victim_holds() -> list[str]:
                return [e.id for e in _stripe_events()
                        if e.status == StripeEventStatus.PROCESSING and f"-{victim.pid}-" in e.worker]

            until(victim_holds, 60, "the first worker is settling a customer")
            other = workers.start()  # the second worker, now that the first holds events
            held = until(victim_holds, 10, "the first worker still settling")
            workers.kill9(victim)
            until(lambda: all(e.status == StripeEventStatus.DONE for e in _stripe_events()), 90,
                  "every event settled")
            assert all(_plan(u) == "pro" for u in users)
            settled = {e.id: e for e in _stripe_events()}
            assert all(f"-{other.pid}-" in settled[i].worker and settled[i].attempts >= 2 for i in held)
    finally:
        stripe_fake.latency = 0.0
