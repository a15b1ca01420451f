"""The claim reads the (status, next_run_at) index, on both databases: never a scan of every task."""

from __future__ import annotations

from datetime import UTC, datetime

from vopix.core.tasks import claim as claims
from vopix.db import get_engine


def test_the_claim_goes_through_the_status_next_run_index() -> None:
    engine = get_engine()
    now = datetime.now(UTC)
    compiled = claims.claim_statement("w", now, 16, claims.LEASE, engine.dialect.name).compile(dialect=engine.dialect)
    params = {k: (v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v)
              for k, v in compiled.params.items()}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the table is empty here
            rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), params).all()
        else:
            positional = compiled.construct_params()
            values = tuple(
                (positional[k].astimezone(UTC).replace(tzinfo=None).isoformat(" ")
                 if isinstance(positional[k], datetime) else positional[k])
                for k in compiled.positiontup or []
            )
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), values).all()
        conn.rollback()
    plan = "\n".join(str(r[-1]) for r in rows)
    assert "ix_task_status_next_run_at" in plan, plan
    assert "SCAN task\n" not in plan + "\n" and "Seq Scan on task" not in plan, plan
