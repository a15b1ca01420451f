"""Every entry point plugs in the same agent: one explicit install(), no import side effects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPECTED_TOOLS = {
    "list_files", "read_file", "search_files", "write_file", "append_file", "move_file",
    "load_skill", "delete_file", "run_script", "run_marked_script",
    # offered only while GitHub is connected, but registered by every entry point alike
    "github_list_repos", "github_list_issues", "github_search_issues", "github_read_issue",
    "github_create_issue", "github_comment", "slack_list_channels", "slack_read_channel", "slack_post_message",
    "gmail_search", "gmail_read", "gmail_read_thread", "gmail_draft_reply", "gmail_send",
    "preview_task_schedule", "create_task", "list_tasks", "update_task", "pause_task", "resume_task", "delete_task",
}


def _run(code: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=os.environ.copy(), capture_output=True,
        text=True, timeout=120, check=True,
    )
    out = done.stdout
    return json.JSONDecoder().raw_decode(out[out.index("{"):])[0]


DESCRIBE = "import json; from vopix import platform; print(json.dumps(platform.describe()))"


def test_importing_modules_registers_nothing() -> None:
    plugged = _run(
        "import vopix.core.workspace, vopix.channels.worker, vopix.core.agent.runtime, vopix.cli; "
        + DESCRIBE
    )
    assert plugged == {
        "tools": [], "prompt_sections": [], "user_created_hooks": [],
        "jobs": ["purge_access_logs", "purge_expired_auth"],  # the scheduler's own
    }


def test_the_app_every_cli_command_and_the_telegram_poller_offer_the_same_agent() -> None:
    app = _run("import vopix.vopix; " + DESCRIBE)
    assert set(app["tools"]) == EXPECTED_TOOLS
    assert app["prompt_sections"] == [
        "vopix.core.workspace.skills.prompt_section", "vopix.core.workspace.run_tool.prompt_section",
    ]
    assert app["user_created_hooks"] == [
        "vopix.core.agent.profile.create_profile", "vopix.core.workspace.seed.seed_workspace",
    ]
    assert {"purge_workspace_orphans", "purge_channel_link_codes", "purge_channel_events"} <= set(app["jobs"])

    cli = _run("from vopix import cli; cli.main(['plugins'])")
    assert cli == app
    # `python -m vopix telegram-poll` runs the worker in the CLI's process: what it sees when
    # its command starts is what the agent it runs will have.
    poller = _run(
        "from vopix import cli, platform; from vopix.channels import commands; import json\n"
        "commands._telegram_poll = lambda args: print(json.dumps(platform.describe())) or 0\n"
        "cli.main(['telegram-poll'])"
    )
    assert poller == app
