"""Engines, sessions, and the migration check at start-up. Nothing here runs at import."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from vopix.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DatabaseBehindError(RuntimeError):
    """The database schema is older (or newer) than the code's models."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    # hide_parameters: a failed statement's values (message content, token hashes, secrets)
    # stay out of exception texts, hence out of logged tracebacks.
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def get_engine() -> Engine:
    url = get_settings().database_url
    engine = _engines.get(url)
    if engine is None:
        with _lock:
            engine = _engines.get(url)
            if engine is None:
                engine = _engines[url] = make_engine(url)
    return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def core(session: Session) -> Connection:
    """The session's connection, for Core statements on hot paths (no ORM objects, no ORM
    execution machinery). Pending ORM changes are flushed first, as session.execute would."""
    session.flush()
    return session.connection()


_sqlite_writers = threading.Lock()


@contextmanager
def ingest_transaction() -> Iterator[Connection]:
    """A short Core write transaction for webhook ingest. SQLite has one writer: this process's
    ingest threads queue on a lock instead of colliding in SQLite's busy handler, whose sleeps
    (up to 100 ms) would make the latency tail."""
    engine = get_engine()
    lock = _sqlite_writers if engine.dialect.name == "sqlite" else nullcontext()
    with lock, engine.begin() as conn:
        yield conn


@functools.cache
def insert_ignoring_duplicates(table: Any, unique: tuple[str, ...], dialect: str) -> Any:
    """INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING the new rows' first key column."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    key = next(iter(table.primary_key.columns))
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(key)


def ping() -> bool:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", get_settings().database_url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision() -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine().connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate() -> None:
    """Apply every pending migration (the `python -m vopix migrate` command)."""
    from alembic import command

    get_engine()  # creates the SQLite folder when needed
    command.upgrade(alembic_config(), "head")


def check_schema_current() -> None:
    """Refuse to run on a database that is behind (or ahead of) the code."""
    head, current = head_revision(), current_revision()
    if head != current:
        raise DatabaseBehindError(
            f"The database is at migration {current or 'none (empty)'} but this code needs "
            f"{head}. Run `python -m vopix migrate` (make run does it for you), then start again."
        )
