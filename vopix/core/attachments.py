"""Attachments: files a person sends with a message (web composer, Telegram, WhatsApp), saved
into their workspace's inbox/ and named in the message so the agent knows and can read them.

A file lands at ``inbox/<date> <name>``: the date in the person's time zone, the name the
sender gave (or ``photo.jpg``) cleaned of anything paths.py refuses, never trusted as a path.
Every byte goes through the workspace store, so the storage meter and the per-file maximum
apply, and a refused file leaves nothing behind. The note the message carries is made and read
here only: one line per file, ``Attached: inbox/2026-12-02 photo.jpg (image/jpeg, 120 KB)``.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vopix.core.agent import profile
from vopix.core.attachment_note import Attachment as Attachment
from vopix.core.attachment_note import note as note
from vopix.core.attachment_note import split_note as split_note
from vopix.core.attachment_note import with_note as with_note
from vopix.core.clock import utcnow, zone_or_utc
from vopix.core.workspace import store, uploads
from vopix.core.workspace.base import EntryView, human_size
from vopix.core.workspace.paths import PathError, name_of, normalize_path

INBOX = "inbox"
DEFAULT_NAME = "file"
PHOTO_NAME = "photo.jpg"
MAX_NAME_CHARS = 120
# Characters paths.py refuses in a name (Windows' set, the separators).
_FORBIDDEN = set('<>:"|?*/\\')


def _of(view: EntryView) -> Attachment:
    return Attachment(view.path, view.content_type, human_size(view.size))


# ---------------------------------------------------------------- names


def clean_name(raw: str | None, default: str = DEFAULT_NAME) -> str:
    """A file name made from what a sender claimed: its last path part only, without control,
    invisible or forbidden characters, spaces collapsed, at most MAX_NAME_CHARS (the extension
    kept); `default` when nothing usable is left or the workspace would refuse it."""
    text = unicodedata.normalize("NFC", raw or "")
    text = re.split(r"[/\\]", text)[-1]
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in _FORBIDDEN or cat in ("Cc", "Cs", "Cf", "Co", "Cn"):
            continue
        kept.append(" " if cat in ("Zs", "Zl", "Zp") else ch)
    name = " ".join("".join(kept).split()).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME_CHARS].rstrip(" .")
    try:
        normalize_path(f"{INBOX}/{name}")
    except PathError:
        return default
    return name or default


def _numbered(name: str, n: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if dot and stem:
        return f"{stem} ({n}).{ext}"
    return f"{name} ({n})"


def inbox_path(user_id: int, raw_name: str | None, *, default: str = DEFAULT_NAME,
               taken: Iterable[str] = (), now: datetime | None = None) -> str:
    """A free path for a new attachment: ``inbox/<date> <clean name>``, numbered " (2)", " (3)"…
    when the person already has one of that name (or it is in `taken`, names picked for files
    still arriving)."""
    day = (now or utcnow()).astimezone(zone_or_utc(profile.timezone_of(user_id))).date()
    base = f"{day.isoformat()} {clean_name(raw_name, default)}"
    busy = {p.casefold() for p in taken}
    for n in range(1, 1000):
        path = f"{INBOX}/{base if n == 1 else _numbered(base, n)}"
        if path.casefold() not in busy and not store.exists(user_id, path):
            return path
    raise PathError("Too many files of that name in inbox/ today; rename or delete some.")


# ---------------------------------------------------------------- saving


def save(user_id: int, raw_name: str | None, chunks: Iterable[bytes], *,
         default: str = DEFAULT_NAME) -> Attachment:
    """Save one attachment (from a channel) into inbox/. Raises the store's WorkspaceError
    (FileTooLarge, QuotaExceeded: their message is for the person); nothing is kept then."""
    view = store.write_stream(user_id, inbox_path(user_id, raw_name, default=default), chunks)
    return _of(view)


class _Piece(Protocol):
    filename: str
    offset: int
    data: bytes


@dataclass
class _Renamed:
    filename: str
    offset: int
    data: bytes


async def receive(user_id: int, pieces: AsyncIterator[_Piece]) -> tuple[list[Attachment], list[str]]:
    """Files streamed from the web composer (the workspace page's upload path), each saved as
    a new file in inbox/. Returns what was saved and one sentence per file refused."""
    async def renamed() -> AsyncIterator[_Renamed]:
        current, received, target = None, 0, ""
        picked: list[str] = []
        async for piece in pieces:
            name = piece.filename or DEFAULT_NAME
            if current is None or name != current or (piece.offset == 0 and received > 0):
                current, received = name, 0
                target = await asyncio.to_thread(inbox_path, user_id, name, taken=picked)
                picked.append(target)
            received += len(piece.data)
            yield _Renamed(name_of(target), piece.offset, piece.data)

    report = await uploads.receive(user_id, INBOX, renamed())
    return [_of(v) for v in report.stored], report.refused
