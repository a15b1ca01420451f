"""The export section of /privacy: start an export, follow its progress (read from the database,
so it survives a reload and shows what any worker is doing), then the download link."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core.agent import profile
from vopix.core.clock import local_time
from vopix.core.privacy import export
from vopix.routes import export_download_url
from vopix.state.session import Reply, SessionState, for_user

POLL_SECONDS = 1.0


class PrivacyExportState(SessionState):
    export_id: int = 0
    export_status: str = ""  # "" (none yet) | queued | running | ready | failed | expired
    parts_done: int = 0
    parts_total: int = 0
    size_text: str = ""
    asked_text: str = ""
    expires_text: str = ""
    download_href: str = ""
    export_error: str = ""
    export_message: str = ""
    _watching: bool = False
    _zone: str = "UTC"

    @rx.var
    def in_progress(self) -> bool:
        return self.export_status in ("queued", "running")

    @rx.var
    def progress_text(self) -> str:
        if self.export_status == "queued":
            return "Waiting for a worker to start your export…"
        if self.export_status == "running":
            part = min(self.parts_done + 1, self.parts_total)
            return f"Writing part {part} of {self.parts_total} · {self.size_text} so far"
        return ""

    def _show(self, view: export.ExportView | None) -> None:
        if view is None:
            self.export_id, self.export_status = 0, ""
            return
        self.export_id, self.export_status = view.id, view.status
        self.parts_done, self.parts_total = view.parts_done, view.parts_total
        self.size_text = view.size_text
        self.asked_text = local_time(view.created_at, self._zone)
        self.expires_text = local_time(view.expires_at, self._zone) if view.expires_at else ""
        self.download_href = export_download_url(view.id) if view.status == "ready" else ""
        if view.status == "failed":
            self.export_error = view.error

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        self._zone = await asyncio.to_thread(profile.timezone_of, user_id)
        self.export_error = self.export_message = ""
        self._show(await asyncio.to_thread(export.latest_export, user_id))
        return self._watch_if_running()

    @rx.event
    @for_user
    async def start_export(self, user_id: int) -> Reply:
        self.export_error = self.export_message = ""
        try:
            view = await asyncio.to_thread(export.request_export, user_id)
        except export.ExportBusy as exc:
            self.export_error = str(exc)
            self._show(await asyncio.to_thread(export.latest_export, user_id))
            return self._watch_if_running()
        self._show(view)
        self.export_message = (
            "Your export has started. You can leave this page: we mail you when it is ready."
        )
        return self._watch_if_running()

    def _watch_if_running(self) -> Reply:
        if self.in_progress and not self._watching:
            self._watching = True
            return PrivacyExportState.watch
        return None

    @rx.event(background=True)
    async def watch(self) -> None:
        """While the export runs: its progress from the database every POLL_SECONDS, each write a
        short `async with self` (the state lock is never held while waiting)."""
        async with self:
            owner = self._user_id
        try:
            while True:
                await asyncio.sleep(POLL_SECONDS)
                view = await asyncio.to_thread(export.latest_export, owner)
                async with self:
                    if not self._owned_by(owner):
                        return
                    self._show(view)
                    if view is None or not view.in_progress:
                        if view is not None and view.status == "ready":
                            self.export_message = "Your export is ready."
                        return
        finally:
            async with self:
                self._watching = False
