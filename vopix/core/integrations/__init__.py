"""Integrations (P05, P06, P18, P19): the services a person connects (GitHub, Slack, Gmail),
their tokens in the vault, the OAuth flows, the agent's tools and the log of what it did."""

from __future__ import annotations

from datetime import timedelta


def install() -> None:
    from vopix.core import jobs
    from vopix.core.integrations import github, gmail, oauth, slack

    github.install()
    slack.install()
    gmail.install()
    jobs.register_job(jobs.Job("purge_oauth_states", timedelta(hours=1), oauth.purge))
