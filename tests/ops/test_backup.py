"""Backups (issue 17): a populated instance (accounts, conversations, workspace files, vault
secrets, an export archive) is backed up, restored into a fresh database and data folder
elsewhere, and every table and every workspace file compares equal; the vault key is never in
the backup; restore refuses a database that is not empty and a damaged backup."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.conftest import TEST_DB, _pg_admin, _pg_url
from vopix import db
from vopix.cli import main as cli_main
from vopix.core import backup, vault
from vopix.core.agent import history
from vopix.core.workspace import entries, store
from vopix.models import metadata
from vopix.settings import get_settings

FILES = {
    "notes/plan.md": b"# Plan\n\nBack up, restore, compare.\n",
    "data/blob.bin": bytes(range(256)) * 2048,  # 512 KB: several chunks
    "empty.txt": b"",
}


@pytest.fixture
def target() -> Iterator[tuple[str, Path]]:
    """A fresh, empty database (and data folder) to restore into."""
    data = Path(get_settings().data_dir).parent / f"restored-{os.urandom(3).hex()}"
    if TEST_DB == "postgres":
        name = f"vopix_restore_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name).replace("postgresql://", "postgresql+psycopg://", 1)
        yield url, data
        db.dispose_engines()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{data / 'vopix.db'}", data
        db.dispose_engines()


def _populate(make_user) -> dict[str, object]:
    alice, _, _ = make_user()
    bob, _, _ = make_user()
    conv = history.create_conversation(alice)
    history.add_message(alice, conv.id, "user", "Remember the blue door.")
    history.add_message(alice, conv.id, "assistant", "I will remember the blue door.")
    history.add_message(bob, history.create_conversation(bob).id, "user", "Hello ünïcödé ✓")
    for path, data in FILES.items():
        store.write_bytes(alice, path, data)
    store.write_text(bob, "todo.txt", "buy milk\n")
    secret_id = vault.put_secret(alice, "provider_api_key", "sk-live-not-a-real-key-0123456789")
    exports = get_settings().data_dir / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    (exports / "export-test.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (get_settings().data_dir / "vault.key").write_text("dev:" + "A" * 43 + "=\n")  # a decoy
    return {"alice": alice, "bob": bob, "secret_id": secret_id}


def _rows(engine: Engine) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in [*metadata.sorted_tables]:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
        out["alembic_version"] = [tuple(r) for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
    return out


def _workspace(user_id: int) -> dict[str, bytes]:
    files = {}
    for entry in entries.list_entries(user_id):
        if entry.kind == "file":
            files[entry.path] = entries.read_bytes(user_id, entry.path, 10_000_000)[1]
    return files


def test_backup_then_restore_elsewhere_gives_back_every_table_and_file(
    make_user, target, tmp_path, settings_env
) -> None:
    people = _populate(make_user)
    alice, bob = int(people["alice"]), int(people["bob"])  # type: ignore[call-overload]
    before_rows = _rows(db.get_engine())
    before_files = {u: _workspace(u) for u in (alice, bob)}
    assert FILES.items() <= before_files[alice].items()  # beside the seeded README and skills

    folder = tmp_path / "backup"
    assert cli_main(["backup", "--to", str(folder)]) == 0
    manifest = backup.verify(folder)
    assert manifest["dialect"] == db.get_engine().dialect.name
    assert manifest["vault_key_included"] is False
    assert [f["path"] for f in manifest["files"]] == ["exports/export-test.zip"]
    # No vault key in any file of the backup, neither the configured one nor the dev key file.
    key_b64 = get_settings().vault_key.partition(":")[2]
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert key_b64.encode() not in data and base64.b64decode(key_b64) not in data
            assert b"A" * 43 not in data
    assert not list(folder.rglob("vault.key"))

    url, data_dir = target
    settings_env(VOPIX_DATABASE_URL=url, VOPIX_DATA_DIR=str(data_dir))
    assert cli_main(["restore", "--from", str(folder)]) == 0
    assert _rows(db.get_engine()) == before_rows
    assert {u: _workspace(u) for u in (alice, bob)} == before_files
    assert (data_dir / "exports" / "export-test.zip").read_bytes().startswith(b"PK")
    # The secrets come back readable with the key kept apart (the same key, from the environment).
    assert vault.get_secret(alice, str(people["secret_id"])) == "sk-live-not-a-real-key-0123456789"


def test_restore_refuses_a_database_that_is_not_empty(make_user, tmp_path, capsys) -> None:
    make_user()
    folder = tmp_path / "b"
    backup.backup(folder)
    assert cli_main(["restore", "--from", str(folder)]) == 1  # the live, migrated database
    assert "not empty" in capsys.readouterr().err


def test_a_damaged_backup_is_refused_before_anything_is_written(make_user, target, tmp_path) -> None:
    make_user()
    folder = tmp_path / "b"
    summary = backup.backup(folder)
    dump = folder / backup.read_manifest(folder)["database"]["file"]
    raw = bytearray(dump.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    dump.write_bytes(bytes(raw))
    url, data_dir = target
    with pytest.raises(backup.BackupError, match="damaged"):
        backup.restore(folder, url=url, data_dir=data_dir)
    assert summary.bytes > 0
    engine = db.make_engine(url)
    try:
        from sqlalchemy import inspect

        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "something").write_text("x")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.backup(tmp_path / "old")
