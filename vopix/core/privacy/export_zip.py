"""Writing an export's ZIP in constant memory.

Every part writes through an `ExportWriter`: one member of the ZIP at a time, opened with
`ZipFile.open(name, "w")` and written as its rows arrive (JSON arrays and CSV are streamed row by
row, workspace files chunk by chunk), so nothing the size of the account is ever held. The
writer also reports progress and renews the export's lease (`on_progress`), which is how a
worker learns that its export was taken over and must stop.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import IO, Any

# How often, at most, a running export writes its progress (and renews its lease).
PROGRESS_EVERY_S = 1.0
_TEXT_BUFFER = 64 * 1024


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        raise TypeError("bytes in an export part")  # nothing binary is exported as JSON
    raise TypeError(f"cannot export {type(value).__name__}")


def _stamp(t: datetime | None) -> tuple[int, int, int, int, int, int]:
    if t is None:
        return (1980, 1, 1, 0, 0, 0)
    return (max(1980, t.year), t.month, t.day, t.hour, t.minute, t.second)


def dumps(value: Any) -> str:
    """Indented: for the small documents (the pure-Python encoder that indenting needs is slow)."""
    return json.dumps(value, default=_default, ensure_ascii=False, indent=2)


_compact = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(", ", ": "))


def dumps_line(value: Any) -> str:
    """One array item on one line, with the C encoder: the big arrays (messages, logs)."""
    return _compact.encode(value)


class ExportWriter:
    """What a part writer gets: the person, and ways to add members to the ZIP."""

    def __init__(
        self, zf: zipfile.ZipFile, user_id: int, fh: IO[bytes], on_progress: Callable[[int], None]
    ) -> None:
        self.zf = zf
        self.user_id = user_id
        self._fh = fh
        self._on_progress = on_progress
        self._last = time.monotonic()

    # -- progress ---------------------------------------------------------------------------
    def bytes_written(self) -> int:
        return self._fh.tell()

    def tick(self, force: bool = False) -> None:
        """Call often (each batch of rows, each chunk): every PROGRESS_EVERY_S it records the
        progress and renews the lease; raises when the export is no longer this worker's."""
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self._on_progress(self.bytes_written())

    # -- members ----------------------------------------------------------------------------
    @contextmanager
    def open(self, name: str, *, compress: bool = True, stamp: datetime | None = None,
             size_hint: int = 0) -> Iterator[IO[bytes]]:
        """A binary member, written as it goes."""
        info = zipfile.ZipInfo(name, date_time=_stamp(stamp))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        with self.zf.open(info, "w", force_zip64=size_hint > 0x7FFFFFFF) as out:
            yield out

    @contextmanager
    def text(self, name: str) -> Iterator[IO[str]]:
        """A UTF-8 text member."""
        with self.open(name) as raw, io.TextIOWrapper(
            io.BufferedWriter(_Unclosable(raw), _TEXT_BUFFER), encoding="utf-8", newline=""
        ) as out:
            yield out

    def folder(self, name: str, stamp: datetime | None = None) -> None:
        info = zipfile.ZipInfo(name.rstrip("/") + "/", date_time=_stamp(stamp))
        info.external_attr = 0o40755 << 16
        self.zf.writestr(info, b"")

    def write_text(self, name: str, content: str) -> None:
        with self.text(name) as out:
            out.write(content)
        self.tick()

    def write_json(self, name: str, document: Mapping[str, Any]) -> None:
        """A JSON object whose values may be iterators: those are written as arrays, one item
        at a time, so a part can stream a whole table into one key."""
        with self.text(name) as out:
            out.write("{")
            for i, (key, value) in enumerate(document.items()):
                out.write(("," if i else "") + "\n  " + json.dumps(key) + ": ")
                if isinstance(value, Iterator):
                    self._array(out, value, indent="  ")
                else:
                    out.write(dumps(value).replace("\n", "\n  "))
            out.write("\n}\n")
        self.tick()

    def _array(self, out: IO[str], items: Iterator[Any], indent: str) -> None:
        out.write("[")
        first = True
        for item in items:
            out.write(("" if first else ",") + "\n" + indent + "  " + dumps_line(item))
            first = False
            self.tick()
        out.write("]" if first else "\n" + indent + "]")

    def write_csv(self, name: str, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
        with self.text(name) as out:
            w = csv.writer(out)
            w.writerow(header)
            for row in rows:
                w.writerow(row)
                self.tick()


class _Unclosable(io.RawIOBase):
    """The zip member seen through a buffer; closing the text wrapper flushes, and the member
    itself is closed by its own `with` (which writes its sizes)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self._raw.write(b)
        return len(b)

    def close(self) -> None:  # the member is closed by ExportWriter.open
        super().close()
