"""indexes for what the code reads and purges, named constraints, foreign keys for bare ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 00:00:00

- Indexes: the purges (outbound_message.created_at, auth_session.expires_at / revoked_at,
  login_nonce.expires_at, workspace_chunk.created_at, inbound_event (status, received_at)),
  the claim's "no older unfinished event of this sender" (sender_hash, status, id), the login
  throttle (email, at) and a person's access log (user_id, at). The single-column indexes
  these replace go, and so do the ones that repeat the leading column of a unique constraint
  (usage_daily, notice, workspace_entry).
- Foreign keys, ON DELETE SET NULL, for ids that pointed at other tables with none:
  inbound_event.conversation_id / user_message_id and agent_profile.api_key_secret_id. Ids
  that already point nowhere are cleared first.
- Constraint names: the models now carry a naming convention, which alembic also applies to
  the tables that migrations 0001-0004 create. A database made before that has each dialect's
  names instead (PostgreSQL `user_pkey`, `message_user_id_fkey`; SQLite none at all). This
  migration reads the names in place and sets the conventional ones, so a database migrated
  from scratch and one upgraded from 0004 end the same. SQLite cannot rename a constraint:
  every table is rebuilt (batch mode), its full-text triggers put back afterwards.

Needs a live connection (it reads the schema): no offline `--sql` mode. On SQLite the rebuild
copies every table once (file content in workspace_chunk included): time and free disk space
in proportion to the largest table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of vopix.models.types.NAMING_CONVENTION as it was: a migration keeps its meaning.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every table at revision 0004.
TABLES = (
    "access_log", "login_attempt", "user", "auth_session", "login_nonce", "secret",
    "refresh_token", "plan", "agent_profile", "conversation", "notice", "usage_daily", "message",
    "workspace_chunk", "workspace_entry", "workspace_usage", "workspace_text", "channel_link",
    "channel_link_code", "inbound_event", "outbound_message",
)

# (table, index, columns) that go: a unique constraint or a new composite index leads with them.
OLD_INDEXES = (
    ("usage_daily", "ix_usage_daily_user_id", ["user_id"]),
    ("notice", "ix_notice_user_id", ["user_id"]),
    ("workspace_entry", "ix_workspace_entry_user_id", ["user_id"]),
    ("login_attempt", "ix_login_attempt_email", ["email"]),
    ("access_log", "ix_access_log_user_id", ["user_id"]),
    ("inbound_event", "ix_inbound_event_sender_hash", ["sender_hash"]),
    ("inbound_event", "ix_inbound_event_received_at", ["received_at"]),
)

NEW_INDEXES = (
    ("login_attempt", "ix_login_attempt_email_at", ["email", "at"]),
    ("access_log", "ix_access_log_user_id_at", ["user_id", "at"]),
    ("inbound_event", "ix_inbound_event_sender_status_id", ["sender_hash", "status", "id"]),
    ("inbound_event", "ix_inbound_event_status_received_at", ["status", "received_at"]),
    ("inbound_event", "ix_inbound_event_conversation_id", ["conversation_id"]),
    ("inbound_event", "ix_inbound_event_user_message_id", ["user_message_id"]),
    ("outbound_message", "ix_outbound_message_created_at", ["created_at"]),
    ("auth_session", "ix_auth_session_expires_at", ["expires_at"]),
    ("auth_session", "ix_auth_session_revoked_at", ["revoked_at"]),
    ("login_nonce", "ix_login_nonce_expires_at", ["expires_at"]),
    ("workspace_chunk", "ix_workspace_chunk_created_at", ["created_at"]),
    ("agent_profile", "ix_agent_profile_api_key_secret_id", ["api_key_secret_id"]),
)

# (table, column, referred table): all `id` columns, all ON DELETE SET NULL.
NEW_FOREIGN_KEYS = (
    ("inbound_event", "conversation_id", "conversation"),
    ("inbound_event", "user_message_id", "message"),
    ("agent_profile", "api_key_secret_id", "secret"),
)


def _fk_name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def upgrade() -> None:
    bind = op.get_bind()
    for table, column, referred in NEW_FOREIGN_KEYS:
        # A deleted conversation, message or key left its id behind; the key would refuse it.
        op.execute(
            f'UPDATE "{table}" SET "{column}" = NULL WHERE "{column}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM "{referred}" WHERE "{referred}".id = "{table}"."{column}")'
        )
    for table, name, _ in OLD_INDEXES:
        op.drop_index(name, table_name=table)
    for table, name, columns in NEW_INDEXES:
        op.create_index(name, table, columns)

    if bind.dialect.name == "sqlite":
        _rebuild_sqlite_tables(add_foreign_keys=True)
    else:
        _rename_postgresql_constraints(to_convention=True)
        for table, column, referred in NEW_FOREIGN_KEYS:
            op.create_foreign_key(
                _fk_name(table, column, referred), table, referred, [column], ["id"], ondelete="SET NULL"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # The names stay: revision 0004 reads none of them, and an upgrade finds them in place.
        _rebuild_sqlite_tables(add_foreign_keys=False)
    else:
        for table, column, referred in NEW_FOREIGN_KEYS:
            op.drop_constraint(_fk_name(table, column, referred), table, type_="foreignkey")
        _rename_postgresql_constraints(to_convention=False)
    for table, name, _ in NEW_INDEXES:
        op.drop_index(name, table_name=table)
    for table, name, columns in OLD_INDEXES:
        op.create_index(name, table, columns)


def _rename_postgresql_constraints(*, to_convention: bool) -> None:
    """Primary and foreign keys: PostgreSQL's own names <-> the convention's. Unique
    constraints and indexes were named explicitly from the start."""
    inspector = sa.inspect(op.get_bind())

    def rename(table: str, old: str | None, new: str) -> None:
        if old and old != new:
            op.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"')

    for table in TABLES:
        rename(
            table,
            inspector.get_pk_constraint(table)["name"],
            f"pk_{table}" if to_convention else f"{table}_pkey",
        )
        for fk in inspector.get_foreign_keys(table):
            column = fk["constrained_columns"][0]
            new = (
                _fk_name(table, column, fk["referred_table"])
                if to_convention
                else f"{table}_{column}_fkey"
            )
            rename(table, fk["name"], new)


def _rebuild_sqlite_tables(*, add_foreign_keys: bool) -> None:
    """SQLite alters a table's constraints only by rebuilding it: copy the rows into a new
    table, drop the old one, rename. Unnamed constraints get the convention's names on the
    way. Foreign key enforcement is off while migrations run (alembic/env.py), so dropping a
    parent table cascades nothing. Dropping a table drops its triggers: the full-text ones
    are read first and made again (the FTS tables go by rowid, which the copy keeps)."""
    bind = op.get_bind()
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    ).all()
    tables = TABLES if add_foreign_keys else sorted({t for t, _, _ in NEW_FOREIGN_KEYS})
    for table in tables:
        with op.batch_alter_table(
            table, recreate="always", naming_convention=NAMING_CONVENTION
        ) as batch:
            for fk_table, column, referred in NEW_FOREIGN_KEYS:
                if fk_table != table:
                    continue
                name = _fk_name(table, column, referred)
                if add_foreign_keys:
                    batch.create_foreign_key(name, referred, [column], ["id"], ondelete="SET NULL")
                else:
                    batch.drop_constraint(name, type_="foreignkey")
    present = {r[0] for r in bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for name, sql in triggers:
        if name not in present:
            op.execute(sql)
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"rows that point at missing rows after the rebuild: {broken[:10]}")
