"""Workspace benchmark: 1,000 uploads and listings, then a 20 MB file written, read back through
the store, downloaded through the route and zipped; throughput and peak Python memory.

Uploads go through the same path as the page (pieces of 64 KB into the store, limits checked);
the download is the real route called as an ASGI app whose body pieces are counted and dropped
as they leave, so the peak measured is the server's, not a client's copy. Peak memory is
tracemalloc's (Python allocations), taken in a second, untimed pass of each big operation.
Target: no whole-file copies, i.e. a peak well under the 20 MB file size.

    .venv/bin/python bench/workspace.py [--files 1000] [--big-mb 20] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _scratch import fresh_database  # noqa: E402  (bench/ is the script's own folder)

PIECE = 64 * 1024  # what the browser's upload stream hands the server at a time, roughly


def _environment(database_url: str | None) -> None:
    data = Path(tempfile.mkdtemp(prefix="vopix-bench-ws-"))
    os.environ.update(
        {
            "VOPIX_DATA_DIR": str(data),
            "VOPIX_DATABASE_URL": fresh_database(database_url or "") or f"sqlite:///{data / 'vopix.db'}",
            "VOPIX_VAULT_KEY": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "VOPIX_BCRYPT_ROUNDS": "4",
            "VOPIX_RUN_SCHEDULER": "0",
        }
    )


def _pieces(data_piece: bytes, total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(len(data_piece), total - sent)
        yield data_piece[:n]
        sent += n


async def _upload_pieces(names: list[str], size: int):
    from dataclasses import dataclass

    @dataclass
    class Piece:
        filename: str
        offset: int
        data: bytes

    body = (b"Notes line, with some words to index.\n" * (size // 38 + 1))[:size]
    for name in names:
        for off in range(0, size, PIECE):
            yield Piece(name, off, body[off : off + PIECE])


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def _drain(app: Any, path: str, cookie: str) -> int:
    """GET `path` from the ASGI app, dropping each body piece as it is sent; returns bytes."""
    got = {"status": 0, "bytes": 0}

    async def receive() -> dict:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            got["status"] = message["status"]
        elif message["type"] == "http.response.body":
            got["bytes"] += len(message.get("body", b""))

    raw, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": raw, "raw_path": raw.encode(), "query_string": query.encode(),
        "root_path": "", "headers": [(b"host", b"bench"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 1), "server": ("bench", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    assert got["status"] == 200, got
    return got["bytes"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--file-kb", type=int, default=4)
    parser.add_argument("--big-mb", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    _environment(args.database_url)

    from vopix import db
    from vopix.api.app import build_api
    from vopix.core import accounts, sessions
    from vopix.core.workspace import archive, store, uploads
    from vopix.db import session_scope
    from vopix.models import Plan

    db.migrate()
    email = f"bench-{secrets.token_hex(3)}@example.com"
    user = accounts.sign_up(email, "bench-pass-12345", age_confirmed=True)
    with session_scope() as s:  # room for the run whatever the plan says
        plan = s.get(Plan, "free")
        plan.storage_bytes = 10 * 1024**3
        s.add(plan)
    token, _ = sessions.start_session(user.id)
    cookie = f"{sessions.COOKIE_NAME}={token}"
    app = build_api()
    rows: list[tuple[str, str, str, str]] = []
    mb = 1024 * 1024

    # 1,000 small uploads, as the page streams them.
    names = [f"inbox/batch-{i // 100:02d}/note-{i:04d}.md" for i in range(args.files)]
    size = args.file_kb * 1024
    seconds, report = _timed(lambda: asyncio.run(uploads.receive(user.id, "", _upload_pieces(names, size))))
    assert len(report.stored) == args.files and not report.refused, report.refused[:3]
    rows.append((f"upload {args.files} x {args.file_kb} KB", f"{seconds:.2f} s",
                 f"{args.files / seconds:,.0f} files/s, {args.files * size / mb / seconds:.1f} MB/s", "-"))

    # Listing the whole tree, as the page does on every change.
    runs = 20
    seconds, listed = _timed(lambda: [store.list_entries(user.id) for _ in range(runs)])
    n = len(listed[-1])
    peak = _peak(lambda: store.list_entries(user.id))
    rows.append((f"list the tree ({n} entries)", f"{seconds / runs * 1000:.1f} ms",
                 f"{runs / seconds:.1f} lists/s", f"{peak / mb:.1f} MB"))

    # One big file: written in pieces, read back, downloaded, zipped.
    big = args.big_mb * mb
    piece = os.urandom(PIECE)
    seconds, _ = _timed(lambda: store.write_stream(user.id, "big/video.bin", _pieces(piece, big)))
    peak = _peak(lambda: store.write_stream(user.id, "big/video.bin", _pieces(piece, big)))
    rows.append((f"write {args.big_mb} MB (streamed)", f"{seconds:.2f} s", f"{big / mb / seconds:.0f} MB/s",
                 f"{peak / mb:.1f} MB"))

    def read_back() -> int:
        return sum(len(c) for c in store.open_file(user.id, "big/video.bin")[1])

    seconds, total = _timed(read_back)
    assert total == big
    rows.append((f"read {args.big_mb} MB through the store", f"{seconds:.2f} s",
                 f"{big / mb / seconds:.0f} MB/s", f"{_peak(read_back) / mb:.1f} MB"))

    def download() -> int:
        return asyncio.run(_drain(app, "/api/workspace/file?path=big/video.bin", cookie))

    seconds, total = _timed(download)
    assert total == big
    rows.append((f"download {args.big_mb} MB (route)", f"{seconds:.2f} s", f"{big / mb / seconds:.0f} MB/s",
                 f"{_peak(download) / mb:.1f} MB"))

    def zip_all() -> int:
        return asyncio.run(_drain(app, "/api/workspace/zip", cookie))

    seconds, total = _timed(zip_all)
    rows.append((f"zip everything (route, {total / mb:.0f} MB out)", f"{seconds:.2f} s",
                 f"{total / mb / seconds:.0f} MB/s", f"{_peak(zip_all) / mb:.1f} MB"))
    assert archive.zip_name("") == "workspace.zip"

    dialect = "postgresql" if "postgres" in os.environ["VOPIX_DATABASE_URL"] else "sqlite"
    print(f"workspace benchmark ({dialect}; peak = tracemalloc peak of Python allocations)")
    widths = [max(len(r[i]) for r in [("operation", "time", "throughput", "peak"), *rows]) for i in range(4)]
    for i, row in enumerate([("operation", "time", "throughput", "peak"), *rows]):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    db.dispose_engines()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
