"""The Workspace page's Scripts and runs section, without a browser: marks, the Runs list, and
the page saying why scripts cannot run when the sandbox cannot start."""

from __future__ import annotations

import pytest

from vopix.core import sandbox
from vopix.core.sandbox import runs
from vopix.core.workspace import store
from vopix.state.workspace import WorkspaceState

pytestmark = pytest.mark.asyncio


@pytest.fixture
def ready():
    state = sandbox.status(refresh=True)
    if not state.available:
        pytest.skip(f"the sandbox cannot start on this machine: {state.reason}")


async def test_marks_and_runs_are_listed(logged_in, ready) -> None:
    user_id, ws = logged_in(WorkspaceState)
    store.write_text(user_id, "scripts/hello.py", "print('hi there')\n")
    store.write_text(user_id, "notes/not-a-script.py", "print(1)\n")
    await ws.load()
    assert ws.sandbox_ready and ws.run_rows == []
    assert ws.scripts == [{"path": "scripts/hello.py", "marked": "", "changed": ""}]

    await ws.toggle_mark("scripts/hello.py")
    assert ws.message == "“scripts/hello.py” runs without asking from now on (until it changes)."
    assert ws.scripts[0]["marked"] == "yes" and runs.runs_without_asking(user_id, "scripts/hello.py")
    store.write_text(user_id, "scripts/hello.py", "print('changed')\n")
    await ws.reload()
    assert ws.scripts[0] == {"path": "scripts/hello.py", "marked": "", "changed": "yes"}
    await ws.toggle_mark("scripts/hello.py")  # marks the new content
    await ws.toggle_mark("scripts/hello.py")
    assert ws.message == "Your agent asks before running “scripts/hello.py”."
    assert not runs.runs_without_asking(user_id, "scripts/hello.py")

    runs.run_script(user_id, "scripts/hello.py", ["--loud"])
    await ws.reload()
    [row] = ws.run_rows
    assert (row["script"], row["args"], row["status"], row["stdout"]) == (
        "scripts/hello.py", "--loud", "Finished", "changed\n",
    )
    assert row["channel"] == "Web" and row["files"] == ""


async def test_the_page_says_why_scripts_cannot_run(logged_in, settings_env) -> None:
    _, ws = logged_in(WorkspaceState)
    settings_env(VOPIX_SANDBOX_BWRAP="/nonexistent/bwrap")
    sandbox.status(refresh=True)
    try:
        await ws.load()
        assert not ws.sandbox_ready
        assert ws.sandbox_reason == "bubblewrap (bwrap) is not installed on the server"
    finally:
        settings_env(VOPIX_SANDBOX_BWRAP="/usr/bin/bwrap")
        sandbox.status(refresh=True)
