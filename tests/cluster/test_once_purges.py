"""Once across processes (issue 15): two purge runners (processes: the scheduled job on the
leader and `python -m vopix retention`, say) start on the same accounts past their purge date at
the same moment. Each account is purged once: one Stripe cancellation and one customer
deletion at Stripe, one receipt, no row left, and neither runner reports an error."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.cluster._workers import Workers, until
from tests.core.billing.conftest import subscribe
from tests.core.privacy.deletion_helpers import fill_account, receipts_to, rows_naming
from vopix.core.clock import utcnow
from vopix.core.privacy import deletion

ACCOUNTS = 6

# A purge runner: set up like any entry point, it says it is ready, then waits for the word
# (a file) so that both runners start their purge at the same moment.
CHILD = """
import pathlib, sys, time
from vopix import platform
platform.install()
from vopix.core.clock import utcnow
from vopix.core.privacy import purge
pathlib.Path(sys.argv[1]).touch()
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.01)
print("purged", purge.purge_due(utcnow()), flush=True)
"""


@pytest.mark.promise("P26")
@pytest.mark.promise("P29")
def test_two_purge_runners_racing_purge_each_account_once(
    tmp_path: Path, scratch_db: str, stripe_fake, make_user
) -> None:
    accounts = []
    subscriptions = {}
    for _ in range(ACCOUNTS):
        user_id, email, _ = make_user()
        subscriptions[user_id] = subscribe(stripe_fake, user_id)  # a live subscription to cancel
        accounts.append(fill_account(user_id, email))
        # Asked a while ago; the grace period ended a minute ago.
        deletion.begin(user_id, grace_period=timedelta(days=30), restorable=True,
                       now=utcnow() - timedelta(days=30, minutes=1))
    customers = {a.customer_id for a in accounts}
    assert all(c.startswith("cus_") and not stripe_fake.customers[c].get("deleted") for c in customers)
    stripe_fake.latency = 0.15  # every Stripe call takes a while: the runners overlap all along
    mark = len(stripe_fake.requests)
    go = tmp_path / "go"
    try:
        with Workers(tmp_path, CHILD) as workers:
            procs = [workers.start(str(tmp_path / f"ready-{n}"), str(go)) for n in range(2)]
            until(lambda: all((tmp_path / f"ready-{n}").exists() for n in range(2)), 60, "both runners ready")
            go.touch()
            for proc in procs:
                proc.wait(timeout=120)
            logs = [workers.log(p) for p in procs]
    finally:
        stripe_fake.latency = 0.0

    assert [p.returncode for p in procs] == [0, 0], logs
    assert not any("Traceback" in log or "failed" in log for log in logs), logs
    purged = [int(log.rsplit("purged ", 1)[1].split()[0]) for log in logs]
    assert sum(purged) == ACCOUNTS, purged  # each account counted by the runner that purged it
    calls = Counter((method, path) for method, path, _ in stripe_fake.requests[mark:])
    assert {c: calls[("DELETE", f"/v1/customers/{c}")] for c in customers} == dict.fromkeys(customers, 1)
    assert {s: calls[("DELETE", f"/v1/subscriptions/{s}")] for s in subscriptions.values()} == (
        dict.fromkeys(subscriptions.values(), 1))
    for filled in accounts:
        assert rows_naming(filled) == {}
        assert len([m for m in receipts_to(filled.email) if m.user_id is None]) == 1
