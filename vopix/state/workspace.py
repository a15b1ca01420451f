"""Workspace page: the file tree, uploads, the text editor, moves and deletes.

Every event first re-checks the socket's session cookie (current_user_id) and then acts only in
that person's workspace through core; paths from the browser are validated there.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import quote

import reflex as rx

from vopix.core.agent import profile
from vopix.core.clock import local_time
from vopix.core.workspace import store, uploads
from vopix.core.workspace.base import EntryView, WorkspaceError, human_size
from vopix.core.workspace.meter import UsageView
from vopix.core.workspace.paths import is_within, path_key
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user
from vopix.state.workspace_runs import WorkspaceRuns

log = logging.getLogger("vopix.workspace")
UPLOAD_FAILED = "The upload failed; only the files listed as uploaded were stored."
# The editor's text travels over the socket: keep it well under Reflex's message limit.
EDIT_MAX_BYTES = 512 * 1024


def entry_row(e: EntryView, zone: str) -> dict[str, str]:
    return {
        "path": e.path,
        "name": e.name,
        "kind": e.kind,
        "size": "" if e.is_folder else human_size(e.size),
        "updated": local_time(e.updated_at, zone),
        "indent": f"vx-depth-{min(e.depth, 16)}",
        "editable": "yes" if e.is_text and e.size <= EDIT_MAX_BYTES else "",
        "download": (
            f"/api/workspace/zip?path={quote(e.path, safe='')}"
            if e.is_folder
            else f"/api/workspace/file?path={quote(e.path, safe='')}"
        ),
    }


FOLDER_NAME_ID, FILE_NAME_ID = "folder-name", "file-name"


def _reveal(path: str) -> rx.event.EventSpec:
    """Scroll the editor into view and put the focus in it, once it shows `path`."""
    return rx.call_script(f"window.vopixWorkspace && window.vopixWorkspace.reveal({json.dumps(path)})")


def _join(folder: str, name: str) -> str:
    name = name.strip("\n")
    return f"{folder}/{name}" if folder and name else name


class WorkspaceState(WorkspaceRuns, SessionState):
    entries: list[dict[str, str]] = []
    folders: list[str] = []
    target_folder: str = ""
    storage_text: str = ""
    storage_percent: int = 0
    limit_text: str = ""
    message: str = ""
    error: str = ""
    # A refused name is told beside the field that holds it (the field keeps what was typed).
    folder_error: str = ""
    file_error: str = ""
    rename_error: str = ""
    # What a save did, told in the editor (the page's own message is above it, off screen).
    editor_message: str = ""
    editor_error: str = ""
    uploading: bool = False
    upload_percent: int = 0
    upload_errors: list[str] = []
    open_path: str = ""
    open_sha: str = ""
    editor_text: str = ""  # as last saved (the textarea starts from it)
    draft_text: str = ""  # as being typed, sent while typing (debounced): the preview shows it
    editor_version: int = 0
    preview: bool = False
    renaming: str = ""
    confirm_delete: str = ""
    confirm_delete_folder: bool = False  # only a folder's question says "and everything in it"
    _zone: str = "UTC"  # the person's time zone, read once per page load

    @rx.var
    def open_is_markdown(self) -> bool:
        return self.open_path.lower().endswith((".md", ".markdown"))

    @rx.var
    def editor_key(self) -> str:
        return f"{self.open_path}#{self.editor_version}"

    async def _refresh(self, user_id: int) -> None:
        rows, u = await self._fetch(user_id)
        self._show(rows, u)
        await self._refresh_runs(user_id, rows)

    @rx.event
    @for_user
    async def reload(self, user_id: int) -> None:
        await self._refresh(user_id)

    @staticmethod
    async def _fetch(user_id: int) -> tuple[list[EntryView], UsageView]:
        rows = await asyncio.to_thread(store.list_entries, user_id)
        return rows, await asyncio.to_thread(store.usage, user_id)

    def _show(self, rows: list[EntryView], u: UsageView) -> None:
        self.entries = [entry_row(e, self._zone) for e in rows]
        self.folders = [e.path for e in rows if e.is_folder]
        if self.target_folder and self.target_folder not in self.folders:
            self.target_folder = ""
        limit = f" of {human_size(u.limit_bytes)}" if u.limit_bytes else ""
        self.storage_text = f"{human_size(u.bytes_used)}{limit} used"
        self.storage_percent = u.percent
        self.limit_text = f"Largest file: {human_size(u.max_file_bytes)}."

    def _clear(self) -> None:
        self.message = self.error = ""
        self.folder_error = self.file_error = self.rename_error = ""
        self.editor_message = self.editor_error = ""
        self.upload_errors = []

    def _wipe(self) -> None:
        """Forget everything shown, so a tab whose login is gone keeps none of the files."""
        self.entries, self.folders, self.target_folder = [], [], ""
        self.storage_text = self.limit_text = ""
        self.renaming = self.confirm_delete = ""
        self.scripts, self.run_rows = [], []
        self._close()

    async def current_user_id(self) -> int | None:
        """As SessionState's, and every event starts with no old message; a tab whose login
        is gone forgets the files it showed."""
        self._clear()
        user_id = await super().current_user_id()
        if user_id is None:
            self._wipe()
        return user_id

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        self._zone = await asyncio.to_thread(profile.timezone_of, user_id)
        await self._refresh(user_id)
        return rx.call_script(REFRESH_SCRIPT)

    @rx.event
    def set_target_folder(self, value: str) -> None:
        self.target_folder = value if value in self.folders else ""

    @rx.event
    @for_user
    async def create_folder(self, user_id: int, form: dict) -> Reply:
        try:
            view = await asyncio.to_thread(
                store.make_folder, user_id, _join(self.target_folder, str(form.get("folder_name", "")))
            )
        except WorkspaceError as exc:
            self.folder_error = str(exc)
            return None
        self.message = f"Folder “{view.path}” created."
        self.target_folder = view.path
        await self._refresh(user_id)
        return rx.set_value(FOLDER_NAME_ID, "")

    @rx.event
    @for_user
    async def create_file(self, user_id: int, form: dict) -> Reply:
        path = _join(self.target_folder, str(form.get("file_name", "")))
        try:
            view = await asyncio.to_thread(store.write_bytes, user_id, path, b"", create_only=True)
        except WorkspaceError as exc:
            self.file_error = str(exc)
            return None
        self.message = f"“{view.path}” created."
        await self._refresh(user_id)
        await self._open(user_id, view.path)
        return [rx.set_value(FILE_NAME_ID, ""), _reveal(view.path)]

    async def _open(self, user_id: int, path: str) -> None:
        view, text = await asyncio.to_thread(store.read_text, user_id, path, EDIT_MAX_BYTES)
        self.open_path, self.open_sha, self.editor_text = view.path, view.sha256, text
        self.draft_text = text
        self.editor_version += 1
        self.preview = False

    @rx.event
    @for_user
    async def open_file(self, user_id: int, path: str) -> Reply:
        """Opens a file in the editor and brings the editor into view with the focus in it (the
        page asks first when the open file has unsaved edits: assets/workspace.js). The file
        already open stays as it is, typed text included: only brought into view."""
        if path and path == self.open_path:
            return _reveal(self.open_path)
        try:
            await self._open(user_id, path)
        except WorkspaceError as exc:
            self.error = str(exc)
            return None
        return _reveal(self.open_path)

    @rx.event
    @for_user
    async def save_file(self, user_id: int, form: dict) -> None:
        if not self.open_path:
            return None
        text = str(form.get("content", "")).replace("\r\n", "\n")
        try:
            view = await asyncio.to_thread(
                store.write_text, user_id, self.open_path, text, expected_sha256=self.open_sha
            )
        except WorkspaceError as exc:
            self.editor_error = str(exc)  # the text stays in the editor, unsaved
            return None
        self.open_sha, self.editor_text = view.sha256, text
        self.draft_text = text
        self.editor_message = f"Saved “{view.path}” ({human_size(view.size)})."
        await self._refresh(user_id)
        return None

    def _close(self) -> None:
        self.open_path = self.open_sha = self.editor_text = self.draft_text = ""
        self.preview = False

    @rx.event
    def close_editor(self) -> Reply:
        path = self.open_path
        self._close()
        return rx.call_script(f"window.vopixWorkspace && window.vopixWorkspace.focusOpen({json.dumps(path)})")

    @rx.event
    def set_draft(self, text: str, key: str) -> None:
        """The editor's text as typed; only this tab's own view of it (nothing is stored). `key`
        is the editor's when the text was typed: a draft that arrives after another file was
        opened (the typing is debounced) is not that file's."""
        if self.open_path and key == self.editor_key:
            self.draft_text = str(text)[: EDIT_MAX_BYTES * 4].replace("\r\n", "\n")

    @rx.event
    def toggle_preview(self) -> None:
        self.preview = not self.preview

    @rx.event
    def start_rename(self, path: str) -> None:
        self._clear()
        self.renaming, self.confirm_delete = path, ""

    @rx.event
    def cancel_rename(self) -> None:
        self.renaming = ""

    @rx.event
    @for_user
    async def rename(self, user_id: int, form: dict) -> None:
        source, target = self.renaming, str(form.get("new_path", ""))
        try:
            view = await asyncio.to_thread(store.move, user_id, source, target)
        except WorkspaceError as exc:
            self.rename_error = str(exc)
            return None
        self.renaming = ""
        self.message = f"“{source}” is now “{view.path}”."
        if self.open_path and is_within(path_key(self.open_path), path_key(source)):
            self.open_path = view.path + self.open_path[len(source) :]
        await self._refresh(user_id)
        return None

    @rx.event
    def ask_delete(self, path: str) -> None:
        self._clear()
        self.confirm_delete, self.renaming = path, ""
        self.confirm_delete_folder = any(e["path"] == path and e["kind"] == "folder" for e in self.entries)

    @rx.event
    def cancel_delete(self) -> None:
        self.confirm_delete = ""

    @rx.event
    @for_user
    async def delete_confirmed(self, user_id: int) -> None:
        path, self.confirm_delete = self.confirm_delete, ""
        if not path:
            return None
        try:
            files, freed = await asyncio.to_thread(store.delete, user_id, path)
        except WorkspaceError as exc:
            self.error = str(exc)
            return None
        plural = "s" if files != 1 else ""
        self.message = f"Deleted “{path}” ({files} file{plural}, {human_size(freed)} freed)."
        if self.open_path and is_within(path_key(self.open_path), path_key(path)):
            self._close()
        await self._refresh(user_id)
        return None

    @rx.event
    def upload_progress(self, progress: dict) -> None:
        try:
            self.upload_percent = min(100, round(float(progress.get("progress", 0)) * 100))
        except (TypeError, ValueError):
            pass

    @rx.event(background=True)
    async def upload(self, chunks: rx.UploadChunkIterator) -> None:
        """Files stream in piece by piece and go straight into the store (never to Reflex's
        public upload folder); limits are enforced on the server as the bytes arrive."""
        async with self:
            user_id = await self.current_user_id()
            folder = self.target_folder
            self.uploading, self.upload_percent = True, 0
        if user_id is None:
            async with self:
                self.uploading = False
                self.error = "Your session has ended; log in again to upload."
            return
        report = uploads.UploadReport(refused=[UPLOAD_FAILED])
        try:
            report = await uploads.receive(user_id, folder, chunks)
        except Exception:
            log.exception("upload failed for user %s", user_id)
        finally:
            tree = await self._fetch(user_id)  # before the check: no await between it and the writes
            async with self:
                # If the client token now names someone else's tab, show them nothing.
                if self._owned_by(user_id):
                    self.uploading = False
                    if report.stored:
                        names = ", ".join(e.name for e in report.stored)
                        n = len(report.stored)
                        self.message = f"Uploaded {n} file{'s' if n != 1 else ''}: {names}."
                    self.upload_errors = report.refused
                    self._show(*tree)
