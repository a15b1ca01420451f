"""The "Delete your account" section of /privacy: two steps (open the form, then type the
current password and press the named button). On success this tab's cookie is cleared and it
goes to the login page; every other tab and device is already signed out (its next event or
page load lands on the login page)."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from vopix.core import accounts
from vopix.core.privacy import deletion
from vopix.state.session import LOGIN_ROUTE, Reply, SessionState, cookie_post_script, for_user

log = logging.getLogger("vopix.deletion")


class DeletionState(SessionState):
    deletion_asking: bool = False
    deletion_error: str = ""
    deletion_busy: bool = False
    grace_days: int = 7

    def _reset_section(self) -> None:
        """The section as a fresh visit shows it (called by the page's on_load, in its own event:
        a follow-up event would run after a click made while the page loaded, and close the
        form that click had opened)."""
        self.grace_days = deletion.grace().days
        self.deletion_asking, self.deletion_error, self.deletion_busy = False, "", False

    @rx.event
    @for_user
    async def ask(self, user_id: int) -> None:
        self.grace_days = deletion.grace().days
        self.deletion_asking, self.deletion_error = True, ""

    @rx.event
    async def cancel(self) -> None:
        self.deletion_asking, self.deletion_error = False, ""

    @rx.event
    @for_user
    async def delete(self, user_id: int, form: dict) -> Reply:
        password = str(form.get("password", ""))
        if self.deletion_busy:
            return None
        if not password:
            self.deletion_error = "Type your current password to delete your account."
            return None
        self.deletion_busy, self.deletion_error = True, ""
        try:
            done = await asyncio.to_thread(
                deletion.request_deletion, user_id, password, ip=self.router.session.client_ip
            )
        except (accounts.AccountError, deletion.DeletionError) as exc:
            self.deletion_error, self.deletion_busy = str(exc), False
            return None
        self.deletion_busy = self.deletion_asking = False
        self._forget()
        log.info("account %s asked for its deletion; purge after %s", user_id, done.purge_after)
        return rx.call_script(cookie_post_script("/api/auth/logout", None, LOGIN_ROUTE))
