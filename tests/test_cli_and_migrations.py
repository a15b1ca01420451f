"""Operator commands and the guarantee that models and alembic migrations agree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from alembic import command
from vopix import db
from vopix.cli import main
from vopix.core import accounts
from vopix.models import metadata


def test_check_db_passes_on_the_migrated_database(capsys) -> None:
    assert main(["check-db"]) == 0
    assert "up to date" in capsys.readouterr().out
    db.check_schema_current()
    assert db.current_revision() == db.head_revision() is not None


def _not_search_index(name: str | None, _type: str, _parents: dict) -> bool:
    """Full-text search objects (SQLite FTS5 tables, a PostgreSQL GIN expression index) are made
    in raw SQL by the migrations, per dialect, and have no model: their names carry `_fts`."""
    return not (name and "_fts" in name)


def _model_vs_database_diff(conn) -> list:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "include_name": _not_search_index}
    )
    return compare_metadata(context, metadata)


def test_models_and_migrations_agree() -> None:
    """Every model change comes with a migration: autogenerate finds nothing left to do."""
    with db.get_engine().connect() as conn:
        diff = _model_vs_database_diff(conn)
    assert diff == [], f"models and migrations differ, write a migration: {diff}"


def test_alembic_check_through_our_env_finds_nothing_to_generate() -> None:
    """What `alembic revision --autogenerate` would see with our env.py: no pending changes
    (and no drops of objects the migrations made on purpose)."""
    command.check(db.alembic_config())


def test_every_model_table_exists_after_migrating() -> None:
    with db.get_engine().connect() as conn:
        context = MigrationContext.configure(conn)
        existing = set(context.dialect.get_table_names(conn))
    assert {t.name for t in metadata.sorted_tables} <= existing


def test_create_user_command(capsys) -> None:
    assert main(["create-user", "--email", "Operator@Example.com", "--password", "an-operator-pass-1"]) == 0
    out = capsys.readouterr().out
    assert "created user" in out and "operator@example.com" in out
    assert "an-operator-pass-1" not in out
    user = accounts.check_credentials("operator@example.com", "an-operator-pass-1")
    assert user.email == "operator@example.com"
    assert main(["create-user", "--email", "operator@example.com", "--password", "an-operator-pass-2"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["create-user", "--email", "weak@example.com", "--password", "short"]) == 1
    assert accounts.find_user_id("weak@example.com") is None


@contextmanager
def _alembic_version(value: str | None) -> Iterator[None]:
    """Pretend the database is at another revision; always put the real one back."""
    original = db.current_revision()
    assert original is not None
    with db.get_engine().begin() as conn:
        if value is None:
            conn.execute(text("DELETE FROM alembic_version"))
        else:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": value})
    try:
        yield
    finally:
        with db.get_engine().begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": original})
        assert db.current_revision() == original


@pytest.mark.parametrize(
    ("revision", "shown"),
    [
        (None, "none (empty)"),  # behind: never migrated
        ("0000_older", "0000_older"),  # behind: an older revision
        ("ffffffffffff", "ffffffffffff"),  # ahead: code older than the database
    ],
)
def test_stale_schema_is_refused_with_instructions(revision: str | None, shown: str, capsys) -> None:
    with _alembic_version(revision):
        with pytest.raises(db.DatabaseBehindError) as err:
            db.check_schema_current()
        message = str(err.value)
        assert shown in message
        assert db.head_revision() in message
        assert "python -m vopix migrate" in message
        assert main(["check-db"]) == 1
        assert "python -m vopix migrate" in capsys.readouterr().err
    db.check_schema_current()  # restored


def test_migrate_command_builds_a_fresh_database(settings_env, tmp_path, capsys) -> None:
    settings_env(VOPIX_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh' / 'vopix.db'}")
    try:
        with pytest.raises(db.DatabaseBehindError, match="none"):
            db.check_schema_current()
        assert main(["migrate"]) == 0
        assert db.head_revision() in capsys.readouterr().out
        assert main(["check-db"]) == 0
        assert main(["migrate"]) == 0  # running it again is harmless
        with db.get_engine().connect() as conn:
            assert _model_vs_database_diff(conn) == []
    finally:
        db.get_engine().dispose()
