"""Worker processes for the once-across-processes tests (issue 15): each child is a small
Python program run as `python -c CODE` on this test's database and settings, its output in a
log of its own; `until` waits for what the database (or a fake) says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.cluster.conftest import child_env

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def until(check: Callable[[], T], seconds: float, what: str,
          detail: Callable[[], object] | None = None) -> T:
    """The first truthy answer of `check`, polled; AssertionError after `seconds` (with what
    `detail` says then, e.g. the rows not done and a worker's log)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}" + (f"\n{detail()}" if detail else ""))


class Workers:
    """Child processes of one test, every one killed (if still running) at the end."""

    def __init__(self, logs: Path, code: str, env: dict[str, str] | None = None) -> None:
        self.logs = logs
        self.code = code
        self.env = env or child_env()
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        n = len(self.procs)
        proc = subprocess.Popen(
            [sys.executable, "-c", self.code, *args], cwd=REPO, env=self.env,
            stdout=(self.logs / f"worker-{n}.log").open("w"), stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log(self, proc: subprocess.Popen) -> str:
        return (self.logs / f"worker-{self.procs.index(proc)}.log").read_text(errors="replace")

    @staticmethod
    def kill9(proc: subprocess.Popen) -> None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
