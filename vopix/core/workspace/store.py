"""Each person's workspace: folders and files, written through the storage backend and metered.

Every function takes the user id first and every query filters on it, so one person's paths can
never name another's files: a path that exists only for someone else is simply "not found".
Writes are all-or-nothing: a path, size or quota refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete as sql_delete
from sqlmodel import Session, col, select

from vopix.core.clock import utcnow
from vopix.core.workspace import search
from vopix.core.workspace.base import (
    AlreadyExists,
    Conflict,
    EntryView,
    FileTooLarge,
    NotFound,
    QuotaExceeded,
    WorkspaceError,
    content_type_for,
    human_size,
    looks_like_text,
)
from vopix.core.workspace.entries import descendants, flush_or_conflict, get_entry, open_file, view_of

# Reading lives in entries.py; callers keep using store.<name> for the whole workspace API.
from vopix.core.workspace.entries import exists as exists
from vopix.core.workspace.entries import list_entries as list_entries
from vopix.core.workspace.entries import read_bytes as read_bytes
from vopix.core.workspace.entries import read_text as read_text
from vopix.core.workspace.entries import stat as stat
from vopix.core.workspace.meter import (
    charge,
    ensure_meter,
    full_message,
    plan_limit,
    too_large_message,
)
from vopix.core.workspace.meter import storage_used as storage_used  # re-exported for callers
from vopix.core.workspace.meter import usage as usage
from vopix.core.workspace.paths import (
    ancestors,
    is_within,
    name_of,
    normalize_path,
    parent_of,
    path_key,
)
from vopix.core.workspace.storage import CHUNK_SIZE, BlobRef, TooLarge, get_storage
from vopix.db import session_scope
from vopix.models import WorkspaceEntry, WorkspaceUsage
from vopix.settings import get_settings

# ---------------------------------------------------------------- writing


def _ensure_folders(s: Session, user_id: int, path: str) -> str:
    """Create the missing folders above `path`; returns `path` spelled with the existing
    folders' names, so a file's path always starts with its folder's path."""
    spelled = ""
    for folder in ancestors(path):
        wanted = (spelled + "/" if spelled else "") + name_of(folder)
        e = get_entry(s, user_id, wanted)
        if e is None:
            e = WorkspaceEntry(user_id=user_id, path=wanted, path_key=path_key(wanted), kind="folder")
            s.add(e)
            flush_or_conflict(s, wanted)
        elif e.kind != "folder":
            raise WorkspaceError(f"“{e.path}” is a file, so it cannot contain “{name_of(path)}”.")
        spelled = e.path
    return (spelled + "/" if spelled else "") + name_of(path)


def _commit(
    s: Session,
    user_id: int,
    path: str,
    ref: BlobRef,
    *,
    expected_sha256: str | None = None,
    create_only: bool = False,
) -> EntryView:
    """Point `path` at freshly written content, charge the meter, replace the old content."""
    path = _ensure_folders(s, user_id, path)
    old = get_entry(s, user_id, path, lock=True)
    if old is not None and old.kind == "folder":
        raise WorkspaceError(f"“{old.path}” is a folder; choose another name for the file.")
    if old is not None and create_only:
        raise AlreadyExists(f"“{old.path}” already exists.")
    if expected_sha256 is not None and (old.sha256 if old else "") != expected_sha256:
        raise Conflict(f"“{path}” changed since it was opened. Reload it, then make your change again.")
    charge(s, user_id, ref.size - (old.size if old else 0), 0 if old else 1, needed=ref.size)
    complete = len(ref.head) >= ref.size
    is_text = looks_like_text(ref.head, complete)
    now = utcnow()
    if old is None:
        entry = WorkspaceEntry(
            user_id=user_id, path=path, path_key=path_key(path), kind="file", created_at=now
        )
    else:
        entry = old
        if old.blob_id:
            get_storage().delete(s, user_id, old.blob_id)
    entry.size, entry.sha256, entry.blob_id = ref.size, ref.sha256, ref.blob_id
    entry.is_text, entry.content_type = is_text, content_type_for(name_of(entry.path), is_text)
    entry.updated_at = now
    s.add(entry)
    flush_or_conflict(s, entry.path)
    assert entry.id is not None
    search.index(s, user_id, entry.id, ref.head.decode("utf-8", errors="ignore") if is_text else None)
    return view_of(entry)


