"""A folder (or the whole workspace) as a zip, produced as a stream: each file is read chunk by
chunk and its compressed bytes handed on at once, so memory stays flat whatever the size."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from vopix.core.workspace import store
from vopix.core.workspace.paths import name_of, normalize_path


class _Sink(io.RawIOBase):
    """A write-only, unseekable buffer the zip writes into and the generator drains. Unseekable
    makes zipfile use data descriptors instead of seeking back to patch headers."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.buf += b
        return len(b)

    def drain(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


def zip_name(folder: str) -> str:
    return (name_of(folder) if folder else "workspace") + ".zip"


def iter_zip(user_id: int, folder: str = "") -> Iterator[bytes]:
    """The zip's bytes. The listing is taken (and a bad folder refused) before the first yield,
    so a route can still answer 404 instead of a broken download."""
    folder = normalize_path(folder, allow_root=True, existing=True)
    entries = store.list_entries(user_id, folder)
    if folder:
        folder = store.stat(user_id, folder).path  # as the person spelled it when making it
    top = name_of(folder) + "/" if folder else ""
    strip = len(folder) + 1 if folder else 0

    def generate() -> Iterator[bytes]:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", allowZip64=True) as zf:
            if top:
                zf.writestr(zipfile.ZipInfo(top, date_time=_stamp(None)), b"")
            for e in entries:
                arcname = top + e.path[strip:]
                if e.is_folder:
                    zf.writestr(zipfile.ZipInfo(arcname + "/", date_time=_stamp(e)), b"")
                    yield sink.drain()
                    continue
                info = zipfile.ZipInfo(arcname, date_time=_stamp(e))
                # Text compresses well; most binary formats (images, PDFs, archives) already are.
                info.compress_type = zipfile.ZIP_DEFLATED if e.is_text else zipfile.ZIP_STORED
                try:
                    _, chunks = store.open_file(user_id, e.path)
                except store.NotFound:  # deleted since the listing
                    continue
                with zf.open(info, "w", force_zip64=e.size > 0x7FFFFFFF) as out:
                    for chunk in chunks:
                        out.write(chunk)
                        if len(sink.buf) >= 64 * 1024:
                            yield sink.drain()
                yield sink.drain()
        yield sink.drain()

    return generate()


def _stamp(e: store.EntryView | None) -> tuple[int, int, int, int, int, int]:
    if e is None:
        return (1980, 1, 1, 0, 0, 0)
    t = e.updated_at
    return (max(1980, t.year), t.month, t.day, t.hour, t.minute, t.second)
