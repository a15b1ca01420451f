"""Message actions, a mixin of ChatState (vopix/state/chat.py): delete with an undo for a few
seconds, edit one's own message and resend it, regenerate the last answer. Copying is done in
the browser (assets/chat.js). The rules live in vopix/core/agent/message_actions.py:

- a deletion is applied at once; the row is kept here for UNDO_SECONDS and Undo puts it back
  (a tab closed meanwhile loses nothing, and nothing is applied twice);
- editing replaces what followed the edited message (the later messages are deleted, after a
  question that says so), and regenerate replaces the last answer; both are new turns.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import reflex as rx

from vopix.core.agent import history, message_actions, runtime
from vopix.core.agent.message_actions import DeletedMessage
from vopix.state.chat_rows import message_row, new_row, user_fields
from vopix.state.session import Reply, for_user

UNDO_SECONDS = 6
# Keyboard focus: onto Undo after a deletion (the Delete button is gone), and back to the
# composer when the toast goes while it held the focus.
FOCUS_UNDO = "setTimeout(() => document.querySelector('.vx-toast button')?.focus(), 50)"
REFOCUS = (
    "setTimeout(() => { const a = document.activeElement;"
    " if (!a || a === document.body) document.getElementById('message')?.focus(); }, 50)"
)
StopCheck = Callable[[], Awaitable[bool]]
# (user id, open conversation id or 0, stop check) -> the turn's events
TurnStarter = Callable[[int, int, StopCheck], AsyncIterator[runtime.TurnEvent]]


def _in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages in the conversation's order (by id); rows without an id yet stay last."""
    return sorted(rows, key=lambda m: int(m["id"]) if m["id"].isdigit() else math.inf)


