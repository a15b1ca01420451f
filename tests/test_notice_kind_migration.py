"""Migration 0006: notices already stored get their kind from the key they were written with."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import text

from alembic import command
from tests.test_schema_migrations import T0, _alembic, new_database  # noqa: F401 (fixture)

USER = {"id": 1, "email": "ada@example.com", "password_hash": "x", "age_confirmed_at": T0,
        "marketing_opt_in": False, "subscription_status": "free", "is_operator": False,
        "created_at": T0, "updated_at": T0, "plan_id": "free"}
NOTICES = {
    "security:token_reuse:4": "security",
    "security:password_changed:2026-11-01T12:00:00": "security",
    "quota:messages:80:2026-11": "quota",
    "whatsapp-window-20261101120000000000": "whatsapp_window",
    "welcome": "general",
}


def test_existing_notices_get_their_kind_and_the_downgrade_drops_it(new_database) -> None:  # noqa: F811
    url = new_database()
    command.upgrade(_alembic(url), "0005")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            columns = ", ".join(f'"{c}"' for c in USER)
            conn.execute(text(f'INSERT INTO "user" ({columns}) VALUES ({", ".join(":" + c for c in USER)})'), USER)
            for i, key in enumerate(NOTICES, start=1):
                conn.execute(
                    text("INSERT INTO notice (id, user_id, key, level, text, link, created_at) "
                         "VALUES (:id, 1, :key, 'info', 'x', '', :at)"),
                    {"id": i, "key": key, "at": T0},
                )
        command.upgrade(_alembic(url), "0006")
        with engine.connect() as conn:
            kinds = dict(conn.execute(text("SELECT key, kind FROM notice")).all())
        assert kinds == NOTICES
        command.downgrade(_alembic(url), "0005")
        assert "kind" not in {c["name"] for c in sa.inspect(engine).get_columns("notice")}
    finally:
        engine.dispose()
