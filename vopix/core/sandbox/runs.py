"""A person's script runs: the workspace copied into the sandbox, the run metered and recorded,
its files saved back under runs/<time>/ (counted against storage), and the scripts marked "run
without asking".

Only files under scripts/ ending in .py or .sh run. Everything here acts for one user id and
reads and writes through the workspace store, like the agent's other tools.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from vopix.core import sandbox, usage
from vopix.core.clock import utcnow
from vopix.core.kinds import RunStatus
from vopix.core.plans import limits_of
from vopix.core.sandbox.limits import MB, RunFile, RunLimits, RunResult
from vopix.core.workspace import store
from vopix.core.workspace.base import NotFound, WorkspaceError, human_size
from vopix.core.workspace.paths import normalize_path, path_key
from vopix.db import session_scope
from vopix.models import ScriptMark, ScriptRun
from vopix.settings import get_settings

SCRIPTS_FOLDER = "scripts"
RUNS_FOLDER = "runs"
INPUT_MAX_BYTES = 64 * MB  # the workspace copied in; past it, only scripts/ is
MAX_ARGS = 64
MAX_ARG_CHARS = 4096
KEPT_OUTPUT = 64 * 1024  # stdout and stderr, each, kept with the run and shown
RUNS_KEPT = 100  # per person: older runs (their records and output, not their files) go


class RunRefused(WorkspaceError):
    """A run that did not start; the message says why, for the person or the agent."""


@dataclass(frozen=True)
class RunView:
    id: int
    script: str
    args: list[str]
    status: RunStatus
    exit_code: int | None
    seconds: float
    stdout: str
    stderr: str
    notes: list[str]
    output_folder: str
    files: int
    channel: str
    created_at: datetime

    @property
    def status_text(self) -> str:
        if self.status == RunStatus.OK:
            return "Finished"
        if self.status == RunStatus.FAILED:
            return f"Failed (exit status {self.exit_code})"
        if self.status == RunStatus.STOPPED:
            return "Stopped at a limit"
        return "Could not run"


def _view(row: ScriptRun) -> RunView:
    assert row.id is not None
    return RunView(
        row.id, row.script, json.loads(row.args or "[]"), RunStatus(row.status), row.exit_code,
        row.duration_ms / 1000, row.stdout, row.stderr, [n for n in row.notes.split("\n") if n],
        row.output_folder, row.files, row.channel, row.created_at,
    )  # fmt: skip


def script_path(path: str) -> str:
    """The workspace path of a runnable script, or RunRefused saying what can run."""
    path = normalize_path(path, existing=True)
    if not path_key(path).startswith(SCRIPTS_FOLDER + "/") or not path.lower().endswith((".py", ".sh")):
        raise RunRefused(
            f"Only Python (.py) and shell (.sh) scripts in the {SCRIPTS_FOLDER}/ folder can run; "
            f"“{path}” is not one."
        )
    return path


def _interpreter(path: str) -> list[str]:
    if path.lower().endswith(".py"):
        return [get_settings().sandbox_python, "-u"]
    return ["/bin/bash" if os.path.exists("/usr/bin/bash") else "/bin/sh"]


def _check_args(args: list[str], stdin: str) -> None:
    if len(args) > MAX_ARGS or any(len(a) > MAX_ARG_CHARS or "\x00" in a for a in args):
        raise RunRefused(f"At most {MAX_ARGS} arguments of up to {MAX_ARG_CHARS} characters each.")
    if len(stdin.encode()) > sandbox.runner.STDIN_MAX:
        raise RunRefused(f"Standard input is limited to {sandbox.runner.STDIN_MAX // 1024} KB.")


def _inputs(user_id: int) -> tuple[list[RunFile], str]:
    """The workspace's files (runs/ left out), or only scripts/ when the whole is too large."""
    entries = [
        e for e in store.list_entries(user_id, "")
        if not e.is_folder and not path_key(e.path).startswith(RUNS_FOLDER + "/")
    ]  # fmt: skip
    note = ""
    if sum(e.size for e in entries) > INPUT_MAX_BYTES:
        entries = [e for e in entries if path_key(e.path).startswith(SCRIPTS_FOLDER + "/")]
        note = (
            f"your workspace is larger than {human_size(INPUT_MAX_BYTES)}: "
            f"only {SCRIPTS_FOLDER}/ was copied in"
        )
        if sum(e.size for e in entries) > INPUT_MAX_BYTES:
            raise RunRefused(f"The {SCRIPTS_FOLDER}/ folder is larger than {human_size(INPUT_MAX_BYTES)}.")
    files = [RunFile(e.path, store.read_bytes(user_id, e.path, INPUT_MAX_BYTES)[1]) for e in entries]
    return files, note


def _run_limits(user_id: int) -> RunLimits:
    with session_scope() as s:
        left = usage.admit_run(s, user_id)  # QuotaExceeded when the month's seconds are spent
        plan = limits_of(s, user_id)
    wall = float(plan.run_wall_seconds if left is None else max(1, min(plan.run_wall_seconds, left)))
    return RunLimits(
        wall_seconds=wall, cpu_seconds=max(1, math.ceil(wall)), memory_bytes=plan.run_memory_mb * MB,
        processes=plan.run_processes, disk_bytes=plan.run_disk_mb * MB,
        file_bytes=min(plan.run_disk_mb * MB, get_settings().max_file_bytes), output_bytes=KEPT_OUTPUT,
    )  # fmt: skip


def _status(res: RunResult) -> RunStatus:
    if res.exit_code is None:
        return RunStatus.ERROR
    if res.timed_out or res.exit_code < 0:
        return RunStatus.STOPPED
    return RunStatus.OK if res.exit_code == 0 else RunStatus.FAILED


