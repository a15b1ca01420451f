"""The store: seeding, round trips in chunks, folders, moves, deletion, limits and the meter."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import func, select

from tests.core.workspace.conftest import chunk_count
from vopix.core import accounts, jobs
from vopix.core.clock import utcnow
from vopix.core.workspace import archive, search, store
from vopix.core.workspace.paths import PathError
from vopix.core.workspace.seed import EXAMPLE_SKILL_PATH
from vopix.core.workspace.storage import CHUNK_SIZE, get_storage
from vopix.db import session_scope
from vopix.models import WorkspaceChunk, WorkspaceEntry, WorkspaceText, WorkspaceUsage


def _entries(user_id: int) -> list[str]:
    return [e.path for e in store.list_entries(user_id)]


@pytest.mark.promise("P04")
def test_a_new_account_starts_with_a_readme_and_an_example_skill(ws_user: int) -> None:
    assert _entries(ws_user) == ["README.md", "skills", "skills/meeting-notes", EXAMPLE_SKILL_PATH]
    readme = store.read_text(ws_user, "README.md")[1]
    assert "MEMORY.md" in readme and "cannot" in readme and "run them" in readme
    assert store.read_text(ws_user, EXAMPLE_SKILL_PATH)[1].startswith("---\nname: meeting-notes\n")
    used = store.usage(ws_user)
    assert used.files == 2 and used.bytes_used == sum(e.size for e in store.list_entries(ws_user))


@pytest.mark.promise("P04")
def test_files_round_trip_in_chunks_with_checksum_and_type(ws_user: int) -> None:
    data = bytes(range(256)) * (CHUNK_SIZE // 256 * 3 + 7)  # a bit over three chunks
    view = store.write_bytes(ws_user, "docs/blob.bin", data)
    assert view.size == len(data) and view.sha256 == hashlib.sha256(data).hexdigest()
    assert view.content_type == "application/octet-stream" and not view.is_text
    got, chunks = store.open_file(ws_user, "docs/blob.bin")
    assert got == view
    pieces = list(chunks)
    assert len(pieces) == 4 and all(len(p) <= CHUNK_SIZE for p in pieces)
    assert b"".join(pieces) == data
    note = store.write_text(ws_user, "docs/note.md", "# Hi\n")
    assert note.is_text and note.content_type == "text/markdown"
    assert store.stat(ws_user, "docs").kind == "folder"  # made on the way


def test_stream_write_stores_a_big_file_without_a_whole_copy(ws_user: int) -> None:
    piece = b"0123456789abcdef" * 4096  # 64 KB
    view = store.write_stream(ws_user, "big.log", (piece for _ in range(80)))  # 5 MB
    assert view.size == 80 * len(piece) and view.is_text
    assert sum(len(c) for c in store.open_file(ws_user, "big.log")[1]) == view.size


def test_folders_and_files_cannot_take_each_others_place(ws_user: int) -> None:
    store.write_text(ws_user, "a.txt", "x")
    with pytest.raises(store.WorkspaceError, match="is a file"):
        store.write_text(ws_user, "a.txt/b.txt", "y")
    store.make_folder(ws_user, "box")
    with pytest.raises(store.WorkspaceError, match="is a folder"):
        store.write_text(ws_user, "box", "y")
    with pytest.raises(store.AlreadyExists):
        store.make_folder(ws_user, "BOX")
    with pytest.raises(store.AlreadyExists):
        store.write_text(ws_user, "a.txt", "z", create_only=True)


def test_a_write_based_on_an_old_version_is_a_conflict(ws_user: int) -> None:
    v1 = store.write_text(ws_user, "n.md", "one")
    store.write_text(ws_user, "n.md", "two", expected_sha256=v1.sha256)
    with pytest.raises(store.Conflict, match="changed since"):
        store.write_text(ws_user, "n.md", "three", expected_sha256=v1.sha256)
    assert store.read_text(ws_user, "n.md")[1] == "two"


def test_moving_a_folder_moves_everything_in_it(ws_user: int) -> None:
    store.write_text(ws_user, "Projects/alpha/plan.md", "p")
    store.write_text(ws_user, "Projects/alpha/deep/x.txt", "x")
    store.move(ws_user, "projects/ALPHA", "Archive/2024/alpha-done")
    assert "Archive/2024/alpha-done/deep/x.txt" in _entries(ws_user)
    assert not store.exists(ws_user, "Projects/alpha/plan.md")
    assert store.read_text(ws_user, "archive/2024/alpha-done/plan.md")[1] == "p"
    with pytest.raises(store.WorkspaceError, match="inside itself"):
        store.move(ws_user, "Archive", "Archive/inner")
    with pytest.raises(store.AlreadyExists):
        store.move(ws_user, "README.md", "Archive/2024/alpha-done/plan.md")
    store.move(ws_user, "README.md", "readme.md")  # a change of case only
    assert "readme.md" in _entries(ws_user)


def test_a_move_that_would_nest_too_deep_changes_nothing(ws_user: int) -> None:
    store.write_text(ws_user, "/".join(["d"] * 15) + "/f.txt", "x")
    before = _entries(ws_user)
    with pytest.raises(PathError, match="nested at most"):
        store.move(ws_user, "d", "e/f/d")
    assert _entries(ws_user) == before


@pytest.mark.promise("P08")
def test_the_meter_follows_writes_overwrites_and_deletes(ws_user: int) -> None:
    base = store.storage_used(ws_user)
    store.write_bytes(ws_user, "f/a.bin", b"a" * 1000)
    store.write_bytes(ws_user, "f/b.bin", b"b" * 500)
    assert store.storage_used(ws_user) == base + 1500
    store.write_bytes(ws_user, "f/a.bin", b"a" * 100)
    assert store.storage_used(ws_user) == base + 600
    assert store.delete(ws_user, "f") == (2, 600)
    assert store.storage_used(ws_user) == base
    with session_scope() as s:
        row = s.get(WorkspaceUsage, ws_user)
        assert row.files == 2  # the seeded README and skill


@pytest.mark.promise("P08")
@pytest.mark.promise("P11")
def test_the_plan_storage_limit_is_enforced_and_a_refusal_changes_nothing(ws_user: int, storage_limit) -> None:
    used = store.storage_used(ws_user)
    storage_limit(used + 10_000)
    store.write_bytes(ws_user, "ok.bin", b"x" * 6000)
    before = (_entries(ws_user), chunk_count(), store.storage_used(ws_user))
    with pytest.raises(store.QuotaExceeded, match="Not enough storage") as err:
        store.write_bytes(ws_user, "too-much.bin", b"y" * 6000)
    assert "upgrade on the Billing page" in str(err.value) and "/billing" not in str(err.value)
    with pytest.raises(store.QuotaExceeded):
        store.write_stream(ws_user, "stream.bin", (b"z" * 1000 for _ in range(10)))
    with pytest.raises(store.QuotaExceeded):
        store.append_text(ws_user, "README.md", "x" * 6000)
    assert (_entries(ws_user), chunk_count(), store.storage_used(ws_user)) == before
    # Replacing a file only needs room for the difference.
    store.write_bytes(ws_user, "ok.bin", b"w" * 9000)
    assert store.storage_used(ws_user) == used + 9000


def test_the_per_file_maximum_is_enforced_on_every_write_path(ws_user: int, settings_env) -> None:
    settings_env(VOPIX_MAX_FILE_BYTES=str(CHUNK_SIZE + 10))
    before = (_entries(ws_user), chunk_count(), store.storage_used(ws_user))
    with pytest.raises(store.FileTooLarge, match="largest file allowed"):
        store.write_bytes(ws_user, "big.bin", b"x" * (CHUNK_SIZE + 11))
    pending = store.begin_write(ws_user, "big-stream.bin")
    pending.write(b"x" * CHUNK_SIZE)  # a first chunk is stored as it arrives...
    with pytest.raises(store.FileTooLarge, match="largest file allowed"):
        pending.write(b"x" * 11)  # ...and removed when the limit is passed
    with pytest.raises(store.FileTooLarge):
        store.append_text(ws_user, "README.md", "x" * CHUNK_SIZE)
    assert (_entries(ws_user), chunk_count(), store.storage_used(ws_user)) == before


@pytest.mark.promise("P08")
def test_two_racing_writes_cannot_overshoot_the_limit(ws_user: int, storage_limit) -> None:
    storage_limit(store.storage_used(ws_user) + 100_000)
    outcomes: list[str] = []

    def upload(name: str) -> None:
        try:
            store.write_stream(ws_user, f"{name}.bin", iter([b"r" * 60_000]))
            outcomes.append("ok")
        except store.QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=upload, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert store.usage(ws_user).bytes_used <= store.usage(ws_user).limit_bytes
    assert chunk_count() == len(store.list_entries(ws_user)) - 2  # no orphan content left


def test_deleting_a_folder_removes_content_and_index(ws_user: int) -> None:
    store.write_text(ws_user, "trash/a.md", "alpha words")
    store.write_bytes(ws_user, "trash/deep/b.bin", b"\x00" * (CHUNK_SIZE * 2))
    chunks_before = chunk_count()
    assert store.delete(ws_user, "Trash") == (2, 11 + CHUNK_SIZE * 2)
    assert chunk_count() == chunks_before - 3
    assert search.search(ws_user, "alpha") == []
    with pytest.raises(store.NotFound):
        store.delete(ws_user, "trash")


def test_another_persons_paths_do_not_exist_for_you(make_user) -> None:
    alice, _, _ = make_user()
    bob, _, _ = make_user()
    store.write_text(alice, "private/diary.md", "alice's secret plans")
    for attempt in (
        lambda: store.stat(bob, "private/diary.md"),
        lambda: store.open_file(bob, "private/diary.md"),
        lambda: store.read_text(bob, "private/diary.md"),
        lambda: store.list_entries(bob, "private"),
        lambda: store.move(bob, "private/diary.md", "mine.md"),
        lambda: store.delete(bob, "private"),
        lambda: list(archive.iter_zip(bob, "private")),
    ):
        with pytest.raises(store.NotFound):
            attempt()
    assert search.search(bob, "secret") == [] and search.search(bob, "diary") == []
    store.write_text(bob, "private/diary.md", "bob's own")  # his own file, same name
    assert store.read_text(alice, "private/diary.md")[1] == "alice's secret plans"
    assert store.read_text(bob, "private/diary.md")[1] == "bob's own"
    # Even a guessed blob id reads nothing across people.
    with session_scope() as s:
        blob = s.exec(select(WorkspaceEntry.blob_id).where(WorkspaceEntry.user_id == alice,
                                                            WorkspaceEntry.path == "private/diary.md")).one()
    with pytest.raises(Exception, match=blob):
        list(get_storage().iter_chunks(bob, blob, 10))


def test_full_text_search_finds_words_and_prefixes(ws_user: int) -> None:
    store.write_text(ws_user, "notes/trip.md", "Packing list for the Lisbon conference: adapters, badge.")
    store.write_text(ws_user, "notes/other.md", "Nothing relevant here.")
    store.write_bytes(ws_user, "photo.jpg", b"\xff\xd8\xff conference")
    hits = search.search(ws_user, "lisb confer")
    assert [h.path for h in hits] == ["notes/trip.md"] and "[Lisbon]" in hits[0].snippet
    assert [h.path for h in search.search(ws_user, "PHOTO")] == ["photo.jpg"]
    store.write_text(ws_user, "notes/trip.md", "Changed entirely.")
    assert search.search(ws_user, "lisbon") == []
    assert search.search(ws_user, "  ") == []
    assert search.search(ws_user, "\"'*:&|!") == []  # query syntax never reaches the engine raw


def test_folder_zip_streams_in_pieces_and_unpacks(ws_user: int) -> None:
    store.write_text(ws_user, "Share/readme.txt", "hello")
    store.write_bytes(ws_user, "Share/sub/data.bin", bytes(range(256)) * 2048)  # 512 KB
    store.make_folder(ws_user, "Share/empty")
    pieces = list(archive.iter_zip(ws_user, "share"))
    assert len([p for p in pieces if p]) > 3
    zf = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert sorted(zf.namelist()) == ["Share/", "Share/empty/", "Share/readme.txt", "Share/sub/", "Share/sub/data.bin"]
    assert zf.read("Share/sub/data.bin") == bytes(range(256)) * 2048 and zf.testzip() is None
    whole = zipfile.ZipFile(io.BytesIO(b"".join(archive.iter_zip(ws_user, ""))))
    assert "README.md" in whole.namelist() and archive.zip_name("") == "workspace.zip"


def test_interrupted_uploads_leave_orphans_that_the_job_removes(ws_user: int) -> None:
    kept = chunk_count()
    pending = store.begin_write(ws_user, "cut.bin")
    pending.write(b"x" * (CHUNK_SIZE * 2))  # the connection drops here: no commit, no abort
    assert chunk_count() == kept + 2
    assert jobs.run_all_once(utcnow())["purge_workspace_orphans"] == 0  # too recent to judge
    assert jobs.run_all_once(utcnow() + timedelta(days=2))["purge_workspace_orphans"] == 2
    assert chunk_count() == kept and store.read_text(ws_user, "README.md")[1]


@pytest.mark.promise("P26")
def test_deleting_the_account_deletes_every_workspace_row(ws_user: int) -> None:
    store.write_text(ws_user, "docs/a.md", "words to index")
    assert accounts.delete_account(ws_user)
    with session_scope() as s:
        for model in (WorkspaceEntry, WorkspaceChunk, WorkspaceText, WorkspaceUsage):
            assert s.exec(select(func.count()).select_from(model)).one() == 0, model


def test_accounts_made_by_the_operator_command_get_the_starter_files(capsys) -> None:
    from vopix.cli import main

    assert main(["create-user", "--email", "op-made@example.com", "--password", "an-operator-pass-1"]) == 0
    user_id = accounts.find_user_id("op-made@example.com")
    assert store.exists(user_id, "README.md") and store.exists(user_id, EXAMPLE_SKILL_PATH)


@pytest.mark.promise("P08")
def test_the_meter_is_rebuilt_from_the_files_when_missing(ws_user: int) -> None:
    """Accounts older than the meter (or a meter row lost) are counted from their files."""
    store.write_bytes(ws_user, "a.bin", b"a" * 300)
    expected = store.storage_used(ws_user)
    for action in (lambda: store.delete(ws_user, "a.bin"), lambda: store.write_bytes(ws_user, "b.bin", b"b" * 50)):
        with session_scope() as s:
            s.delete(s.get(WorkspaceUsage, ws_user))
        action()
        expected = sum(e.size for e in store.list_entries(ws_user))
        assert store.storage_used(ws_user) == expected


def test_sign_up_works_even_when_the_starter_files_do_not_fit(make_user, storage_limit) -> None:
    storage_limit(100)  # smaller than the README
    user_id, _, _ = make_user()
    assert store.list_entries(user_id) == [] and store.storage_used(user_id) == 0
