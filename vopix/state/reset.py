"""Forgot password, the reset link's page and the "this wasn't me" page: public pages, thin
over vopix.core.password_reset. The link's token stays in a backend-only var."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx

from vopix.core import password_reset
from vopix.core.accounts import AccountError
from vopix.core.action_tokens import TokenInvalid
from vopix.core.kinds import TokenPurpose


def _token_of(state: rx.State) -> str:
    """The ?token= of the page's address (Reflex 0.10 parses it in router.url; router.page is
    deprecated)."""
    return str(state.router.url.query_parameters.get("token", ""))


class ForgotState(rx.State):
    error: str = ""
    answer: str = ""
    busy: bool = False

    @rx.event
    def load(self) -> None:
        self.error = self.answer = ""
        self.busy = False

    @rx.event
    async def request(self, form: dict) -> AsyncIterator[None]:
        self.error, self.answer, self.busy = "", "", True
        yield
        try:
            self.answer = await asyncio.to_thread(
                password_reset.request_reset, str(form.get("email", "")), ip=self.router.session.client_ip
            )
        except AccountError as exc:
            self.error = str(exc)
        self.busy = False


class ResetState(rx.State):
    _token: str = ""
    checked: bool = False  # the link was looked at (the page shows nothing before)
    problem: str = ""  # why the link does not work: a page of its own, not an error
    error: str = ""  # why the password was refused (the link still works)
    done: bool = False
    busy: bool = False

    @rx.event
    async def load(self) -> None:
        self._token = _token_of(self)
        self.error, self.done, self.busy = "", False, False
        self.problem = await asyncio.to_thread(
            password_reset.link_problem, self._token, TokenPurpose.PASSWORD_RESET
        )
        self.checked = True

    @rx.event
    async def set_password(self, form: dict) -> AsyncIterator[None]:
        if self.done:
            return
        self.error, self.busy = "", True
        yield
        try:
            await asyncio.to_thread(
                password_reset.reset_password, self._token, str(form.get("password", "")),
                str(form.get("repeat", "")), ip=self.router.session.client_ip,
                user_agent=self.router.headers.user_agent,
            )
            self.done, self._token = True, ""
        except AccountError as exc:
            self.error = str(exc)
        except TokenInvalid as exc:
            self.problem = password_reset.problem_text(TokenPurpose.PASSWORD_RESET, exc.reason)
        self.busy = False


class NotMeState(rx.State):
    _token: str = ""
    checked: bool = False
    problem: str = ""
    done: bool = False
    busy: bool = False

    @rx.event
    async def load(self) -> None:
        # Opening the link only shows what it will do: a mail scanner that follows links must
        # not use it up (or sign the person out) before they read it.
        self._token = _token_of(self)
        self.done, self.busy = False, False
        self.problem = await asyncio.to_thread(password_reset.link_problem, self._token, TokenPurpose.NOT_ME)
        self.checked = True

    @rx.event
    async def confirm(self) -> AsyncIterator[None]:
        if self.done:  # a second press: it is done (and the used token is forgotten)
            return
        self.busy = True
        yield
        try:
            await asyncio.to_thread(password_reset.not_me, self._token)
            self.done, self._token = True, ""
        except TokenInvalid as exc:
            self.problem = password_reset.problem_text(TokenPurpose.NOT_ME, exc.reason)
        self.busy = False