def write_bytes(
    user_id: int,
    path: str,
    data: bytes,
    *,
    expected_sha256: str | None = None,
    create_only: bool = False,
) -> EntryView:
    """Write a whole (small) file in one transaction. `expected_sha256` ("" = must not exist
    yet) turns a lost update into a Conflict."""
    with session_scope() as s:
        return put_bytes(s, user_id, path, data, expected_sha256=expected_sha256, create_only=create_only)


def put_bytes(
    s: Session,
    user_id: int,
    path: str,
    data: bytes,
    *,
    expected_sha256: str | None = None,
    create_only: bool = False,
) -> EntryView:
    """write_bytes in the caller's transaction, under a savepoint: a refused write leaves the
    caller's other work in place."""
    path = normalize_path(path)
    max_file = get_settings().max_file_bytes
    if len(data) > max_file:
        raise FileTooLarge(too_large_message(name_of(path), len(data), max_file))
    with s.begin_nested():
        writer = get_storage().writer(user_id, max_bytes=max_file, session=s)
        for i in range(0, len(data), CHUNK_SIZE):
            writer.write(data[i : i + CHUNK_SIZE])
        ref = writer.finish()
        return _commit(s, user_id, path, ref, expected_sha256=expected_sha256, create_only=create_only)


def write_text(user_id: int, path: str, text: str, **kw) -> EntryView:
    return write_bytes(user_id, path, text.encode("utf-8"), **kw)


@dataclass
class PendingWrite:
    """A file being received piece by piece (uploads). Content is stored as it arrives, in
    short transactions; `commit` makes it visible and charges the meter, `abort` drops it."""

    user_id: int
    path: str
    max_file: int
    room: int

    def __post_init__(self) -> None:
        self._writer = get_storage().writer(self.user_id, max_bytes=min(self.max_file, max(self.room, 0)))
        self.received = 0

    def write(self, data: bytes) -> None:
        self.received += len(data)
        try:
            self._writer.write(data)
        except TooLarge:
            if self.received > self.max_file:
                raise FileTooLarge(too_large_message(name_of(self.path), None, self.max_file)) from None
            raise QuotaExceeded(
                f"“{name_of(self.path)}” does not fit: only {human_size(self.room)} of your storage is "
                "free. Delete files or upgrade on the Billing page."
            ) from None

    def commit(self, *, create_only: bool = False) -> EntryView:
        ref: BlobRef | None = None
        try:
            with session_scope() as s:
                # The last piece joins the commit: a small file costs one transaction.
                ref = self._writer.finish(s)
                return _commit(s, self.user_id, self.path, ref, create_only=create_only)
        except BaseException:
            if ref is not None:
                self._drop(ref)
            raise

    def _drop(self, ref: BlobRef) -> None:
        if ref.blob_id:
            with session_scope() as s:
                get_storage().delete(s, self.user_id, ref.blob_id)

    def abort(self) -> None:
        self._writer.abort()


def begin_write(user_id: int, path: str) -> PendingWrite:
    """Validate the path and the room left before any byte is taken (an existing file's size
    counts as room, since replacing it frees it)."""
    path = normalize_path(path)
    max_file = get_settings().max_file_bytes
    with session_scope() as s:
        ensure_meter(s, user_id)
        used = s.exec(select(WorkspaceUsage.bytes_used).where(WorkspaceUsage.user_id == user_id)).one()
        limit, plan_name = plan_limit(s, user_id)
        old = get_entry(s, user_id, path) if limit else None
        freed = old.size if old is not None and old.kind == "file" else 0
    if not limit:
        return PendingWrite(user_id, path, max_file, max_file)
    room = max(0, limit - used + freed)
    if room <= 0:
        raise QuotaExceeded(full_message(used, limit, plan_name))
    return PendingWrite(user_id, path, max_file, room)


def write_stream(user_id: int, path: str, chunks: Iterable[bytes]) -> EntryView:
    pending = begin_write(user_id, path)
    try:
        for chunk in chunks:
            pending.write(chunk)
    except BaseException:
        pending.abort()
        raise
    return pending.commit()


