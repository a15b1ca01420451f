"""The page at / for people who are not logged in; a logged-in person goes on to the chat."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core import plans
from vopix.state.plan_text import plan_row
from vopix.state.session import HOME_ROUTE, Reply, SessionState


class LandingState(SessionState):
    plans: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> Reply:
        if await self.current_user_id() is not None:
            return rx.redirect(HOME_ROUTE, replace=True)
        self.plans = [plan_row(p) for p in await asyncio.to_thread(plans.list_plans)]
        return None
