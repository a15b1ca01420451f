"""Mail: the durable outbox, templates, the SMTP (or .eml) transport and the sending worker.

Other domains queue mail with `outbox.enqueue(s, ...)` in the transaction of the event that
causes it; `install()` (vopix.platform) adds the outbox's clean-up jobs.
"""

from __future__ import annotations

from datetime import timedelta

from vopix.core import action_tokens, jobs
from vopix.core.mail import outbox


def install() -> None:
    jobs.register_job(jobs.Job("purge_mail_outbox", timedelta(hours=6), outbox.purge))
    jobs.register_job(jobs.Job("purge_action_tokens", timedelta(hours=6), action_tokens.purge))
