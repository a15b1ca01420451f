"""A reply cut off by the death of the process streaming it, and the conversation a tab keeps
across a lost state; a mixin of ChatState (vopix/state/chat.py).

- A web turn holds a lease while it streams (vopix/core/agent/turn_lease.py). When the tab
  reconnects (Reflex runs the page's on_load on every reconnect) while its state still says a
  reply streams, `watch_turn` looks at that lease: renewed, the turn runs on, here or on
  another instance, and writes to this state as before; run out, its process died, so the
  reply is stored as interrupted (once), streaming ends and the conversation is shown as
  stored, with a Retry on the interrupted reply (chat_actions.regenerate).
- The open conversation is also in the address (/chat?c=<id>, kept by assets/chat_url.js), so
  a tab whose state is gone (Redis restarted, a single process restarted) opens it again on
  its next event, and the next message lands in it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import reflex as rx

from vopix.core.agent import history, turn_lease
from vopix.core.agent.turn_lease import Liveness
from vopix.core.kinds import MessageStatus
from vopix.state.chat_rows import message_row, new_row

WATCH_S = 1.0  # how often a reconnected tab looks at the lease of the reply it waits for


class ChatInterrupt(rx.State, mixin=True):
    _turn_key: str = ""  # the lease of the turn streaming to this tab (turn_lease)
    _turn_adopted: bool = False  # that turn was found in the database, not started here

    if TYPE_CHECKING:  # ChatState's and SessionState's, which this mixin works on
        current_id: int
        messages: list[dict[str, Any]]
        streaming: bool
        stop_requested: bool
        older_more: bool
        _zone: str
        _user_id: int

        def _owned_by(self, user_id: int) -> bool: ...

    def _addressed_id(self) -> int:
        """The conversation the address names (?c=<id>), 0 for none. Only a hint: opening it
        checks that it is the person's."""
        c = str(self.router.url.query_parameters.get("c", ""))
        return int(c) if c.isdigit() and len(c) < 19 else 0

    def _streaming_text(self) -> str:
        last = self.messages[-1] if self.messages else None
        if last and last["role"] == "assistant" and last["status"] == MessageStatus.STREAMING:
            return str(last["content"])
        return ""

    async def _adopt_turn(self, user_id: int) -> bool:
        """The open conversation has a reply streaming that this tab's state does not know of
        (the state was emptied on a reconnect, or lost with Redis): show it as streaming, to
        be watched (watch_turn) until it ends or its lease runs out."""
        if self.streaming or not self.current_id:
            return False
        found = await asyncio.to_thread(turn_lease.running, user_id, self.current_id)
        if found is None:
            return False
        self._turn_key, self._turn_adopted = found[0], True
        self.streaming, self.stop_requested = True, False
        row = {**new_row("assistant", self._zone), "status": MessageStatus.STREAMING, "content": found[1]}
        self.messages = [*self.messages, row]
        return True

    @rx.event(background=True)
    async def watch_turn(self) -> None:
        """After a reconnect while a reply streams: wait for it, or settle it once its turn's
        lease runs out. A missing lease is a turn that ended (its last write is on its way)
        or one that died before taking it: after LEASE_S without the reply ending, the same."""
        async with self:
            user_id, key, adopted = self._user_id, self._turn_key, self._turn_adopted
            if not (self.streaming and self._owned_by(user_id)):
                return
        missing = 0.0
        while True:
            liveness = await asyncio.to_thread(turn_lease.look, key)
            if liveness == Liveness.EXPIRED:
                break
            missing = missing + WATCH_S if liveness == Liveness.MISSING else 0.0
            if missing > turn_lease.LEASE_S or (adopted and missing):
                break  # (a turn found in the database that ended: what it stored is shown)
            await asyncio.sleep(WATCH_S)
            async with self:
                if not (self.streaming and self._turn_key == key and self._owned_by(user_id)):
                    return  # the reply ended (or the tab moved on, or is someone else's now)
        async with self:
            shown, conversation_id = self._streaming_text(), self.current_id
        await asyncio.to_thread(turn_lease.settle, key, user_id, shown, conversation_id or None)
        page: list[history.MessageView] | None = None
        more = False
        if conversation_id:
            try:
                page, more = await asyncio.to_thread(history.messages_page, user_id, conversation_id)
            except history.NotFound:
                page = None
        async with self:
            if not (self.streaming and self._turn_key == key and self._owned_by(user_id)):
                return
            self.streaming, self.stop_requested, self._turn_adopted = False, False, False
            if page is not None and self.current_id == conversation_id:
                self.messages = [message_row(m, self._zone) for m in page]  # as stored
                self.older_more = more
            elif self.messages and self.messages[-1]["status"] == MessageStatus.STREAMING:
                self.messages[-1]["status"] = MessageStatus.INTERRUPTED
                self.messages = list(self.messages)
