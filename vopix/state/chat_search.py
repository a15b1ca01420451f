"""Chat search, a mixin of ChatState (vopix/state/chat.py): the search box's results, and a
hit opened on the page around its message, paged newer from there (older pages load as for
any conversation). ChatState owns the open conversation: _open, messages, streaming."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import reflex as rx

from vopix.core.agent import history
from vopix.state.chat_rows import message_row, search_row
from vopix.state.session import for_user


class ChatSearch(rx.State, mixin=True):
    search_query: str = ""
    search_results: list[dict[str, Any]] = []
    searched: bool = False
    newer_more: bool = False  # opened at a search hit: newer messages than the page exist
    focus_id: str = ""  # the message a search hit opened, scrolled into view and marked
    focus_seq: int = 0  # counts hits opened: the same hit clicked again scrolls to it again

    if TYPE_CHECKING:  # ChatState's, which this mixin works on
        current_id: int
        messages: list[dict[str, Any]]
        streaming: bool
        error: str
        _zone: str

        async def _open(self, user_id: int, conversation_id: int, at: int | None = None) -> None: ...

        async def current_user_id(self) -> int | None: ...

        _linked: str

    @rx.event
    @for_user
    async def search(self, user_id: int, form: dict) -> None:
        self.search_query = str(form.get("query", ""))[:200]
        hits = await asyncio.to_thread(history.search_messages, user_id, self.search_query)
        self.search_results = [search_row(h, self._zone) for h in hits]
        self.searched = True

    @rx.event
    def clear_search(self) -> None:
        self.search_results, self.searched, self.search_query = [], False, ""

    @rx.event
    @for_user
    async def open_hit(self, user_id: int, conversation_id: str, message_id: str) -> None:
        """A search result: its conversation, on the page around the message, scrolled to it."""
        if self.streaming:
            return None
        try:
            await self._open(user_id, int(conversation_id), at=int(message_id))
            self.focus_seq += 1
        except (ValueError, history.NotFound):
            self.error = "That message is no longer there."
        return None

    async def _open_linked(self, user_id: int) -> bool:
        """The conversation and message the address names (/chat?c=..&m=.., a task run's "Open
        message"), opened there and scrolled to it, as a hit opens. Once per tab: a reconnect
        runs load again on the same address and keeps whatever the person opened since."""
        q = self.router.url.query_parameters
        c, m = str(q.get("c", "")), str(q.get("m", ""))
        if not (c.isdigit() and m.isdigit()) or self._linked == f"{c}:{m}":
            return False
        self._linked = f"{c}:{m}"
        try:
            await self._open(user_id, int(c), at=int(m))
        except history.NotFound:
            self.error = "That message is no longer there."
            return False
        self.focus_seq += 1
        return True

    @rx.event
    @for_user
    async def load_newer(self, user_id: int) -> None:
        if not self.current_id or not self.messages or not self.newer_more:
            return None
        after = max(int(m["id"]) for m in self.messages if m["id"].isdigit())
        rows = await asyncio.to_thread(
            history.messages_after, user_id, self.current_id, after, history.PAGE + 1
        )
        self.messages = self.messages + [message_row(m, self._zone) for m in rows[: history.PAGE]]
        self.newer_more = len(rows) > history.PAGE

    @rx.event
    @for_user
    async def show_latest(self, user_id: int) -> None:
        """The "Jump to latest" button on a page opened at a search hit: the latest page."""
        if self.newer_more and self.current_id and not self.streaming:
            await self._open(user_id, self.current_id)
        return None
