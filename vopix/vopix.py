"""The Reflex app: pages, routes, middleware and lifespan tasks. Wiring only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import reflex as rx

from vopix import db
from vopix.api.app import build_api
from vopix.api.middleware import AccessLogMiddleware
from vopix.core import access_log, jobs
from vopix.pages.account import account_page, home_page
from vopix.pages.auth import login_page, signup_page
from vopix.settings import get_settings
from vopix.state.account import AccountState
from vopix.state.session import SessionState


@contextlib.asynccontextmanager
async def platform_lifespan() -> AsyncIterator[None]:
    """Refuse to serve a database behind the code, then run the background workers."""
    await asyncio.to_thread(db.check_schema_current)
    tasks = [asyncio.create_task(access_log.writer.run(), name="access-log-writer")]
    if get_settings().run_scheduler:
        tasks.append(asyncio.create_task(jobs.run_scheduler(), name="scheduler"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


app = rx.App(
    api_transformer=[build_api(), AccessLogMiddleware],
    stylesheets=["/vopix.css"],
    theme=None,
)
app.register_lifespan_task(platform_lifespan)

app.add_page(signup_page, route="/signup", title="Sign up · VOPIX", on_load=SessionState.skip_if_logged_in)
app.add_page(login_page, route="/login", title="Log in · VOPIX", on_load=SessionState.skip_if_logged_in)
app.add_page(home_page, route="/", title="VOPIX", on_load=SessionState.require_login)
app.add_page(account_page, route="/account", title="Account · VOPIX", on_load=AccountState.load)
