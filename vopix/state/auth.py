"""Sign-up and login forms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx

from vopix.core import accounts
from vopix.state.session import HOME_ROUTE, Reply, SessionState, cookie_post_script


def _checked(form: dict, name: str) -> bool:
    return str(form.get(name, "")).lower() in {"on", "true", "1", "yes"}


class AuthFormState(SessionState):
    error: str = ""
    busy: bool = False

    async def _log_in_as(self, user_id: int) -> Reply:
        nonce = await asyncio.to_thread(accounts.issue_login_nonce, user_id)
        return rx.call_script(cookie_post_script("/api/auth/session", {"nonce": nonce}, HOME_ROUTE))

    @rx.event
    async def sign_up(self, form: dict) -> AsyncIterator[Reply]:
        self.error, self.busy = "", True
        yield
        try:
            user = await asyncio.to_thread(
                accounts.sign_up,
                str(form.get("email", "")),
                str(form.get("password", "")),
                age_confirmed=_checked(form, "age_confirmed"),
                marketing_opt_in=_checked(form, "marketing_opt_in"),
            )
        except accounts.AccountError as exc:
            self.error, self.busy = str(exc), False
            return
        self.busy = False
        yield await self._log_in_as(user.id)

    @rx.event
    async def log_in(self, form: dict) -> AsyncIterator[Reply]:
        self.error, self.busy = "", True
        yield
        try:
            user = await asyncio.to_thread(
                accounts.check_credentials,
                str(form.get("email", "")),
                str(form.get("password", "")),
                ip=self.router.session.client_ip,
            )
        except accounts.AccountError as exc:
            self.error, self.busy = str(exc), False
            return
        self.busy = False
        yield await self._log_in_as(user.id)