def append_text(user_id: int, path: str, text: str, *, own_line: bool = False) -> EntryView:
    """Add to the end of a text file (made if missing). The old content is copied chunk by chunk
    into the new version; a concurrent change to the file is a Conflict, not a lost note.
    `own_line` puts the addition on a line of its own, ending with a newline."""
    path = normalize_path(path)
    if own_line and not text.endswith("\n"):
        text += "\n"
    try:
        view, chunks = open_file(user_id, path)
    except NotFound:
        return write_text(user_id, path, text, expected_sha256="")
    if not view.is_text:
        raise WorkspaceError(f"“{view.path}” is not a text file; only text files can be appended to.")
    max_file = get_settings().max_file_bytes
    with session_scope() as s:
        writer = get_storage().writer(user_id, max_bytes=max_file, session=s)
        last = b"\n"
        try:
            for chunk in chunks:
                writer.write(chunk)
                last = chunk[-1:] or last
            if own_line and last != b"\n":
                text = "\n" + text
            writer.write(text.encode("utf-8"))
        except TooLarge:
            raise FileTooLarge(too_large_message(view.name, None, max_file)) from None
        return _commit(s, user_id, path, writer.finish(), expected_sha256=view.sha256)


def make_folder(user_id: int, path: str) -> EntryView:
    path = normalize_path(path)
    with session_scope() as s:
        spelled = _ensure_folders(s, user_id, path)
        existing = get_entry(s, user_id, spelled)
        if existing is not None:
            raise AlreadyExists(f"“{existing.path}” already exists.")
        e = WorkspaceEntry(user_id=user_id, path=spelled, path_key=path_key(spelled), kind="folder")
        s.add(e)
        flush_or_conflict(s, spelled)
        return view_of(e)


def move(user_id: int, source: str, target: str) -> EntryView:
    """Rename or move a file or a folder (with everything in it)."""
    source, target = normalize_path(source, existing=True), normalize_path(target)
    with session_scope() as s:
        e = get_entry(s, user_id, source, lock=True)
        if e is None:
            raise NotFound(f"There is no “{source}” in your workspace.")
        same = path_key(target) == e.path_key
        if not same and e.kind == "folder" and is_within(path_key(target), e.path_key):
            raise WorkspaceError(f"“{e.path}” cannot be moved inside itself.")
        if not same and get_entry(s, user_id, target) is not None:
            raise AlreadyExists(f"“{target}” already exists; choose another name.")
        if parent_of(target) and path_key(parent_of(target)) != path_key(parent_of(e.path)):
            target = _ensure_folders(s, user_id, target)
        elif parent_of(target):
            target = parent_of(e.path) + "/" + name_of(target)
        moved = [e, *(descendants(s, user_id, e) if e.kind == "folder" else [])]
        old_prefix = e.path
        for row in moved:
            # Re-checks length and depth; the names inside were checked when they were made.
            new_path = normalize_path(target + row.path[len(old_prefix) :], existing=True)
            row.path, row.path_key, row.updated_at = new_path, path_key(new_path), utcnow()
        for row in moved:
            s.add(row)
        flush_or_conflict(s, target)
        return view_of(e)


def delete(user_id: int, path: str) -> tuple[int, int]:
    """Delete a file, or a folder and everything in it. Returns (files removed, bytes freed)."""
    path = normalize_path(path, existing=True)
    with session_scope() as s:
        e = get_entry(s, user_id, path, lock=True)
        if e is None:
            raise NotFound(f"There is no “{path}” in your workspace.")
        ensure_meter(s, user_id)  # counted before the rows go, or an old account would go negative
        rows = [e, *(descendants(s, user_id, e) if e.kind == "folder" else [])]
        files = [r for r in rows if r.kind == "file"]
        freed = sum(r.size for r in files)
        for r in files:
            if r.blob_id:
                get_storage().delete(s, user_id, r.blob_id)
        ids = [r.id for r in rows]
        s.execute(sql_delete(WorkspaceEntry).where(col(WorkspaceEntry.id).in_(ids)))
        charge(s, user_id, -freed, -len(files))
        return len(files), freed