class ChatActions(rx.State, mixin=True):
    editing_id: str = ""  # the message whose edit form is open
    resend_question: str = ""  # set: the edit would delete later messages; asked before resending
    undo_count: int = 0  # messages deleted in the open undo window
    _undo: list[DeletedMessage] = []  # kept for the undo window
    _undo_seq: int = 0  # counts deletions: only the newest one's timer closes the window
    _edit_text: str = ""

    if TYPE_CHECKING:  # ChatState's and SessionState's, which this mixin works on
        current_id: int
        messages: list[dict[str, Any]]
        streaming: bool
        stop_requested: bool
        newer_more: bool
        older_more: bool
        focus_id: str
        error: str
        agent_name: str
        _zone: str
        _user_id: int

        def _owned_by(self, user_id: int) -> bool: ...

        async def _stream_turn(self, start: TurnStarter) -> None: ...

    @rx.var
    def regenerable_id(self) -> str:
        """The last message, when it answers one of the person's: it has the Regenerate button."""
        if self.streaming or self.newer_more or not self.messages:
            return ""
        last = self.messages[-1]
        if last["role"] == "user" or not last["id"]:
            return ""
        return last["id"] if any(m["role"] == "user" for m in self.messages) else ""

    # -- delete and undo -------------------------------------------------------------------
    @rx.event
    @for_user
    async def delete_message(self, user_id: int, message_id: str) -> Reply:
        try:
            kept = await asyncio.to_thread(message_actions.delete_for_undo, user_id, int(message_id))
        except (ValueError, history.NotFound):
            self.error = "That message is already gone."
            self.messages = [m for m in self.messages if m["id"] != message_id]
            return None
        self.messages = [m for m in self.messages if m["id"] != message_id]
        if self.editing_id == message_id:
            self.editing_id, self.resend_question = "", ""
        self._undo = [*self._undo, kept]
        self.undo_count = len(self._undo)
        self._undo_seq += 1
        return [type(self).close_undo(self._undo_seq), rx.call_script(FOCUS_UNDO)]

    @rx.event(background=True)
    async def close_undo(self, seq: int) -> Reply:
        """UNDO_SECONDS after the newest deletion, Undo goes away (the deletions stay)."""
        async with self:
            owner = self._user_id
        await asyncio.sleep(UNDO_SECONDS)
        async with self:
            if not (self._owned_by(owner) and self._undo_seq == seq):
                return None
            self._undo, self.undo_count = [], 0
        return rx.call_script(REFOCUS)

    @rx.event
    @for_user
    async def undo_delete(self, user_id: int) -> Reply:
        """Put back every message deleted in the open window, each in its place."""
        kept, self._undo, self.undo_count = self._undo, [], 0
        self._undo_seq += 1
        restored, lost = [], 0
        for row in kept:
            try:
                restored.append(await asyncio.to_thread(message_actions.restore, user_id, row))
            except history.NotFound:
                lost += 1
        if lost:
            self.error = "A message could not be put back: its conversation was deleted."
        first = next((int(m["id"]) for m in self.messages if m["id"].isdigit()), 0)
        shown = [
            message_row(v, self._zone)
            for v in restored
            # Not above the loaded page: "Load older" pages on from its first message.
            if v.conversation_id == self.current_id and (v.id >= first or not self.older_more)
        ]
        if shown:
            self.messages = _in_order(self.messages + shown)
        return rx.call_script(REFOCUS)

    # -- edit and resend -------------------------------------------------------------------
    @rx.event
    def start_edit(self, message_id: str) -> None:
        if not self.streaming:
            self.editing_id, self.resend_question = message_id, ""

    @rx.event
    def cancel_edit(self) -> None:
        self.editing_id, self.resend_question = "", ""

    @rx.event
    def keep_editing(self) -> None:
        self.resend_question = ""

    @rx.event
    @for_user
    async def ask_resend(self, user_id: int, form: dict) -> Reply:
        """The edit form's Resend: ask first when later messages would be deleted."""
        if self.streaming or not self.editing_id:
            return None
        try:
            self._edit_text = message_actions.clean_text(str(form.get("text", "")))
        except ValueError as exc:
            self.error = str(exc)
            return None
        self.error = ""
        ids = [m["id"] for m in self.messages]
        if self.editing_id not in ids:
            return self._edit_gone()
        later = len(ids) - ids.index(self.editing_id) - 1
        if self.newer_more:
            self.resend_question = "Resend it? Every message after it will be deleted, and "
        elif later:
            what = "The message" if later == 1 else f"The {later} messages"
            self.resend_question = f"Resend it? {what} after it will be deleted, and "
        else:
            return self._resend()
        self.resend_question += f"{self.agent_name} will answer again. This cannot be undone."
        return None

    @rx.event
    @for_user
    async def confirm_resend(self, user_id: int) -> Reply:
        if self.streaming or not self.editing_id or not self.resend_question:
            return None
        return self._resend()

    def _edit_gone(self) -> None:
        self.editing_id, self.resend_question = "", ""
        self.error = "That message is no longer there."

    def _resend(self) -> Reply:
        """Show the conversation cut back to the edited message, then stream the new answer."""
        message_id, text = self.editing_id, self._edit_text
        ids = [m["id"] for m in self.messages]
        if message_id not in ids:
            return self._edit_gone()
        kept = self.messages[: ids.index(message_id) + 1]
        kept[-1] = {**kept[-1], "content": text, **user_fields(text), **_now(self._zone)}
        self.messages = kept
        self.editing_id, self.resend_question = "", ""
        return self._rerun(message_id, text)

    # -- regenerate ------------------------------------------------------------------------
    @rx.event
    @for_user
    async def regenerate(self, user_id: int) -> Reply:
        """Replace the last answer: the turn runs again for the person's last message."""
        if not self.regenerable_id or not self.current_id:
            return None
        last = max(i for i, m in enumerate(self.messages) if m["role"] == "user")
        self.messages = self.messages[: last + 1]
        return self._rerun("", "")

    def _rerun(self, message_id: str, text: str) -> Reply:
        self.error, self.focus_id, self.newer_more = "", "", False
        self.streaming, self.stop_requested = True, False
        return type(self).stream_rerun(message_id, text)

    @rx.event(background=True)
    async def stream_rerun(self, message_id: str, text: str) -> None:
        """The new answer to an edited message (`message_id`, `text`), or to the person's last
        message (no message id): the conversation is cut back in the turn's transaction."""

        def start(
            user_id: int, conversation_id: int, should_stop: StopCheck
        ) -> AsyncIterator[runtime.TurnEvent]:
            if message_id:
                rewind = message_actions.edit_rewind(user_id, conversation_id, int(message_id), text)
            else:
                rewind = message_actions.regenerate_rewind(user_id, conversation_id)
            return runtime.respond(
                user_id, conversation_id, channel="web", should_stop=should_stop, rewind=rewind
            )

        try:
            await self._stream_turn(start)
        except (ValueError, history.NotFound):
            await self._show_stored("That message is no longer there, so nothing was sent.")

    async def _show_stored(self, why: str) -> None:
        """After a rerun that could not start: the conversation as stored, and why."""
        async with self:
            owner, conversation_id = self._user_id, self.current_id
        try:
            page, more = await asyncio.to_thread(history.messages_page, owner, conversation_id)
        except history.NotFound:
            page, more = [], False
        async with self:
            if self._owned_by(owner) and self.current_id == conversation_id:
                self.messages = [message_row(m, self._zone) for m in page]
                self.older_more, self.error = more, why


def _now(zone: str) -> dict[str, str]:
    row = new_row("user", zone)
    return {"time": row["time"], "iso": row["iso"]}
