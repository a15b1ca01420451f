"""The privacy policy notice shown on every signed-in page until the person dismisses it (P34)."""

from __future__ import annotations

import asyncio

import reflex as rx

from vopix.core.privacy import policy
from vopix.state.session import SessionState, for_user


class PolicyBannerState(SessionState):
    policy_version: str = ""
    policy_summary: str = ""
    policy_effective: str = ""
    _policy_version_id: int = 0

    @rx.var
    def policy_text(self) -> str:
        if not self.policy_version:
            return ""
        return (f"Our privacy policy changes: version {self.policy_version} takes effect on "
                f"{self.policy_effective}.")

    def _show(self, banner: policy.Banner | None) -> None:
        self._policy_version_id = banner.version_id if banner else 0
        self.policy_version = banner.version if banner else ""
        self.policy_summary = banner.summary if banner else ""
        self.policy_effective = f"{banner.effective_on:%Y-%m-%d}" if banner else ""

    @rx.event
    @for_user
    async def load(self, user_id: int) -> None:
        self._show(await asyncio.to_thread(policy.banner_for, user_id))

    @rx.event
    @for_user
    async def dismiss(self, user_id: int) -> None:
        if self._policy_version_id:
            await asyncio.to_thread(policy.dismiss, user_id, self._policy_version_id)
        self._show(await asyncio.to_thread(policy.banner_for, user_id))


class PolicyPageState(rx.State):
    """/policy: the newest published version, for everyone (no login needed)."""

    version: str = ""
    effective: str = ""
    summary: str = ""
    paragraphs: list[str] = []

    @rx.event
    async def load(self) -> None:
        row = await asyncio.to_thread(policy.latest)
        self.version = row.version if row else ""
        self.effective = f"{row.effective_on:%Y-%m-%d}" if row else ""
        self.summary = row.summary if row else ""
        body = row.body if row else ""
        self.paragraphs = [p.strip() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
