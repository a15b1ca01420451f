"""Migrations after 0005 on databases that hold rows: 0006 gives stored notices their kind
from the key they were written with; 0007 points user.plan_id at plan.id."""

from __future__ import annotations

import pytest
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


def test_people_on_a_vanished_plan_move_to_free_and_a_plan_in_use_cannot_be_deleted(
    new_database,  # noqa: F811
) -> None:
    url = new_database()
    command.upgrade(_alembic(url), "0006")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for user_id, plan in ((1, "pro"), (2, "retired-plan")):
                row = {**USER, "id": user_id, "email": f"u{user_id}@example.com", "plan_id": plan}
                columns = ", ".join(f'"{c}"' for c in row)
                conn.execute(text(f'INSERT INTO "user" ({columns}) VALUES ({", ".join(":" + c for c in row)})'), row)
        command.upgrade(_alembic(url), "0007")
        with engine.connect() as conn:
            plans = dict(conn.execute(text('SELECT id, plan_id FROM "user" ORDER BY id')).all())
        assert plans == {1: "pro", 2: "free"}
        [fk] = [f for f in sa.inspect(engine).get_foreign_keys("user") if f["referred_table"] == "plan"]
        assert fk["name"] == "fk_user_plan_id_plan" and fk["constrained_columns"] == ["plan_id"]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("PRAGMA foreign_keys=ON"))
            conn.execute(text("DELETE FROM plan WHERE id = 'pro'"))
        command.downgrade(_alembic(url), "0006")
        assert not [f for f in sa.inspect(engine).get_foreign_keys("user") if f["referred_table"] == "plan"]
    finally:
        engine.dispose()


@pytest.mark.promise("P26")
def test_a_deleted_accounts_id_and_its_access_log_never_pass_to_the_next_sign_up(make_user) -> None:
    from vopix.core import access_log, accounts

    first, _, _ = make_user()
    gone, _, _ = make_user()
    access_log.writer.record(
        access_log.AccessEntry(ip="192.0.2.7", method="GET", path="/chat", status=200, user_id=gone, duration_ms=1)
    )
    access_log.writer.flush()
    assert accounts.delete_account(gone)
    newcomer, _, _ = make_user()
    assert newcomer not in (first, gone)
    assert access_log.recent_entries(newcomer) == []
