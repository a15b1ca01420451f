"""Migration 0011 (issue 16) on a database that holds rows: every plan gets run limits (the
paid ones more), old usage rows count no run seconds, and the downgrade takes it all away."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import text

from alembic import command
from tests.test_recent_migrations import USER
from tests.test_schema_migrations import T0, _alembic, new_database  # noqa: F401 (fixture)

RUN_COLUMNS = ["run_seconds_per_month", "run_wall_seconds", "run_memory_mb", "run_processes", "run_disk_mb"]


def test_plans_get_run_limits_and_old_usage_counts_no_run_seconds(new_database) -> None:  # noqa: F811
    url = new_database()
    command.upgrade(_alembic(url), "0010")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            columns = ", ".join(f'"{c}"' for c in USER)
            conn.execute(text(f'INSERT INTO "user" ({columns}) VALUES ({", ".join(":" + c for c in USER)})'), USER)
            conn.execute(text("INSERT INTO plan (id, name, messages_per_month, api_calls_per_month, storage_bytes, "
                              "price_cents, stripe_price_id) VALUES ('custom', 'Custom', 1, 1, 1, 0, '')"))
            conn.execute(text("INSERT INTO usage_daily (id, user_id, day, model, api_calls, input_tokens, "
                              "output_tokens, messages) VALUES (1, 1, :d, '', 0, 0, 0, 3)"), {"d": T0.date()})
        command.upgrade(_alembic(url), "0011")
        with engine.connect() as conn:
            limits = {r[0]: tuple(r[1:]) for r in conn.execute(
                text(f"SELECT id, {', '.join(RUN_COLUMNS)} FROM plan ORDER BY id"))}
            run_seconds = conn.execute(text("SELECT run_seconds, messages FROM usage_daily")).one()
        assert limits["free"] == limits["custom"] == (600, 30, 256, 32, 256)
        assert limits["pro"] == (36000, 120, 512, 64, 512)
        assert limits["team"] == (180000, 300, 1024, 64, 1024)
        assert tuple(run_seconds) == (0, 3)
        command.downgrade(_alembic(url), "0010")
        inspector = sa.inspect(engine)
        assert not {"script_run", "script_mark"} & set(inspector.get_table_names())
        assert not set(RUN_COLUMNS) & {c["name"] for c in inspector.get_columns("plan")}
        assert "run_seconds" not in {c["name"] for c in inspector.get_columns("usage_daily")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT messages FROM usage_daily")).scalar_one() == 3
    finally:
        engine.dispose()
