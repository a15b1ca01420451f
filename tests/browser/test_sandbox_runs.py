"""Issue 16 in the browser: the person asks the agent to run a script, confirms, sees the output
in the chat and the run (with the file it made) on the Workspace page; a script marked "run
without asking" then runs with no question."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import point_agent_at, sign_up
from tests.fakes.ai_provider import Reply, tool_call
from vopix.core import accounts, sandbox
from vopix.core.workspace import store

SCRIPT = """import sys
name = sys.argv[1]
open("greeting.txt", "w").write("hello " + name)
print("greeted", name)
"""


def _ask(page, text: str, calls, count: int):
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    expect(calls).to_have_count(count)
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    return calls.nth(count - 1)


def test_run_a_script_confirm_see_output_and_the_runs_list(page, provider) -> None:
    state = sandbox.status(refresh=True)
    if not state.available:
        pytest.skip(f"the sandbox cannot start on this machine: {state.reason}")
    email = f"runs-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    store.write_text(user_id, "scripts/greet.py", SCRIPT)
    point_agent_at(page, provider)
    page.goto("/chat")
    log = page.get_by_role("log", name="Messages")
    calls = log.get_by_role("article").filter(has_text="Action")

    provider.script(tool_call("run_script", {"path": "scripts/greet.py", "args": ["Ada"]}), Reply("Confirm?"))
    ask = _ask(page, "Run my greeting script for Ada", calls, 1)
    expect(ask).to_contain_text("Run scripts/greet.py with Ada?")
    expect(ask).to_contain_text("Waiting for you")
    ask.get_by_role("button", name="Confirm").click()
    expect(ask).to_contain_text("Done")
    ask.get_by_text("Result").click()
    result = ask.locator("pre")
    expect(result).to_contain_text("scripts/greet.py: finished with exit status 0")
    expect(result).to_contain_text("greeted Ada")
    expect(result).to_contain_text(re.compile(r"Files saved in runs/[0-9_-]+/ \(1\)"))

    page.goto("/workspace")
    section = page.get_by_role("region", name="Scripts and runs")
    run = section.get_by_role("listitem", name="Run of scripts/greet.py")
    expect(run).to_have_count(1)
    expect(run).to_contain_text("Finished")
    expect(run).to_contain_text("Ada")
    expect(run).to_contain_text(re.compile(r"Saved: 1 file in runs/"))
    run.get_by_text("Output").click()
    expect(run.get_by_label("Output")).to_have_text("greeted Ada")
    # The file it made is in the workspace, like any other.
    expect(page.get_by_role("table", name="Files")).to_contain_text("greeting.txt")

    # Marked "run without asking": the agent runs it with no question.
    scripts = section.get_by_role("table", name="Scripts")
    expect(scripts).to_contain_text("Asks first")
    scripts.get_by_role("button", name="Run without asking: scripts/greet.py").click()
    expect(scripts).to_contain_text("Runs without asking")
    page.goto("/chat")
    provider.script(tool_call("run_marked_script", {"path": "scripts/greet.py", "args": ["Bo"]}), Reply("Done."))
    ran = _ask(page, "Greet Bo", calls, 2)  # the history shows the first call too
    expect(ran).to_contain_text("Done")
    expect(ran.get_by_role("button", name="Confirm")).to_have_count(0)
    page.goto("/workspace")
    expect(page.get_by_role("region", name="Scripts and runs").get_by_role("listitem")).to_have_count(2)
