"""The agent's tools for running the person's scripts in the sandbox (issue 16).

run_script asks the person first, as every action that needs confirmation does (web Confirm,
Telegram and WhatsApp buttons). run_marked_script runs, without asking, only a script the person
marked "run without asking" on the Workspace page and that has not changed since: on every
channel, and for scheduled work. Neither is offered while the sandbox cannot start here.
"""

from __future__ import annotations

from typing import Any

from vopix.core import sandbox, usage
from vopix.core.agent.prompt_sections import register_prompt_section
from vopix.core.agent.tools import Tool, ToolContext, ToolFailed, register_tool
from vopix.core.kinds import RunStatus
from vopix.core.sandbox import runs
from vopix.core.workspace.base import WorkspaceError

MODEL_STDOUT_CHARS = 6000
MODEL_STDERR_CHARS = 3000


def _args(args: dict[str, Any]) -> tuple[str, list[str], str]:
    path = args.get("path")
    if not isinstance(path, str) or not path:
        raise ToolFailed("“path” is required.")
    argv = args.get("args") or []
    if isinstance(argv, str):
        argv = argv.split()
    if not isinstance(argv, list):
        raise ToolFailed("“args” must be a list of strings.")
    stdin = args.get("stdin") or ""
    if not isinstance(stdin, str):
        raise ToolFailed("“stdin” must be text.")
    return path, [str(a) for a in argv], stdin


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}\n[… {len(text) - limit:,} more characters]"


def report(run: runs.RunView) -> str:
    """What the model gets back (and the person sees as the call's result)."""
    code = run.exit_code
    plain = code is not None and code >= 0 and run.status != RunStatus.FAILED
    shown = f" with exit status {code}" if plain else ""
    lines = [f"{run.script}: {run.status_text.lower()}{shown}, in {run.seconds:.1f} s."]
    lines.append("Output:\n" + (_cut(run.stdout, MODEL_STDOUT_CHARS) if run.stdout else "(none)"))
    if run.stderr:
        lines.append("Errors:\n" + _cut(run.stderr, MODEL_STDERR_CHARS))
    if run.output_folder:
        lines.append(f"Files saved in {run.output_folder}/ ({run.files}).")
    if run.notes:
        lines.append("Note: " + "; ".join(run.notes) + ".")
    return "\n".join(lines)


def _run(ctx: ToolContext, args: dict[str, Any]) -> str:
    path, argv, stdin = _args(args)
    try:
        return report(runs.run_script(ctx.user_id, path, argv, stdin, channel=ctx.channel))
    except (WorkspaceError, usage.QuotaExceeded) as exc:
        raise ToolFailed(str(exc)) from exc


def run_script(ctx: ToolContext, args: dict[str, Any]) -> str:
    if not ctx.confirmed:  # the runtime only calls this after the person pressed Confirm
        raise ToolFailed("Running a script needs the person's confirmation. Nothing ran.")
    return _run(ctx, args)


def run_marked_script(ctx: ToolContext, args: dict[str, Any]) -> str:
    path, _, _ = _args(args)
    if not runs.runs_without_asking(ctx.user_id, path):
        raise ToolFailed(
            f"“{path}” is not marked “run without asking” (or changed since it was marked). "
            "Use run_script, which asks the person first. Nothing ran."
        )
    return _run(ctx, args)


def _available(user_id: int) -> bool:
    return sandbox.status().available


def _describe(args: dict[str, Any]) -> str:
    path = " ".join(str(args.get("path") or "").split())
    extra = args.get("args")
    if isinstance(extra, list) and extra:
        return f"Run {path} with {' '.join(str(a) for a in extra)}"
    return f"Run {path}"


CANNOT_RUN = (
    "## Running scripts\nYou cannot run scripts here: this server cannot start the sandbox scripts "
    "run in. Offer to read, explain or edit them instead."
)


def prompt_section(user_id: int) -> str | None:
    if not sandbox.status().available:
        return CANNOT_RUN
    marked = runs.marked_scripts(user_id)
    text = (
        "## Running scripts\nYou can run the person's Python (.py) and shell (.sh) scripts from the "
        "scripts/ folder with run_script: it asks them to confirm first. Scripts run in an isolated "
        "sandbox with no network, over a copy of the workspace; files a run creates are saved under "
        "runs/<time>/."
    )
    if marked:
        text += (
            "\nThese scripts are marked “run without asking”: run them with run_marked_script: "
            + ", ".join(marked[:50])
        )
    return text


_PARAMS = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "The script, e.g. scripts/report.py"},
        "args": {"type": "array", "items": {"type": "string"}, "description": "Command-line arguments."},
        "stdin": {"type": "string", "description": "Text given to the script on standard input."},
    },
    "required": ["path"],
}

TOOLS = [
    Tool("run_script", "Run a Python or shell script from scripts/ in the sandbox (no network). "
         "The person must confirm.", _PARAMS, run_script, needs_confirmation=True,
         available=_available, describe=_describe),
    Tool("run_marked_script", "Run a script the person marked “run without asking”, without "
         "asking again.", _PARAMS, run_marked_script, available=_available, describe=_describe),
]  # fmt: skip


def register() -> None:
    for tool in TOOLS:
        register_tool(tool)
    register_prompt_section(prompt_section, order=65)
