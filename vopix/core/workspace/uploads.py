"""Receiving uploaded files as a stream of pieces, straight into the store.

The web page streams uploads (several files, one after the other) to the server; each piece goes
into the store as it arrives, so nothing is parked in a public folder or a temporary file, and
a file over the per-file maximum or the storage left is refused on the server the moment it
crosses the line, whatever the browser claimed. The pieces come from any async iterator of
objects with `filename`, `offset` and `data` (Reflex's UploadChunk has exactly these).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from vopix.core.workspace import store
from vopix.core.workspace.base import WorkspaceError


class Piece(Protocol):
    filename: str
    offset: int
    data: bytes


@dataclass
class UploadReport:
    stored: list[store.EntryView] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence per file not stored


@dataclass
class _Current:
    name: str
    pending: store.PendingWrite | None
    received: int = 0


def _target(folder: str, filename: str) -> str:
    # The browser's name may carry sub-folders (a dropped folder); paths.py judges the result.
    return f"{folder}/{filename}" if folder else filename


async def receive(user_id: int, folder: str, pieces: AsyncIterator[Piece]) -> UploadReport:
    report = UploadReport()
    current: _Current | None = None

    async def finish(cur: _Current | None) -> None:
        if cur is None or cur.pending is None:
            return
        try:
            report.stored.append(await asyncio.to_thread(cur.pending.commit))
        except WorkspaceError as exc:
            report.refused.append(str(exc))

    async def refuse(cur: _Current, message: str) -> None:
        if cur.pending is not None:
            await asyncio.to_thread(cur.pending.abort)
            cur.pending = None
        report.refused.append(message)

    try:
        async for piece in pieces:
            name = piece.filename or "upload"
            # A new part starts at offset 0 (two files of one name follow each other that way).
            if current is None or name != current.name or (piece.offset == 0 and current.received > 0):
                await finish(current)
                current = _Current(name, None)
                try:
                    current.pending = await asyncio.to_thread(
                        store.begin_write, user_id, _target(folder, name)
                    )
                except WorkspaceError as exc:
                    report.refused.append(str(exc))
            current.received += len(piece.data)
            if current.pending is None:
                continue  # refused: the rest of this file is read and dropped
            try:
                await asyncio.to_thread(current.pending.write, bytes(piece.data))
            except WorkspaceError as exc:
                await refuse(current, str(exc))
    except BaseException:
        # Cut off (the browser left, the task was cancelled): drop the half-received file now
        # rather than leave it for the orphan job. Synchronous on purpose: we may be cancelled.
        if current is not None and current.pending is not None:
            current.pending.abort()
        raise
    await finish(current)
    return report
