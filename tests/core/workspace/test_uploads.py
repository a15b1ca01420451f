"""Uploads as the page sends them: a stream of pieces for several files, limits on the server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.core.workspace.conftest import chunk_count
from vopix.core.workspace import store, uploads

pytestmark = pytest.mark.asyncio


@dataclass
class Piece:
    filename: str
    offset: int
    data: bytes


async def stream(*files: tuple[str, bytes], piece: int = 64 * 1024):
    for name, data in files:
        if not data:
            yield Piece(name, 0, b"")
        for off in range(0, len(data), piece):
            yield Piece(name, off, data[off : off + piece])


@pytest.mark.promise("P04")
async def test_several_files_arrive_in_pieces_and_land_in_the_store(ws_user: int) -> None:
    big = bytes(range(256)) * 4096  # 1 MB
    report = await uploads.receive(
        ws_user, "inbox", stream(("a.txt", b"hello"), ("photos/big.bin", big), ("empty.md", b""))
    )
    assert [e.path for e in report.stored] == ["inbox/a.txt", "inbox/photos/big.bin", "inbox/empty.md"]
    assert report.refused == []
    assert store.read_bytes(ws_user, "inbox/photos/big.bin", 2**21)[1] == big
    assert store.stat(ws_user, "inbox/empty.md").size == 0


async def test_two_files_of_the_same_name_in_a_row_are_two_writes(ws_user: int) -> None:
    report = await uploads.receive(ws_user, "", stream(("n.txt", b"first"), ("n.txt", b"second")))
    assert len(report.stored) == 2 and store.read_text(ws_user, "n.txt")[1] == "second"


async def test_over_the_per_file_maximum_is_refused_mid_stream_others_still_stored(ws_user, settings_env) -> None:
    settings_env(VOPIX_MAX_FILE_BYTES=str(300_000))
    before = chunk_count()
    report = await uploads.receive(
        ws_user, "", stream(("ok-1.txt", b"x" * 1000), ("huge.bin", b"y" * 1_000_000), ("ok-2.txt", b"z"))
    )
    assert [e.path for e in report.stored] == ["ok-1.txt", "ok-2.txt"]
    assert report.refused == ["“huge.bin” is too large: the largest file allowed is 293 KB."]
    assert not store.exists(ws_user, "huge.bin") and chunk_count() == before + 2


@pytest.mark.promise("P08")
async def test_over_the_storage_left_is_refused_and_nothing_is_kept(ws_user, storage_limit) -> None:
    storage_limit(store.storage_used(ws_user) + 50_000)
    before = chunk_count()
    report = await uploads.receive(ws_user, "", stream(("fits.txt", b"a" * 30_000), ("no-room.bin", b"b" * 30_000)))
    assert [e.path for e in report.stored] == ["fits.txt"]
    assert report.refused[0].startswith("“no-room.bin” does not fit")
    assert chunk_count() == before + 1 and store.usage(ws_user).bytes_used <= store.usage(ws_user).limit_bytes
    report = await uploads.receive(ws_user, "", stream(("later.bin", b"c" * 30_000)))
    assert report.refused[0].startswith("“later.bin” does not fit") and chunk_count() == before + 1


async def test_hostile_upload_names_are_refused_with_the_reason(ws_user: int) -> None:
    report = await uploads.receive(ws_user, "", stream(("CON.txt", b"x"), ("bad?.md", b"y"), ("fine.md", b"z")))
    assert [e.path for e in report.stored] == ["fine.md"]
    assert "reserved device name" in report.refused[0] and "not allowed in names: ?" in report.refused[1]


async def test_a_cut_upload_leaves_nothing_behind(ws_user: int) -> None:
    before = chunk_count()

    async def cut():
        yield Piece("half.bin", 0, b"x" * 300_000)
        raise ConnectionResetError("browser went away")

    with pytest.raises(ConnectionResetError):
        await uploads.receive(ws_user, "", cut())
    assert chunk_count() == before and not store.exists(ws_user, "half.bin")