def _free_folder(user_id: int, now: datetime) -> str:
    base = f"{RUNS_FOLDER}/{now:%Y-%m-%d_%H%M%S}"
    folder, n = base, 1
    while store.exists(user_id, folder):
        n += 1
        folder = f"{base}_{n}"
    return folder


def _save_files(user_id: int, res: RunResult, now: datetime) -> tuple[str, int, list[str]]:
    """Save what the run made under runs/<time>/; a name or quota refusal is a note, not a failure."""
    if not res.files:
        return "", 0, []
    folder = _free_folder(user_id, now)
    saved, notes = 0, []
    for f in res.files:
        try:
            store.write_bytes(user_id, f"{folder}/{f.path}", f.data)
            saved += 1
        except WorkspaceError as exc:
            notes.append(f"{f.path} was not saved: {exc}")
    return (folder if saved else ""), saved, notes


def run_script(
    user_id: int, path: str, args: list[str] | None = None, stdin: str = "", *, channel: str = "web"
) -> RunView:
    """Run one of the person's scripts in the sandbox, record and meter it. Refusals (not a
    script, no sandbox here, no run time left) raise RunRefused or usage.QuotaExceeded before
    anything runs."""
    args = [str(a) for a in (args or [])]
    _check_args(args, stdin)
    path = store.stat(user_id, script_path(path)).path  # NotFound, spelled as stored
    state = sandbox.status()
    if not state.available:
        raise RunRefused(f"Scripts cannot run on this server: {state.reason}.")
    limits = _run_limits(user_id)
    files, input_note = _inputs(user_id)
    started = utcnow()
    try:
        res = sandbox.run([*_interpreter(path), path, *args], files, stdin=stdin.encode(), limits=limits)
    except sandbox.SandboxUnavailable as exc:
        sandbox.status(refresh=True)
        raise RunRefused(f"Scripts cannot run on this server: {exc}.") from exc
    folder, saved, save_notes = _save_files(user_id, res, started)
    notes = ([input_note] if input_note else []) + res.limit_notes() + save_notes
    if res.error:
        notes.insert(0, f"the sandbox failed: {res.error}")
    with session_scope() as s:
        row = ScriptRun(
            user_id=user_id, script=path, args=json.dumps(args), status=_status(res),
            exit_code=res.exit_code, duration_ms=round(res.seconds * 1000), stdout=res.stdout,
            stderr=res.stderr, notes="\n".join(notes), output_folder=folder, files=saved,
            channel=channel[:16], created_at=started,
        )  # fmt: skip
        s.add(row)
        usage.count_run_seconds(s, user_id, math.ceil(res.seconds), started)
        s.flush()
        _forget_old_runs(s, user_id)
        return _view(row)


def _forget_old_runs(s: Session, user_id: int) -> None:
    """Keep the newest RUNS_KEPT records of the person (the files they saved stay in runs/)."""
    newest = (
        select(ScriptRun.id).where(ScriptRun.user_id == user_id)
        .order_by(col(ScriptRun.created_at).desc(), col(ScriptRun.id).desc()).limit(RUNS_KEPT)
    )  # fmt: skip
    keep = list(s.exec(newest))
    if len(keep) == RUNS_KEPT:
        s.execute(
            sql_delete(ScriptRun).where(col(ScriptRun.user_id) == user_id, col(ScriptRun.id).not_in(keep))
        )


def list_runs(user_id: int, limit: int = 20) -> list[RunView]:
    with session_scope() as s:
        rows = s.exec(
            select(ScriptRun).where(ScriptRun.user_id == user_id)
            .order_by(col(ScriptRun.created_at).desc(), col(ScriptRun.id).desc()).limit(limit)
        ).all()  # fmt: skip
        return [_view(r) for r in rows]


def get_run(user_id: int, run_id: int) -> RunView:
    with session_scope() as s:
        row = s.get(ScriptRun, run_id)
        if row is None or row.user_id != user_id:
            raise NotFound("There is no such run.")
        return _view(row)


# -- "run without asking" ----------------------------------------------------------------------
def set_mark(user_id: int, path: str, on: bool) -> None:
    """Mark a script "run without asking" for its current content, or take the mark away."""
    path = script_path(path)
    view = store.stat(user_id, path)
    with session_scope() as s:
        row = s.get(ScriptMark, (user_id, path_key(path)))
        if not on:
            if row is not None:
                s.delete(row)
            return
        if row is None:
            row = ScriptMark(user_id=user_id, path_key=path_key(path), path=view.path, sha256=view.sha256)
        row.path, row.sha256, row.created_at = view.path, view.sha256, utcnow()
        s.add(row)
        try:
            s.flush()
        except IntegrityError:  # another tab marked it at the same moment
            s.rollback()


def marked(user_id: int) -> dict[str, str]:
    """path -> the content hash each mark was given for."""
    with session_scope() as s:
        return {m.path: m.sha256 for m in s.exec(select(ScriptMark).where(ScriptMark.user_id == user_id))}


def runs_without_asking(user_id: int, path: str) -> bool:
    """Marked, and unchanged since it was marked."""
    try:
        path = script_path(path)
        view = store.stat(user_id, path)
    except WorkspaceError:
        return False
    with session_scope() as s:
        row = s.get(ScriptMark, (user_id, path_key(path)))
        return row is not None and row.sha256 == view.sha256


def marked_scripts(user_id: int) -> list[str]:
    """Scripts that run without asking right now (marked and unchanged)."""
    return [p for p in marked(user_id) if runs_without_asking(user_id, p)]
