"""Running a person's scripts where they can reach nothing but a copy of that person's files.

`runner.run` is the only way anything is executed for a person, always inside bubblewrap;
`status()` runs a self-test once per process (and again after a failure, at most once a
minute) and says whether the sandbox works here and, if not, why. The run tool is offered only
while it does: nothing ever runs unsandboxed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from vopix.core.sandbox.limits import RunFile, RunLimits, RunResult
from vopix.core.sandbox.runner import SandboxUnavailable, bwrap_path, run
from vopix.settings import get_settings

__all__ = ["RunFile", "RunLimits", "RunResult", "SandboxStatus", "SandboxUnavailable", "run", "status"]

RETRY_AFTER_S = 60.0
_lock = threading.Lock()
_cached: tuple[float, SandboxStatus] | None = None


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    reason: str = ""  # why not, for the person and the operator


def _self_test() -> SandboxStatus:
    if bwrap_path() is None:
        return SandboxStatus(False, "bubblewrap (bwrap) is not installed on the server")
    try:
        code = "import os; print(os.getuid(), open('probe').read())"
        res = run([get_settings().sandbox_python, "-I", "-S", "-c", code], [RunFile("probe", b"ok")],
                  limits=RunLimits(wall_seconds=10))
    except SandboxUnavailable as exc:
        return SandboxStatus(False, str(exc))
    if res.exit_code is None:
        return SandboxStatus(False, f"the sandbox failed its self-test: {res.error}")
    if res.stdout.split() != ["1000", "ok"]:
        return SandboxStatus(False, "the sandbox failed its self-test (unexpected answer)")
    return SandboxStatus(True)


def status(*, refresh: bool = False) -> SandboxStatus:
    """Whether scripts can run here (cached; a failure is tried again after a minute)."""
    global _cached
    with _lock:
        now = time.monotonic()
        if _cached is not None and not refresh:
            at, known = _cached
            if known.available or now - at < RETRY_AFTER_S:
                return known
        known = _self_test()
        _cached = (now, known)
        return known
