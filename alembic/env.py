"""Alembic environment: our models, our URL, types compared."""

from __future__ import annotations

from sqlalchemy import engine_from_config, pool

import vopix.models  # noqa: F401  (registers every table)
from alembic import context
from vopix.models import metadata
from vopix.settings import get_settings

config = context.config
if not config.get_main_option("sqlalchemy.url"):
    config.set_main_option("sqlalchemy.url", get_settings().database_url.replace("%", "%%"))


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Full-text search objects (SQLite FTS5 tables, PostgreSQL GIN index) are made in raw SQL by
    the migrations and have no model: keep autogenerate from proposing to drop them."""
    return not (name and "_fts" in name)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        compare_type=True,
        include_name=include_name,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Off while the schema changes: SQLite alters a table by copying it and dropping the
            # old one, and with enforcement on, that drop runs the ON DELETE action of every row
            # (or fails). The pragma works only outside a transaction: before alembic opens one.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            include_name=include_name,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
