"""Purge benchmark (issue 12, P26): the account of bench/export.py (100,000 messages in 200
conversations, 200 MB of workspace files, usage, access log, integration activity), deleted by
the person, then purged by the scheduled job's own function once its grace period is over:
time, rows removed (or anonymised) and rows/s, and the slowest table's mean time per chunk (the
purge works in chunks (purge.rows_per_chunk), each its own transaction, so no transaction holds the
whole account).

    .venv/bin/python bench/purge.py                 # SQLite, the full account
    .venv/bin/python bench/purge.py --db postgres   # PostgreSQL (127.0.0.1:5432, a scratch database)
    .venv/bin/python bench/purge.py --small         # 10,000 messages and 20 MB: a quick look
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from _big_account import add_size_args, migrated_big_account, use_scratch_environment  # noqa: E402

PASSWORD = "correct-horse-battery-77"  # the one _big_account signs up with


def _rows_of(user_id: int) -> int:
    """Rows naming the person in every table with a user-id column (the purge's own list)."""
    from sqlalchemy import func, select

    from vopix.core.privacy import purge
    from vopix.db import get_engine
    from vopix.models import AccessLog

    with get_engine().connect() as conn:
        n = sum(conn.execute(select(func.count()).select_from(t).where(c == user_id)).scalar_one()
                for t, c, _ in purge.user_columns())
        n += conn.execute(select(func.count()).select_from(AccessLog.__table__)  # type: ignore[attr-defined]
                          .where(AccessLog.user_id == user_id)).scalar_one()
    return int(n) + 1  # the user row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_args(ap)
    args = ap.parse_args()
    use_scratch_environment(args.db, "purge")
    from vopix.core.privacy import deletion, purge

    account = migrated_big_account(args)
    rows = _rows_of(account.user_id)

    requested = deletion.request_deletion(account.user_id, PASSWORD)
    # The slowest table's mean time per chunk (one transaction each).
    longest: list = [0.0, ""]
    real = purge._chunked

    def timed(table, *a, **kw):
        t = time.perf_counter()
        out = real(table, *a, **kw)
        chunks = max(1, -(-out // purge.rows_per_chunk(table)))
        if (time.perf_counter() - t) / chunks > longest[0]:
            longest[:] = [(time.perf_counter() - t) / chunks, table.name]
        return out

    purge._chunked = timed  # type: ignore[assignment]
    t0 = time.perf_counter()
    purged = purge.purge_due(requested.purge_after + timedelta(seconds=1))
    seconds = time.perf_counter() - t0
    assert purged == 1, "the account was not purged"
    from vopix.core import accounts

    assert accounts.get_user(account.user_id) is None and _rows_of(account.user_id) == 1  # only "+1"

    per_chunk = purge.rows_per_chunk(purge.metadata.tables[longest[1]]) if longest[1] else 0
    table = [
        ("database", args.db),
        ("messages / conversations", f"{account.messages:,} / {account.conversations}"),
        ("workspace", f"{account.workspace_bytes / 2**20:.0f} MB in {account.files} files"),
        ("rows of the person", f"{rows:,}"),
        ("purge time", f"{seconds:.2f} s"),
        ("rows/s", f"{rows / seconds:,.0f}"),
        ("MB of workspace/s", f"{account.workspace_bytes / 2**20 / seconds:.1f}"),
        ("slowest table per chunk", f"{longest[0] * 1000:.0f} ms ({longest[1]}, <= {per_chunk} rows each)"),
    ]
    width = max(len(k) for k, _ in table)
    for key, value in table:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
