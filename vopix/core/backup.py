"""Backups (issue 17): `python -m vopix backup --to DIR` and `restore --from DIR`.

A backup is a folder:
  database.pgdump   PostgreSQL: pg_dump's custom format (one consistent snapshot: pg_dump reads
                    in a single repeatable-read transaction while the app keeps writing)
  database.sqlite   SQLite: the online backup API (a consistent copy of a live database, WAL
                    included, without stopping the app)
  files/...         the files of the data folder that the database points at (export archives);
                    workspace content lives in the database (workspace_chunk) and comes with it
  manifest.json     what was backed up: dialect, migration, the vault key id the secrets need,
                    every file with its size and SHA-256

The vault key is never in a backup: the secrets stay encrypted in the dump, and the key (kept
apart, in the operator's secret store) is needed to read them after a restore. The data folder's
vault.key (the development key), locks and metrics files are left out on purpose.

Restore refuses a database that holds any table: it fills an empty one, created beforehand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from vopix import db
from vopix.core.clock import utcnow
from vopix.settings import get_settings

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.pgdump"
SQLITE_FILE = "database.sqlite"
FILES_DIR = "files"
# Folders of the data dir that the database refers to (an export row names its archive).
DATA_FOLDERS = ("exports",)


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    folder: Path
    dialect: str
    revision: str | None
    files: int
    bytes: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments, and the password through the environment (never argv)."""
    u = make_url(url)
    args = ["--dbname", str(u.database or "")]
    if u.host:
        args += ["--host", str(u.host)]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", str(u.username)]
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools matching the server "
            f"(Debian: apt-get install postgresql-client)"
        )
    return found


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupError(f"{Path(argv[0]).name} failed: {' / '.join(tail)}")


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _empty_target(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # a backup holds everyone's data


def _vault_key_id() -> str | None:
    try:
        from vopix.core import vault

        return vault.keyring().active_id
    except Exception:
        return None


def backup(to: Path, *, url: str | None = None, data_dir: Path | None = None) -> Summary:
    """Write a consistent snapshot of the database and the data files into `to` (new or empty)."""
    url = url or get_settings().database_url
    data_dir = data_dir or get_settings().data_dir
    to = to.resolve()
    _empty_target(to)
    engine = db.make_engine(url) if url != get_settings().database_url else db.get_engine()
    dialect = engine.dialect.name
    revision = _revision(engine)
    if dialect == "postgresql":
        args, env = _pg_args(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(to / PG_DUMP_FILE), *args], env)
        database_file = PG_DUMP_FILE
    elif dialect == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        target = sqlite3.connect(to / SQLITE_FILE)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        database_file = SQLITE_FILE
    else:
        raise BackupError(f"backups of {dialect} databases are not supported")
    files: list[dict[str, Any]] = []
    for folder in DATA_FOLDERS:
        src = data_dir / folder
        if not src.is_dir():
            continue
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            rel = path.relative_to(data_dir)
            dest = to / FILES_DIR / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
            files.append({"path": str(rel), "size": dest.stat().st_size, "sha256": _sha256(dest)})
    db_path = to / database_file
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "dialect": dialect,
        "alembic_revision": revision,
        "database": {"file": database_file, "size": db_path.stat().st_size, "sha256": _sha256(db_path)},
        "files": files,
        "vault_key_id": _vault_key_id(),
        "vault_key_included": False,
    }
    (to / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    total = db_path.stat().st_size + sum(f["size"] for f in files)
    return Summary(to, dialect, revision, len(files), total)


def _revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} holds no {MANIFEST}: not a VOPIX backup")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not one this version reads")
    return dict(manifest)


def verify(folder: Path) -> dict[str, Any]:
    """The manifest, after checking every file's size and SHA-256 against it."""
    manifest = read_manifest(folder)
    entries = [(folder / manifest["database"]["file"], manifest["database"])]
    entries += [(folder / FILES_DIR / f["path"], f) for f in manifest["files"]]
    for path, entry in entries:
        if not path.is_file() or path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"{path} is missing or damaged (its checksum does not match the manifest)")
    return manifest


def _refuse_non_empty(engine: Engine) -> None:
    tables = inspect(engine).get_table_names()
    if tables:
        raise BackupError(
            f"the target database is not empty ({len(tables)} tables): restore only into a new, "
            f"empty database (create one, point VOPIX_DATABASE_URL at it, then restore)"
        )


def restore(
    source: Path, *, url: str | None = None, data_dir: Path | None = None
) -> Summary:
    """Bring a backup back into an empty database and data folder."""
    url = url or get_settings().database_url
    data_dir = data_dir or get_settings().data_dir
    source = source.resolve()
    manifest = verify(source)
    engine = db.make_engine(url)
    try:
        dialect = engine.dialect.name
        if dialect != manifest["dialect"]:
            raise BackupError(
                f"this backup is of a {manifest['dialect']} database and the target is {dialect}"
            )
        _refuse_non_empty(engine)
        dump = source / manifest["database"]["file"]
        if dialect == "postgresql":
            args, env = _pg_args(url)
            _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                  "--single-transaction", *args, str(dump)], env)
        else:
            engine.dispose()
            src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
            target_path = _sqlite_path(url)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            dst = sqlite3.connect(target_path)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
        revision = _revision(engine)
    finally:
        engine.dispose()
    for entry in manifest["files"]:
        dest = data_dir / entry["path"]
        if dest.exists():
            raise BackupError(f"{dest} exists already: restore into an empty data folder")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / FILES_DIR / entry["path"], dest)
    total = manifest["database"]["size"] + sum(f["size"] for f in manifest["files"])
    return Summary(source, dialect, revision, len(manifest["files"]), total)


def describe(summary: Summary, verb: str) -> str:
    size = f"{summary.bytes / 1e6:.1f} MB"
    return (f"{verb} {summary.dialect} database at migration {summary.revision or 'none'} and "
            f"{summary.files} file{'s' if summary.files != 1 else ''} ({size}): {summary.folder}")


def _backup_cmd(args: argparse.Namespace) -> int:
    try:
        summary = backup(Path(args.to))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(describe(summary, "backed up the"))
    print("the vault key is NOT in the backup: keep VOPIX_VAULT_KEY in your secret store")
    return 0


def _restore_cmd(args: argparse.Namespace) -> int:
    try:
        summary = restore(Path(args.source))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(describe(summary, "restored the"))
    head = db.head_revision()
    if summary.revision != head:
        print(f"the code is at migration {head}: run `python -m vopix migrate` before starting")
    return 0


def add_commands(sub: Any) -> None:
    """`backup --to DIR` and `restore --from DIR` (cli.py registers them)."""
    p = sub.add_parser("backup", help="write a consistent backup of the database and data files")
    p.add_argument("--to", required=True, help="a new or empty folder")
    p.set_defaults(fn=_backup_cmd)
    p = sub.add_parser("restore", help="restore a backup into an empty database")
    p.add_argument("--from", dest="source", required=True, help="the backup folder")
    p.set_defaults(fn=_restore_cmd)
