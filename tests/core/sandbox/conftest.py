"""The sandbox tests run hostile scripts on the real sandbox. Where bubblewrap cannot start
(no bwrap, no user namespaces) they are skipped with the reason; CI has it, since the setup
step (scripts/test.sh) installs it."""

from __future__ import annotations

import pytest

from vopix.core import sandbox
from vopix.core.sandbox import RunFile, RunLimits, RunResult


@pytest.fixture
def sandboxed():
    state = sandbox.status(refresh=True)
    if not state.available:
        pytest.skip(f"the sandbox cannot start on this machine: {state.reason}")

    def run_py(code: str, *, files: dict[str, bytes] | None = None, stdin: bytes = b"", **limits) -> RunResult:
        given = [RunFile("main.py", code.encode()), *(RunFile(k, v) for k, v in (files or {}).items())]
        return sandbox.run(["/usr/bin/python3", "main.py"], given, stdin=stdin, limits=RunLimits(**limits))

    return run_py
