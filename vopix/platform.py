"""The one place that plugs each domain into the platform: the agent's tools, system-prompt
sections, account hooks and scheduled jobs.

Importing a module registers nothing. Every entry point (the app, every CLI command, the
Telegram poller, each worker process, the tests) calls install() first, so each of them offers
the same agent: the same tools, skills and MEMORY.md whatever the channel or process.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Register every domain's tools, prompt sections, hooks and jobs (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from vopix.channels import alerts, worker
        from vopix.core import billing, hooks, integrations, mail, workspace
        from vopix.core import tasks as scheduled_tasks
        from vopix.core.agent import profile
        from vopix.core.privacy import export as privacy_export
        from vopix.core.privacy import policy as privacy_policy
        from vopix.core.privacy import purge as privacy_purge

        hooks.on_user_created(profile.create_profile)  # first: the account's agent
        workspace.install()
        mail.install()
        billing.install()
        integrations.install()
        worker.install()
        scheduled_tasks.install()  # reminders and scheduled tasks: the agent's tools (issue 13)
        privacy_export.install()  # the export's parts (register_export_part) and its expiry job
        privacy_policy.install()  # resumes policy notice mails stopped half-way
        privacy_purge.install()  # the purge of deleted accounts once their grace period ends
        alerts.install()  # security alerts also go to the linked chats
        _installed = True


def describe() -> dict[str, list[str]]:
    """What is plugged in, by name (operators: `python -m vopix plugins`; tests)."""
    from vopix.core import hooks, jobs
    from vopix.core.agent import prompt_sections, tools

    return {
        "tools": sorted(t.name for t in tools.all_tools()),
        "prompt_sections": [f"{fn.__module__}.{fn.__qualname__}" for fn in prompt_sections.registered()],
        "user_created_hooks": [f"{fn.__module__}.{fn.__qualname__}" for fn in hooks.user_created_hooks()],
        "jobs": sorted(j.name for j in jobs.JOBS),
    }
