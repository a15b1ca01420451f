"""The agent workspace: each person's private files (skills, documents, scripts).

`install()` (called by vopix.platform.install, never at import) plugs the workspace into the
rest of the platform (registrations only, no database work): new accounts get a README and an
example skill, the agent gets its file tools, its system prompt gets the skills list and
MEMORY.md, and a scheduled job removes content left behind by interrupted uploads.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from vopix.core import hooks, jobs
from vopix.core.agent.prompt_sections import register_prompt_section
from vopix.core.workspace import run_tool, seed, skills, tools
from vopix.core.workspace.storage import get_storage

ORPHAN_AGE = timedelta(days=1)


def _purge_orphans(now: datetime) -> int:
    return get_storage().purge_orphans(now - ORPHAN_AGE)


def install() -> None:
    hooks.on_user_created(seed.seed_workspace)
    tools.register()
    run_tool.register()  # running scripts in the sandbox (issue 16)
    register_prompt_section(skills.prompt_section, order=60)
    jobs.register_job(jobs.Job("purge_workspace_orphans", timedelta(hours=6), _purge_orphans))
