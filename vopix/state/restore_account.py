"""/restore-account, the link of the deletion mail: the page looks at the link first and a
button restores the account (a mail scanner following the link must not undo a deletion)."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core.action_tokens import TokenInvalid
from vopix.core.privacy import deletion
from vopix.state.session import SessionState


class RestoreState(SessionState):
    restore_ready: bool = False
    restore_done: bool = False
    restore_error: str = ""
    restore_busy: bool = False
    _restore_token: str = ""  # backend only: the link's token never goes to the page

    @rx.event
    async def check(self) -> None:
        """on_load: only look at the link."""
        token = str(self.router.url.query_parameters.get("token", ""))[:200]
        if self.restore_done and token == self._restore_token:
            return  # on_load ran again after the restore: keep what the page says
        self.restore_ready = self.restore_done = self.restore_busy = False
        self.restore_error, self._restore_token = "", ""
        problem = await asyncio.to_thread(deletion.restore_problem, token)
        if problem:
            self.restore_error = problem
            return
        self._restore_token, self.restore_ready = token, True

    @rx.event
    async def restore(self) -> None:
        token = self._restore_token
        if not token or self.restore_busy or self.restore_done:
            return
        self.restore_busy = True
        try:
            await asyncio.to_thread(deletion.restore, token)
        except TokenInvalid as exc:
            self.restore_error = deletion.RESTORE_PROBLEMS[exc.reason]
            self.restore_ready = self.restore_busy = False
            return
        self.restore_ready, self.restore_busy, self.restore_done = False, False, True
