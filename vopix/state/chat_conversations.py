"""Renaming and deleting conversations, a mixin of ChatState (vopix/state/chat.py): the open
one, or all of them after a question."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import reflex as rx

from vopix.core.agent import history
from vopix.state.session import for_user


class ChatConversations(rx.State, mixin=True):
    confirm_delete_conversation: bool = False
    confirm_delete_all: bool = False

    if TYPE_CHECKING:  # ChatState's, which this mixin works on
        current_id: int
        current_title: str
        streaming: bool
        error: str

        async def _refresh_conversations(self, user_id: int) -> None: ...

        def _close(self) -> None: ...

    @rx.event
    @for_user
    async def rename(self, user_id: int, form: dict) -> None:
        if not self.current_id:
            return None
        try:
            conv = await asyncio.to_thread(
                history.rename_conversation, user_id, self.current_id, str(form.get("title", ""))
            )
        except (ValueError, history.NotFound) as exc:
            self.error = str(exc)
            return
        self.current_title = conv.title
        await self._refresh_conversations(user_id)

    @rx.event
    def ask_delete_conversation(self, value: bool) -> None:
        self.confirm_delete_conversation = value

    @rx.event
    def ask_delete_all(self, value: bool) -> None:
        self.confirm_delete_all = value

    @rx.event
    @for_user
    async def delete_conversation(self, user_id: int) -> None:
        if not self.current_id or self.streaming:
            return None
        try:
            await asyncio.to_thread(history.delete_conversation, user_id, self.current_id)
        except history.NotFound:
            pass
        self._close()
        self.confirm_delete_conversation = False
        await self._refresh_conversations(user_id)

    @rx.event
    @for_user
    async def delete_all(self, user_id: int) -> None:
        if self.streaming:
            return None
        await asyncio.to_thread(history.delete_all_conversations, user_id)
        self._close()
        self.confirm_delete_all = False
        await self._refresh_conversations(user_id)
