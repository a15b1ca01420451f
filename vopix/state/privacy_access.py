"""The "Who looked at your account" section of /privacy: every staff look and action (P17)."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core.privacy import audit
from vopix.state.session import SessionState, for_user


class AccessState(SessionState):
    looks: list[dict[str, str]] = []
    looks_loaded: bool = False

    @rx.event
    @for_user
    async def load(self, user_id: int) -> None:
        rows = await asyncio.to_thread(audit.seen_by_staff, user_id)
        self.looks = [{"when": r.when, "who": r.who, "what": r.what, "reason": r.reason} for r in rows]
        self.looks_loaded = True
