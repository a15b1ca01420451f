"""Scripts and their runs on the Workspace page, a mixin of WorkspaceState: the sandbox's
state (and why it cannot run scripts, if so), each script's "run without asking" mark, and the
Runs list with each run's output."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import reflex as rx

from vopix.core import sandbox
from vopix.core.clock import local_time
from vopix.core.sandbox import runs
from vopix.core.workspace.base import EntryView, WorkspaceError
from vopix.state.session import for_user

RUNS_SHOWN = 20


def run_row(r: runs.RunView, zone: str) -> dict[str, Any]:
    plural = "s" if r.files != 1 else ""
    return {
        "id": str(r.id),
        "script": r.script,
        "args": " ".join(r.args),
        "when": local_time(r.created_at, zone),
        "status": r.status_text,
        "ok": "yes" if r.status == runs.RunStatus.OK else "",
        "seconds": f"{r.seconds:.1f} s",
        "stdout": r.stdout,
        "stderr": r.stderr,
        "notes": "; ".join(r.notes),
        "folder": r.output_folder,
        "files": f"{r.files} file{plural} in {r.output_folder}/" if r.output_folder else "",
        "channel": {"web": "Web", "telegram": "Telegram", "whatsapp": "WhatsApp"}.get(r.channel, r.channel),
    }


class WorkspaceRuns(rx.State, mixin=True):
    sandbox_ready: bool = False
    sandbox_reason: str = ""
    scripts: list[dict[str, str]] = []
    run_rows: list[dict[str, Any]] = []

    if TYPE_CHECKING:  # WorkspaceState's, which this mixin works on
        message: str
        error: str
        _zone: str

    async def _refresh_runs(self, user_id: int, rows: list[EntryView]) -> None:
        state = await asyncio.to_thread(sandbox.status)
        self.sandbox_ready, self.sandbox_reason = state.available, state.reason
        marks = await asyncio.to_thread(runs.marked, user_id)
        scripts = []
        for e in rows:
            try:
                runs.script_path(e.path)
            except WorkspaceError:
                continue
            mark = marks.get(e.path)
            scripts.append({
                "path": e.path,
                "marked": "yes" if mark is not None and mark == e.sha256 else "",
                "changed": "yes" if mark is not None and mark != e.sha256 else "",
            })  # fmt: skip
        self.scripts = scripts
        found = await asyncio.to_thread(runs.list_runs, user_id, RUNS_SHOWN)
        self.run_rows = [run_row(r, self._zone) for r in found]

    @rx.event
    @for_user
    async def toggle_mark(self, user_id: int, path: str) -> None:
        on = not any(s["path"] == path and s["marked"] for s in self.scripts)
        try:
            await asyncio.to_thread(runs.set_mark, user_id, path, on)
        except WorkspaceError as exc:
            self.error = str(exc)
            return None
        self.message = (
            f"“{path}” runs without asking from now on (until it changes)."
            if on
            else f"Your agent asks before running “{path}”."
        )
        await self._refresh(user_id)  # type: ignore[attr-defined]
        return None
