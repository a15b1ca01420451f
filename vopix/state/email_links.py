"""The two links of an email change: /confirm-email (from the new address) works on opening;
/undo-email (from the old one) shows what it will do and a button does it, since it signs out
everything and a mail scanner following the link must not undo a change the person made. The
page says what happened or why nothing did."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core import email_change, sessions
from vopix.state.session import SessionState


class EmailLinkState(SessionState):
    done: bool = False
    message: str = ""
    error: str = ""
    undo_address: str = ""  # what the undo button will put back
    busy: bool = False
    _used_token: str = ""  # the token this tab already used (on_load may run twice)
    _undo_token: str = ""  # backend only: the link's token never goes to the page

    def _token(self) -> str:
        return str(self.router.url.query_parameters.get("token", ""))[:200]

    def _fresh(self, token: str) -> bool:
        """False when this tab already used this very link: keep what the page says."""
        if token and token == self._used_token:
            return False
        self.done, self.message, self.error = False, "", ""
        return True

    @rx.event
    async def confirm(self) -> None:
        token = self._token()
        if not self._fresh(token):
            return
        # A tab of the same account keeps its session; every other session ends.
        await self.current_user_id()
        keep = self._session_id or None
        try:
            result = await asyncio.to_thread(
                email_change.confirm, token, keep_session_id=keep, ip=self.router.session.client_ip,
                device=sessions.describe_user_agent(self.router.headers.user_agent),
            )
        except email_change.EmailLinkError as exc:
            self.error = str(exc)
            return
        self._used_token, self.done = token, True
        if self._user_id == result.user_id:
            self.user_email = result.email
        self.message = (
            f"Your account now uses {result.email}. We told {result.other_email} and signed out "
            "your other sessions."
        )

    @rx.event
    async def check_undo(self) -> None:
        """on_load of /undo-email: only look at the link."""
        token = self._token()
        if not self._fresh(token):
            return
        self.undo_address, self._undo_token, self.busy = "", "", False
        try:
            self.undo_address = await asyncio.to_thread(email_change.undo_preview, token)
        except email_change.EmailLinkError as exc:
            self.error = str(exc)
            return
        self._undo_token = token

    @rx.event
    async def undo(self) -> None:
        """The page's button."""
        token = self._undo_token
        if not token or self.busy:
            return
        self.busy = True
        try:
            result = await asyncio.to_thread(email_change.undo, token)
        except email_change.EmailLinkError as exc:
            self.error, self.busy = str(exc), False
            return
        self._used_token, self._undo_token, self.done, self.busy = token, "", True, False
        self._forget()  # this tab's session, if any, ended with the others
        self.message = (
            f"Your account uses {result.email} again, and every session was signed out. We sent a "
            f"link to {result.email} to set a new password: use it before you log in."
        )
