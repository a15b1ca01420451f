"""Where file content lives: a small interface, and the database backend behind it.

The store (store.py) keeps names, sizes and the meter; a backend keeps bytes, addressed by an
opaque blob id. Content is written and read in chunks of CHUNK_SIZE, so neither an upload nor a
download ever holds a whole big file in memory. An object-store backend (S3 and the like) can be
added later by implementing BlobStorage; callers do not change.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from vopix.core.clock import utcnow
from vopix.db import get_engine, session_scope
from vopix.models import WorkspaceChunk, WorkspaceEntry

CHUNK_SIZE = 256 * 1024
# The first bytes of every file are kept while writing: enough to tell text from binary and to
# feed the search index, bounded so a big upload costs at most this much memory.
HEAD_BYTES = 1024 * 1024


class TooLarge(Exception):
    """More bytes arrived than the writer was allowed to take; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class BlobMissing(Exception):
    """Content vanished while being read (the file was replaced or deleted meanwhile)."""


@dataclass(frozen=True)
class BlobRef:
    blob_id: str | None  # None: empty content, nothing stored
    size: int
    sha256: str
    head: bytes


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...
    def finish(self, session: Session | None = None) -> BlobRef:
        """Store what is still buffered (in `session`'s transaction when given: the one that
        will point an entry at this content) and describe the content."""
        ...

    def abort(self) -> None: ...


class BlobStorage(Protocol):
    def writer(self, user_id: int, *, max_bytes: int, session: Session | None = None) -> BlobWriter:
        """A writer that refuses (TooLarge) past `max_bytes`. With `session`, the content joins
        that transaction (small writes, sign-up); without, it is written as it arrives and a
        crash leaves only orphans that `purge_orphans` removes."""
        ...

    def iter_chunks(self, user_id: int, blob_id: str, size: int) -> Iterator[bytes]: ...
    def delete(self, session: Session, user_id: int, blob_id: str) -> None: ...
    def purge_orphans(self, older_than: datetime) -> int: ...


class _DbWriter:
    def __init__(self, user_id: int, max_bytes: int, session: Session | None) -> None:
        self.user_id = user_id
        self.max_bytes = max_bytes
        self.session = session
        self.blob_id = str(uuid.uuid4())
        self.size = 0
        self.seq = 0
        self.hash = hashlib.sha256()
        self.head = bytearray()
        self.buf = bytearray()
        self.closed = False

    def _insert(self, data: bytes, session: Session | None = None) -> None:
        stmt = insert(WorkspaceChunk).values(
            blob_id=self.blob_id, seq=self.seq, user_id=self.user_id, data=data, created_at=utcnow()
        )
        # Core inserts, not ORM objects: the session must not keep every chunk alive until commit.
        session = session or self.session
        if session is not None:
            session.execute(stmt)
        else:
            with get_engine().begin() as conn:
                conn.execute(stmt)
        self.seq += 1

    def write(self, data: bytes) -> None:
        if self.closed:
            raise RuntimeError("writer is closed")
        if not data:
            return
        if self.size + len(data) > self.max_bytes:
            self.abort()
            raise TooLarge(self.max_bytes)
        self.size += len(data)
        self.hash.update(data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self.buf += data
        while len(self.buf) >= CHUNK_SIZE:
            self._insert(bytes(self.buf[:CHUNK_SIZE]))
            del self.buf[:CHUNK_SIZE]

    def finish(self, session: Session | None = None) -> BlobRef:
        if self.buf:
            self._insert(bytes(self.buf), session)
            self.buf.clear()
        self.closed = True
        blob_id = self.blob_id if self.size else None
        return BlobRef(blob_id, self.size, self.hash.hexdigest(), bytes(self.head))

    def abort(self) -> None:
        self.closed = True
        self.buf.clear()
        if self.seq == 0:
            return
        stmt = delete(WorkspaceChunk).where(col(WorkspaceChunk.blob_id) == self.blob_id)
        if self.session is not None:
            self.session.execute(stmt)
        else:
            with get_engine().begin() as conn:
                conn.execute(stmt)


class DatabaseStorage:
    """File content in the workspace_chunk table (SQLite or PostgreSQL)."""

    def writer(self, user_id: int, *, max_bytes: int, session: Session | None = None) -> BlobWriter:
        return _DbWriter(user_id, max_bytes, session)

    def iter_chunks(self, user_id: int, blob_id: str, size: int) -> Iterator[bytes]:
        """One short query per chunk: no transaction stays open while a slow client downloads."""
        sent, seq = 0, 0
        query = select(WorkspaceChunk.data).where(
            col(WorkspaceChunk.blob_id) == blob_id, col(WorkspaceChunk.user_id) == user_id
        )
        while sent < size:
            with get_engine().connect() as conn:
                data = conn.execute(query.where(col(WorkspaceChunk.seq) == seq)).scalar()
            if data is None:
                raise BlobMissing(blob_id)
            chunk = bytes(data)
            sent += len(chunk)
            seq += 1
            yield chunk

    def delete(self, session: Session, user_id: int, blob_id: str) -> None:
        session.execute(
            delete(WorkspaceChunk).where(
                col(WorkspaceChunk.blob_id) == blob_id, col(WorkspaceChunk.user_id) == user_id
            )
        )

    def purge_orphans(self, older_than: datetime) -> int:
        """Chunks no entry points at (an upload cut off by a crash), once they are old enough
        that no upload can still be writing them."""
        referenced = select(WorkspaceEntry.blob_id).where(col(WorkspaceEntry.blob_id).is_not(None))
        with session_scope() as s:
            result = s.execute(
                delete(WorkspaceChunk).where(
                    col(WorkspaceChunk.created_at) < older_than,
                    col(WorkspaceChunk.blob_id).not_in(referenced),
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]


_storage: BlobStorage = DatabaseStorage()


def get_storage() -> BlobStorage:
    return _storage
