"""Workspace entries as rows: finding them (always by owner and path) and reading files.

store.py writes; this module reads. Both find rows through the helpers here, so every query
filters on the person and a path that exists only for someone else is simply "not found".
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from vopix.core.workspace.base import (
    Conflict,
    EntryView,
    FileTooLarge,
    NotFound,
    WorkspaceError,
    human_size,
)
from vopix.core.workspace.paths import PathError, normalize_path, path_key
from vopix.core.workspace.storage import get_storage
from vopix.db import session_scope
from vopix.models import WorkspaceEntry


def view_of(e: WorkspaceEntry) -> EntryView:
    return EntryView(e.path, e.kind, e.size, e.content_type, e.is_text, e.sha256, e.updated_at)


def get_entry(s: Session, user_id: int, path: str, *, lock: bool = False) -> WorkspaceEntry | None:
    q = select(WorkspaceEntry).where(
        WorkspaceEntry.user_id == user_id, WorkspaceEntry.path_key == path_key(path)
    )
    return s.exec(q.with_for_update() if lock else q).first()


def flush_or_conflict(s: Session, path: str) -> None:
    """Flush, turning a lost race for the same name (the unique index) into a clear refusal."""
    try:
        s.flush()
    except IntegrityError:
        raise Conflict(f"“{path}” was created or changed at the same moment; try again.") from None


def descendants(s: Session, user_id: int, folder: WorkspaceEntry) -> list[WorkspaceEntry]:
    prefix = folder.path_key + "/"
    return list(
        s.exec(
            select(WorkspaceEntry).where(
                WorkspaceEntry.user_id == user_id,
                func.substr(WorkspaceEntry.path_key, 1, len(prefix)) == prefix,
            )
        )
    )


def list_entries(user_id: int, folder: str = "", *, recursive: bool = True) -> list[EntryView]:
    """Entries under `folder` ("" is the whole workspace), in tree order."""
    folder = normalize_path(folder, allow_root=True, existing=True)
    with session_scope() as s:
        if folder:
            f = get_entry(s, user_id, folder)
            if f is None or f.kind != "folder":
                raise NotFound(f"There is no folder “{folder}” in your workspace.")
            rows = descendants(s, user_id, f)
        else:
            rows = list(s.exec(select(WorkspaceEntry).where(WorkspaceEntry.user_id == user_id)))
    base_depth = folder.count("/") + 1 if folder else 0
    if not recursive:
        rows = [r for r in rows if r.path.count("/") == base_depth]
    rows.sort(key=lambda r: r.path_key.split("/"))
    return [view_of(r) for r in rows]


def stat(user_id: int, path: str) -> EntryView:
    path = normalize_path(path, existing=True)
    with session_scope() as s:
        e = get_entry(s, user_id, path)
        if e is None:
            raise NotFound(f"There is no “{path}” in your workspace.")
        return view_of(e)


def exists(user_id: int, path: str) -> bool:
    try:
        stat(user_id, path)
    except (NotFound, PathError):
        return False
    return True


def open_file(user_id: int, path: str) -> tuple[EntryView, Iterator[bytes]]:
    """The file's details and an iterator over its content, chunk by chunk (nothing is read
    until iterated)."""
    path = normalize_path(path, existing=True)
    with session_scope() as s:
        e = get_entry(s, user_id, path)
        if e is None:
            raise NotFound(f"There is no “{path}” in your workspace.")
        if e.kind != "file":
            raise WorkspaceError(f"“{e.path}” is a folder, not a file.")
        view, blob_id = view_of(e), e.blob_id
    if blob_id is None or view.size == 0:
        return view, iter(())
    return view, get_storage().iter_chunks(user_id, blob_id, view.size)


def read_bytes(user_id: int, path: str, max_bytes: int) -> tuple[EntryView, bytes]:
    """Small files only: refuses a file over `max_bytes` rather than loading it."""
    view, chunks = open_file(user_id, path)
    if view.size > max_bytes:
        raise FileTooLarge(f"“{view.path}” is {human_size(view.size)}, too large to open here.")
    return view, b"".join(chunks)


def read_text(user_id: int, path: str, max_bytes: int = 2 * 1024 * 1024) -> tuple[EntryView, str]:
    view, data = read_bytes(user_id, path, max_bytes)
    if not view.is_text:
        raise WorkspaceError(f"“{view.path}” is not a text file ({view.content_type}).")
    return view, data.decode("utf-8", errors="replace")
