"""The schema itself: constraint names, foreign keys, the indexes the queries and purges read,
and migration 0005 upgrading (and downgrading) a database that already holds rows, made before
the models had a naming convention. Runs on the pass's dialect (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, text
from sqlalchemy.sql.schema import DEFAULT_NAMING_CONVENTION

from alembic import command
from tests.conftest import PG_DB_NAME, TEST_DB, _pg_admin, _pg_url
from vopix import db
from vopix.channels import queue
from vopix.core import access_log, accounts, jobs, vault
from vopix.core.agent import history, profile
from vopix.core.clock import utcnow
from vopix.core.workspace import search
from vopix.core.workspace.storage import get_storage
from vopix.models import AgentProfile, metadata
from vopix.models.types import NAMING_CONVENTION

PREVIOUS_HEAD = "0004"


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Empty databases of the pass's dialect, dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        if TEST_DB == "postgres":
            name = f"{PG_DB_NAME}_schema{len(made)}"
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _pg_admin(f'CREATE DATABASE "{name}"')
            made.append(name)
            return _pg_url(name).replace("postgresql://", "postgresql+psycopg://", 1)
        made.append(str(tmp_path / f"schema{len(made)}.db"))
        return f"sqlite:///{made[-1]}"

    yield make
    db.dispose_engines()
    if TEST_DB == "postgres":
        for name in made:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alembic(url: str) -> Any:
    cfg = db.alembic_config()
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def schema_of(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """Every table with its columns, keys (names included), unique constraints and indexes,
    as the database reports them. Full-text objects are made per dialect and left out."""
    insp = sa.inspect(engine)
    tables: dict[str, dict[str, Any]] = {}
    for t in insp.get_table_names():
        if "_fts" in t or t == "alembic_version":
            continue
        pk = insp.get_pk_constraint(t)
        tables[t] = {
            "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
            "primary key": (pk["name"], tuple(pk["constrained_columns"])),
            "foreign keys": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                 tuple(fk["referred_columns"]), fk["options"].get("ondelete"))
                for fk in insp.get_foreign_keys(t)
            ),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(t)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(t)
                if "_fts" not in str(i["name"])
            ),
        }
    return tables


def test_every_constraint_in_the_models_carries_the_conventional_name() -> None:
    """The convention is in force before the first table is defined (names are fixed then)."""
    assert metadata.naming_convention == NAMING_CONVENTION
    for table in metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, f"{table.name}: unnamed {constraint!r}"
            if isinstance(constraint, sa.PrimaryKeyConstraint):
                assert constraint.name == f"pk_{table.name}"
            elif isinstance(constraint, sa.ForeignKeyConstraint):
                column = constraint.column_keys[0]
                assert constraint.name == f"fk_{table.name}_{column}_{constraint.referred_table.name}"
        for index in table.indexes:
            assert index.name and index.name.startswith("ix_"), index


def test_the_migrated_database_is_what_the_models_describe_names_included(new_database) -> None:
    """compare_metadata (test_cli_and_migrations) does not look at constraint names; this does."""
    fresh = sa.create_engine(new_database())
    metadata.create_all(fresh)
    assert schema_of(db.get_engine()) == schema_of(fresh)
    fresh.dispose()


def test_no_index_repeats_the_leading_column_of_a_unique_constraint() -> None:
    for table in metadata.sorted_tables:
        leading = {
            c.columns[0].name for c in table.constraints if isinstance(c, sa.UniqueConstraint)
        } | {i.columns[0].name for i in table.indexes if i.unique}
        for index in table.indexes:
            if not index.unique and len(index.columns) == 1:
                assert index.columns[0].name not in leading, f"{index.name} repeats a unique key"


# ---- migration 0005 on a database with rows, made before the naming convention ---------------

T0 = datetime(2026, 11, 1, 12, 0, 0)  # naive UTC, as the columns store it
ROWS: dict[str, list[dict[str, Any]]] = {
    "user": [
        {"id": 1, "email": "ada@example.com", "password_hash": "x", "age_confirmed_at": T0,
         "marketing_opt_in": False, "subscription_status": "free", "is_operator": False,
         "created_at": T0, "updated_at": T0, "plan_id": "free"},
        {"id": 2, "email": "bob@example.com", "password_hash": "x", "age_confirmed_at": T0,
         "marketing_opt_in": True, "subscription_status": "free", "is_operator": False,
         "created_at": T0, "updated_at": T0, "plan_id": "free"},
    ],
    "secret": [
        {"id": "s-ada", "user_id": 1, "purpose": "ai_provider_key", "key_id": "k1", "nonce": b"n",
         "ciphertext": b"c", "hint": "…abcd", "created_at": T0, "updated_at": T0},
    ],
    "agent_profile": [
        {"user_id": user, "name": "Vopi", "personality": "", "language": "English", "timezone": "UTC",
         "provider_kind": "", "model": "", "base_url": "", "api_key_secret_id": key, "updated_at": T0}
        for user, key in ((1, "s-ada"), (2, "s-deleted-long-ago"))
    ],
    "conversation": [{"id": 1, "user_id": 1, "title": "Tomatoes", "created_at": T0, "updated_at": T0}],
    "message": [
        {"id": 1, "conversation_id": 1, "user_id": 1, "role": "user", "content": "when do tomatoes ripen",
         "channel": "telegram", "status": "complete", "created_at": T0},
        {"id": 2, "conversation_id": 1, "user_id": 1, "role": "assistant", "content": "late summer",
         "channel": "telegram", "status": "complete", "created_at": T0},
    ],
    "inbound_event": [
        {"id": 1, "channel": "telegram", "external_id": "100", "payload": "", "status": "done",
         "stage": "done", "attempts": 1, "worker": "w", "sender_hash": "h1", "user_id": 1,
         "conversation_id": 1, "user_message_id": 1, "outcome": "answered", "received_at": T0},
        # Its conversation and message were deleted while nothing held the ids to account.
        {"id": 2, "channel": "telegram", "external_id": "101", "payload": "", "status": "done",
         "stage": "done", "attempts": 1, "worker": "w", "sender_hash": "h1", "user_id": 1,
         "conversation_id": 77, "user_message_id": 78, "outcome": "answered", "received_at": T0},
        {"id": 3, "channel": "whatsapp", "external_id": "wamid.1", "payload": '{"x":1}',
         "status": "pending", "stage": "received", "attempts": 0, "worker": "", "sender_hash": "h2",
         "outcome": "", "received_at": T0},
    ],
    "outbound_message": [
        {"id": 1, "user_id": 1, "channel": "telegram", "inbound_event_id": 1, "seq": 0, "kind": "text",
         "body": "", "provider_message_id": "p1", "status": "sent", "error": "", "created_at": T0},
    ],
    "workspace_entry": [
        {"id": 1, "user_id": 1, "path": "garden.md", "path_key": "garden.md", "kind": "file", "size": 20,
         "content_type": "text/markdown", "is_text": True, "sha256": "", "created_at": T0, "updated_at": T0},
    ],
    "workspace_text": [{"entry_id": 1, "user_id": 1, "content": "sow basil beside the tomatoes"}],
    "notice": [{"id": 1, "user_id": 1, "key": "welcome", "level": "info", "text": "Hello",
                "link": "", "created_at": T0}],
    "usage_daily": [{"id": 1, "user_id": 1, "day": T0.date(), "model": "", "api_calls": 0,
                     "input_tokens": 0, "output_tokens": 0, "messages": 2}],
    "auth_session": [{"id": 1, "user_id": 1, "created_at": T0, "last_seen_at": T0,
                      "expires_at": T0 + timedelta(days=30), "ip": "", "user_agent": ""}],
    "refresh_token": [{"id": 1, "session_id": 1, "token_hash": "t" * 64, "created_at": T0}],
    "access_log": [{"id": 1, "at": T0, "ip": "192.0.2.1", "method": "GET", "path": "/", "status": 200,
                    "user_id": 1, "duration_ms": 1}],
}


def _insert_rows(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table, rows in ROWS.items():
            for row in rows:
                columns = ", ".join(f'"{c}"' for c in row)
                values = ", ".join(f":{c}" for c in row)
                conn.execute(text(f'INSERT INTO "{table}" ({columns}) VALUES ({values})'), row)
            if engine.dialect.name == "postgresql" and isinstance(rows[0].get("id"), int):
                # Explicit ids leave the sequence behind; the app's next insert would collide.
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), {len(rows)})"))


# Rows that migrations after PREVIOUS_HEAD add themselves: 0010 seeds the Team plan.
SEEDED_LATER = {"plan": 1}


def _with_seeded(before: dict[str, int]) -> dict[str, int]:
    return {t: n + SEEDED_LATER.get(t, 0) for t, n in before.items()}


def _counts_of(engine: sa.Engine, before: dict[str, int]) -> dict[str, int]:
    """The row counts of the tables in `before`; tables later migrations add must be empty."""
    now = _counts(engine)
    assert all(n == 0 for t, n in now.items() if t not in before)
    return {t: n for t, n in now.items() if t in before}


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
            for t in sorted(sa.inspect(engine).get_table_names())
            if "_fts" not in t and t != "alembic_version"
        }


@contextmanager
def _database_at_previous_head(new_database, monkeypatch) -> Iterator[tuple[str, sa.Engine]]:
    """A database as one made before this change is: migrations 0001-0004 run without the
    convention (alembic applies the target metadata's convention to the tables migrations
    create), then rows in every kind of table."""
    url = new_database()
    monkeypatch.setattr(metadata, "naming_convention", DEFAULT_NAMING_CONVENTION)
    command.upgrade(_alembic(url), PREVIOUS_HEAD)
    monkeypatch.setattr(metadata, "naming_convention", NAMING_CONVENTION)
    engine = sa.create_engine(url)
    pk = sa.inspect(engine).get_pk_constraint("message")["name"]
    assert pk == ("message_pkey" if TEST_DB == "postgres" else None)  # the dialect's own naming
    _insert_rows(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()


def test_upgrading_a_database_with_rows_keeps_them_and_ends_like_a_fresh_one(
    new_database, monkeypatch, settings_env
) -> None:
    with _database_at_previous_head(new_database, monkeypatch) as (url, engine):
        before = _counts(engine)
        command.upgrade(_alembic(url), "head")

        assert schema_of(engine) == schema_of(db.get_engine())  # the test database: from scratch
        assert _counts_of(engine, before) == _with_seeded(before)
        with engine.connect() as conn:
            events = conn.execute(
                text("SELECT id, conversation_id, user_message_id FROM inbound_event ORDER BY id")
            ).all()
            keys = conn.execute(text("SELECT user_id, api_key_secret_id FROM agent_profile ORDER BY user_id")).all()
        # Ids that pointed nowhere are cleared (the new foreign keys would refuse them); the rest stay.
        assert [tuple(e) for e in events] == [(1, 1, 1), (2, None, None), (3, None, None)]
        assert [tuple(k) for k in keys] == [(1, "s-ada"), (2, None)]

        settings_env(VOPIX_DATABASE_URL=url)  # the app itself on the upgraded database
        assert [h.message_id for h in history.search_messages(1, "tomatoes")] == [1]
        added = history.add_message(1, 1, "user", "and peppers")
        assert [h.message_id for h in history.search_messages(1, "peppers")] == [added.id]
        assert [h.path for h in search.search(1, "basil")] == ["garden.md"]
        assert profile.get_profile(1).has_own_key
        assert not profile.get_profile(2).has_own_key


def test_downgrade_then_upgrade_again_and_account_deletion_still_cascades(
    new_database, monkeypatch, settings_env
) -> None:
    with _database_at_previous_head(new_database, monkeypatch) as (url, engine):
        before = _counts(engine)
        command.upgrade(_alembic(url), "head")
        command.downgrade(_alembic(url), PREVIOUS_HEAD)
        assert _counts(engine) == before
        assert {fk["referred_table"] for fk in sa.inspect(engine).get_foreign_keys("inbound_event")} == {"user"}
        command.upgrade(_alembic(url), "head")
        assert _counts_of(engine, before) == _with_seeded(before)
        assert schema_of(engine) == schema_of(db.get_engine())

        settings_env(VOPIX_DATABASE_URL=url)
        history.delete_conversation(1, 1)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT conversation_id, user_message_id FROM inbound_event WHERE id = 1")).one()
        assert tuple(kept) == (None, None)  # the delivery's dedupe key outlives the conversation
        assert accounts.delete_account(1)
        # Every row of the account goes with it (access_log has no foreign key, on purpose: see
        # the model; the purge takes it after 30 days).
        owned = [t for t, rows in ROWS.items() if "user_id" in rows[0] and t != "access_log"]
        with engine.connect() as conn:
            for table in owned:
                left = conn.execute(text(f'SELECT count(*) FROM "{table}" WHERE user_id = 1')).scalar_one()
                assert left == 0, f"{table} kept rows of the deleted account"
        after = _counts(engine)
        assert (after["user"], after["refresh_token"], after["agent_profile"]) == (1, 0, 1)


# ---- the foreign keys at work in the app ------------------------------------------------------

def test_deleting_a_stored_key_leaves_the_agent_without_one(make_user) -> None:
    user_id, _, _ = make_user()
    secret_id = vault.put_secret(user_id, profile.KEY_PURPOSE, "sk-test-1234567890")
    with db.session_scope() as s:
        row = s.get(AgentProfile, user_id) or AgentProfile(user_id=user_id)
        row.api_key_secret_id = secret_id
        s.add(row)
    assert profile.get_profile(user_id).has_own_key
    assert vault.delete_secret(user_id, secret_id)
    assert not profile.get_profile(user_id).has_own_key  # no id left pointing at nothing


# ---- the indexes the code's queries and purges read ------------------------------------------

@contextmanager
def _statements() -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        seen.append((statement, parameters))

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan(statement: str, parameters: Any) -> str:
    """The query plan. PostgreSQL is told to avoid sequential scans: these tables are empty
    here, and a scan of an empty table is what it would rightly choose."""
    engine = db.get_engine()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        conn.rollback()
    return "\n".join(str(r[-1]) for r in rows)


# The start of each statement the code runs, and the index its plan must go through (either
# of two for the claim: without statistics PostgreSQL takes whichever leads with status).
EXPECTED_INDEXES: dict[str, tuple[str, ...] | str] = {
    "UPDATE inbound_event SET status": ("ix_inbound_event_status_id", "ix_inbound_event_status_received_at"),
    "DELETE FROM inbound_event": "ix_inbound_event_status_received_at",
    "DELETE FROM outbound_message": "ix_outbound_message_created_at",
    "DELETE FROM auth_session": "ix_auth_session_expires_at",
    "DELETE FROM login_nonce": "ix_login_nonce_expires_at",
    "DELETE FROM login_attempt": "ix_login_attempt_at",
    "DELETE FROM access_log": "ix_access_log_at",
    "DELETE FROM workspace_chunk": "ix_workspace_chunk_created_at",
    "SELECT count(*) AS count_1, max(login_attempt.at)": "ix_login_attempt_email_at",  # throttle
    "SELECT access_log.id": "ix_access_log_user_id_at",
}


def test_the_claim_the_purges_and_the_throttle_read_through_their_indexes(make_user) -> None:
    user_id, email, _ = make_user()
    now = utcnow()
    with _statements() as seen:
        queue.claim("worker-1", now=now)
        queue.purge(now)
        jobs.purge_expired_auth(now)
        access_log.purge_access_logs(now, 30)
        access_log.recent_entries(user_id)
        get_storage().purge_orphans(now)
        with pytest.raises(accounts.AccountError):
            accounts.check_credentials(email, "not-the-password")
    found: dict[str, str] = {}
    for statement, parameters in seen:
        flat = " ".join(statement.split()).replace('"', "")
        for start, index in EXPECTED_INDEXES.items():
            if flat.startswith(start) and start not in found:
                found[start] = plan = _plan(statement, parameters)
                names = (index,) if isinstance(index, str) else index
                assert any(n in plan for n in names), f"{start}... does not use {index}:\n{plan}"
    assert set(found) == set(EXPECTED_INDEXES), f"not run: {set(EXPECTED_INDEXES) - set(found)}"
    if TEST_DB == "sqlite":  # PostgreSQL picks by statistics, which an empty table lacks
        claim = found["UPDATE inbound_event SET status"]
        assert "ix_inbound_event_sender_status_id" in claim  # "no older unfinished event of the sender"
