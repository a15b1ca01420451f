"""A scratch database for a benchmark run: never the server's own `test` database."""

from __future__ import annotations

import atexit
import os


def fresh_database(url: str) -> str:
    """For a PostgreSQL URL, create vopix_bench_<pid> on that server (dropped at exit) and
    return its URL; anything else (SQLite, or empty) is returned unchanged."""
    if not url.startswith(("postgresql", "postgres:")):
        return url
    import psycopg

    admin = url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"vopix_bench_{os.getpid()}"

    def run(sql: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from vopix import db

        db.dispose_engines()
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return admin.rsplit("/", 1)[0] + "/" + name
