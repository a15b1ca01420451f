"""Reminders and scheduled tasks (issue 13): schedule.py (rules, the DST rule), store.py (CRUD
with validation), claim.py (due occurrences under a lease), deliver.py (channel choice and
fallback), runs.py (the run row's stages), occurrence.py (one occurrence, exactly once),
agent_turn.py (an agent task's turn), worker.py (the claim and run loop), tools.py (the agent's
tools)."""

from __future__ import annotations


def install() -> None:
    """vopix.platform.install calls this: the agent's task tools, the export part, the mail."""
    from vopix.core.mail import templates
    from vopix.core.tasks import export, tools

    tools.register()
    export.register()  # tasks.json in the person's data export
    templates.TEMPLATES.setdefault("task_undelivered", {
        "en": templates.Text(
            "VOPIX: a task message is waiting in the web chat",
            ("A message from one of your VOPIX tasks could not be delivered on {channel} "
             "({reason}).",
             "It is in the web chat, in the task's own conversation. You can choose where your tasks "
             "deliver on the Tasks page.{support}"),
            action="Open Tasks",
        ),
    })
