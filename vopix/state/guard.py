"""Binds a tab's Reflex state to the login cookie of the socket that opens it.

Reflex sends the whole state of a client token when a page hydrates. If that token was copied
into another browser (which lacks the cookie), the state still holds the owner's data; this
middleware empties it before anything is sent, so the copy acts as, and sees, nobody.
Event handlers re-check the cookie themselves before sensitive work (SessionState).
"""

from __future__ import annotations

import asyncio
from typing import Any

from reflex.middleware import Middleware

from vopix.core import sessions
from vopix.state.session import SessionState

HYDRATE_EVENTS = frozenset({"hydrate", "hydrate_and_load"})


class CookieBoundState(Middleware):
    async def preprocess(self, app: Any, state: Any, event: Any) -> None:
        if event.name.rsplit(".", 1)[-1] not in HYDRATE_EVENTS:
            return None
        session = await state.get_state(SessionState)
        if not session._user_id:
            return None
        headers = (event.router_data or {}).get("headers") or {}
        token = sessions.token_from_cookie_header(headers.get("cookie", ""))
        info = await asyncio.to_thread(sessions.resolve, token, socket=True)
        if info is None or info.user_id != session._user_id:
            state.reset()
            session._forget()
        return None
