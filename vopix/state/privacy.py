"""The /privacy page's state: the page itself only checks who is there; each section (export,
deletion, who looked) has its own state module, whose on_load is listed in SECTION_LOADS (or,
for a section the person opens with a click, reset in this page's own on_load)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from vopix.state.privacy_deletion import DeletionState
from vopix.state.privacy_export import PrivacyExportState
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

# Each section's on_load (an event handler guarded with for_user), run in this order.
SECTION_LOADS: list[Any] = [
    PrivacyExportState.load,
]


class PrivacyState(SessionState):
    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        (await self.get_state(DeletionState))._reset_section()
        return [rx.call_script(REFRESH_SCRIPT), *SECTION_LOADS]
