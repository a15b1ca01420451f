"""Attachments in the composer, a mixin of ChatState (vopix/state/chat.py): files picked,
dropped or pasted stream through the workspace page's upload path (rx.upload, UploadGuard)
straight into inbox/ (vopix/core/attachments.py), wait on the composer until Send, and are named
in the message then. Removing one before sending deletes the file it made."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import reflex as rx

from vopix.core import attachments
from vopix.core.workspace import store
from vopix.core.workspace.base import WorkspaceError
from vopix.state.chat_rows import file_row
from vopix.state.session import for_user

log = logging.getLogger("vopix.chat")
ATTACH_FAILED = "The upload failed; only the files listed on the composer were saved."
MAX_PENDING = 10


class ChatAttachments(rx.State, mixin=True):
    pending_files: list[dict[str, str]] = []  # saved in inbox/, named in the next message
    attaching: bool = False
    attach_errors: list[str] = []

    if TYPE_CHECKING:  # SessionState's, which this mixin works on
        async def current_user_id(self) -> int | None: ...

        def _owned_by(self, user_id: int) -> bool: ...

    def _take_pending(self) -> list[attachments.Attachment]:
        """The waiting files, for the message being sent now (the composer empties)."""
        taken = [attachments.Attachment(f["path"], f["type"], f["size"]) for f in self.pending_files]
        self.pending_files, self.attach_errors = [], []
        return taken

    @rx.event(background=True)
    async def attach(self, chunks: rx.UploadChunkIterator) -> None:
        async with self:
            user_id = await self.current_user_id()
            self.attaching, self.attach_errors = True, []
            full = len(self.pending_files) >= MAX_PENDING
        if user_id is None or full:
            async with self:
                self.attaching = False
                self.attach_errors = [
                    "Your session has ended; log in again to attach files." if user_id is None
                    else f"Send these {MAX_PENDING} files first, then attach more."
                ]
            return
        saved: list[attachments.Attachment] = []
        refused = [ATTACH_FAILED]
        try:
            saved, refused = await attachments.receive(user_id, chunks)
        except Exception:
            log.exception("chat attachment upload failed for user %s", user_id)
        finally:
            async with self:
                if self._owned_by(user_id):
                    self.attaching = False
                    self.pending_files = self.pending_files + [file_row(a) for a in saved]
                    self.attach_errors = refused

    @rx.event
    @for_user
    async def remove_attachment(self, user_id: int, path: str) -> None:
        """Take a file off the composer before sending: the file it made in inbox/ goes too."""
        if not any(f["path"] == path for f in self.pending_files):
            return None
        self.pending_files = [f for f in self.pending_files if f["path"] != path]
        try:
            await asyncio.to_thread(store.delete, user_id, path)
        except WorkspaceError:
            pass  # already moved or deleted on the Workspace page
        return None
