"""The Reflex app: pages, routes, middleware and lifespan tasks. Wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import reflex as rx
from reflex_base.utils import console as reflex_console
from reflex_base.utils import log as reflex_log

from vopix import db, platform
from vopix.api.app import build_api
from vopix.api.middleware import AccessLogMiddleware
from vopix.channels.worker import channels_lifespan
from vopix.core import access_log, jobs, log_format, log_scrub, metrics, vault
from vopix.core.billing import worker as billing_worker
from vopix.core.cluster import check_topology
from vopix.core.mail import worker as mail_worker
from vopix.core.privacy import export_worker
from vopix.core.tasks import worker as task_worker
from vopix.pages.account import account_page
from vopix.pages.admin import admin_page
from vopix.pages.agent_settings import agent_settings_page
from vopix.pages.auth import login_page, signup_page
from vopix.pages.billing import billing_page
from vopix.pages.channels import channels_page
from vopix.pages.chat import chat_page
from vopix.pages.email_links import confirm_email_page, undo_email_page
from vopix.pages.integrations import integrations_page
from vopix.pages.landing import landing_page
from vopix.pages.policy import policy_page
from vopix.pages.privacy import privacy_page
from vopix.pages.reset import forgot_page, not_me_page, reset_page
from vopix.pages.restore_account import restore_account_page
from vopix.pages.tasks import tasks_page
from vopix.pages.usage import usage_page
from vopix.pages.workspace import workspace_page
from vopix.settings import get_settings
from vopix.state import session as session_state
from vopix.state import socket_owners
from vopix.state.account import AccountState
from vopix.state.admin import AdminState
from vopix.state.agent_settings import AgentSettingsState
from vopix.state.billing import BillingState
from vopix.state.channels import ChannelsState
from vopix.state.chat import ChatState
from vopix.state.email_links import EmailLinkState
from vopix.state.guard import CookieBoundState, UploadGuard
from vopix.state.integrations import IntegrationsState
from vopix.state.landing import LandingState
from vopix.state.policy_banner import PolicyPageState
from vopix.state.privacy import PrivacyState
from vopix.state.reset import ForgotState, NotMeState, ResetState
from vopix.state.restore_account import RestoreState
from vopix.state.session import SessionState
from vopix.state.tasks import TasksState
from vopix.state.usage import UsageState
from vopix.state.workspace import WorkspaceState


@contextlib.asynccontextmanager
async def platform_lifespan() -> AsyncIterator[None]:
    """Refuse to serve a database behind the code, then run the background workers."""
    check_topology(get_settings())  # production (https, Redis) runs on PostgreSQL only (P20)
    await asyncio.to_thread(db.check_schema_current)
    await asyncio.to_thread(vault.keyring)  # a malformed key stops start-up; dev key made now
    tasks = [
        asyncio.create_task(access_log.writer.run(), name="access-log-writer"),
        asyncio.create_task(mail_worker.run(), name="mail-worker"),  # claims keep each mail to one
        asyncio.create_task(billing_worker.run(), name="billing-worker"),  # Stripe's events
        asyncio.create_task(export_worker.run(), name="export-worker"),  # data exports, leased
        asyncio.create_task(task_worker.serve(), name="task-worker"),  # due reminders and tasks, leased
    ]
    if get_settings().run_scheduler:
        tasks.append(asyncio.create_task(jobs.run_scheduler(), name="scheduler"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# No log line may hold a cookie, token, password or key (Reflex logs whole events, headers
# included): every record is scrubbed, and so is what Reflex's console module prints itself.
log_scrub.install()
log_scrub.wrap_printers(reflex_console, "print", "_print_stderr", "print_to_log_file", "log")
log_scrub.wrap_printers(reflex_log, "emit_json_print")
log_format.install()  # VOPIX_LOG_FORMAT=json: one JSON object a line, with the event id
# httpx logs request URLs at INFO, and the Telegram Bot API puts the bot token in the URL.
logging.getLogger("httpx").setLevel(logging.WARNING)

platform.install()  # tools, prompt sections, hooks and jobs: registrations, no database work

app = rx.App(
    api_transformer=[build_api(), UploadGuard, AccessLogMiddleware],
    stylesheets=["/vopix.css"],
    theme=None,
)
app.register_lifespan_task(platform_lifespan)
app.register_lifespan_task(metrics.metrics_lifespan)  # this worker's figures (issue 17)


def _linked_socket(client_token: str) -> str | None:
    """The socket this app instance has linked the client token to, if any."""
    namespace = app.event_namespace
    return namespace.token_to_sid.get(client_token) if namespace is not None else None


session_state.linked_socket = _linked_socket  # background writes check the live link
app.register_lifespan_task(socket_owners.lifespan(app))  # a dead worker's tabs keep their tokens
app.add_middleware(CookieBoundState(), index=0)
app.register_lifespan_task(channels_lifespan)

app.add_page(signup_page, route="/signup", title="Sign up · VOPIX", on_load=SessionState.skip_if_logged_in)
app.add_page(login_page, route="/login", title="Log in · VOPIX", on_load=SessionState.skip_if_logged_in)
app.add_page(forgot_page, route="/forgot", title="Reset your password · VOPIX", on_load=ForgotState.load)
app.add_page(reset_page, route="/reset", title="Set a new password · VOPIX", on_load=ResetState.load)
app.add_page(not_me_page, route="/not-me", title="Secure your account · VOPIX", on_load=NotMeState.load)
app.add_page(landing_page, route="/", title="VOPIX · your own AI agent", on_load=LandingState.load)
app.add_page(chat_page, route="/chat", title="Chat · VOPIX", on_load=ChatState.load)
app.add_page(agent_settings_page, route="/settings", title="Agent · VOPIX", on_load=AgentSettingsState.load)
app.add_page(workspace_page, route="/workspace", title="Workspace · VOPIX", on_load=WorkspaceState.load)
app.add_page(usage_page, route="/usage", title="Usage · VOPIX", on_load=UsageState.load)
app.add_page(billing_page, route="/billing", title="Billing · VOPIX", on_load=BillingState.load)
app.add_page(
    integrations_page, route="/integrations", title="Integrations · VOPIX", on_load=IntegrationsState.load
)
app.add_page(account_page, route="/account", title="Account · VOPIX", on_load=AccountState.load)
app.add_page(channels_page, route="/channels", title="Channels · VOPIX", on_load=ChannelsState.load)
app.add_page(privacy_page, route="/privacy", title="Privacy · VOPIX", on_load=PrivacyState.load)
app.add_page(tasks_page, route="/tasks", title="Tasks · VOPIX", on_load=TasksState.load)
# Titled neutrally: without a role the page is "not found" (AdminState sets Reflex's 404 title).
app.add_page(admin_page, route="/admin", title="VOPIX", on_load=AdminState.load)
app.add_page(policy_page, route="/policy", title="Privacy policy · VOPIX", on_load=PolicyPageState.load)
app.add_page(
    confirm_email_page, route="/confirm-email", title="Confirm email · VOPIX", on_load=EmailLinkState.confirm
)
app.add_page(
    restore_account_page, route="/restore-account", title="Restore your account · VOPIX",
    on_load=RestoreState.check,
)
app.add_page(
    undo_email_page, route="/undo-email", title="Undo email change · VOPIX", on_load=EmailLinkState.check_undo
)
