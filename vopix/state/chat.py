"""Web chat: conversation list, messages with paging, streaming replies, deletion; search and
opening a hit in chat_search, files attached in the composer in chat_attachments, message
actions (undo, edit and resend, regenerate) in chat_actions, renaming and deleting
conversations in chat_conversations (mixins of ChatState)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import reflex as rx

from vopix.core import attachments, live, usage
from vopix.core.agent import history, profile, runtime, turn_lease
from vopix.core.kinds import MessageStatus, TurnEventKind
from vopix.models import Notice
from vopix.state.chat_actions import ChatActions, TurnStarter
from vopix.state.chat_attachments import ChatAttachments
from vopix.state.chat_conversations import ChatConversations
from vopix.state.chat_interrupt import ChatInterrupt
from vopix.state.chat_rows import (
    conversation_row,
    message_row,
    new_row,
    notice_row,
    tool_fields,
    user_fields,
)
from vopix.state.chat_search import ChatSearch
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, follow_live, for_user

FLUSH_EVERY_S = 0.05  # batch streamed tokens: at most ~20 UI updates a second


class ChatState(ChatActions, ChatAttachments, ChatConversations, ChatInterrupt, ChatSearch, SessionState):
    conversations: list[dict[str, str]] = []
    conversations_more: bool = False
    current_id: int = 0
    current_title: str = ""
    messages: list[dict[str, Any]] = []
    older_more: bool = False
    streaming: bool = False
    stop_requested: bool = False
    error: str = ""
    notices: list[dict[str, str]] = []
    notices_hidden: bool = False  # the person folded the notice area away
    agent_name: str = "Agent"
    _zone: str = "UTC"  # the person's time zone, read once per page load
    _linked: str = ""  # the ?c=&m= last opened from the address (chat_search.py: _open_linked)

    # -- loading ---------------------------------------------------------------------------
    async def _refresh_conversations(self, user_id: int) -> None:
        self._show_conversations(await asyncio.to_thread(history.list_conversations, user_id, limit=30))

    def _show_conversations(self, rows: list[history.ConversationView]) -> None:
        self.conversations = [conversation_row(c) for c in rows]
        self.conversations_more = len(rows) == 30
        if self.current_id and not self.current_title:
            # Display only: a conversation this tab just started shows the title the server gave it.
            current = str(self.current_id)
            self.current_title = next((c["title"] for c in self.conversations if c["id"] == current), "")

    async def _refresh_notices(self, user_id: int) -> None:
        self._show_notices(await asyncio.to_thread(usage.unread_notices, user_id))

    def _show_notices(self, rows: list[Notice]) -> None:
        self.notices = [notice_row(n) for n in rows]

    async def _open(self, user_id: int, conversation_id: int, at: int | None = None) -> None:
        """Open a conversation on its latest page, or on the page around message `at`."""
        conv = await asyncio.to_thread(history.get_conversation, user_id, conversation_id)
        if not self.streaming:  # a reply cut off while no tab waited for it: interrupted, once
            await asyncio.to_thread(turn_lease.settle_expired, user_id, conv.id)
        if at is None:
            page, more = await asyncio.to_thread(history.messages_page, user_id, conversation_id)
            newer = False
        else:
            page, more, newer = await asyncio.to_thread(history.messages_around, user_id, conversation_id, at)
        self.current_id, self.current_title = conv.id, conv.title
        self.messages = [message_row(m, self._zone) for m in page]
        self.older_more, self.newer_more = more, newer
        self.focus_id = "" if at is None else str(at)
        self.confirm_delete_conversation = False
        self.editing_id, self.resend_question = "", ""

    def _close(self) -> None:
        """No conversation open (deleted, or gone elsewhere)."""
        self.current_id, self.current_title, self.messages = 0, "", []
        self.older_more = self.newer_more = False
        self.focus_id = self.editing_id = self.resend_question = ""

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        await self._refresh_conversations(user_id)
        await self._refresh_notices(user_id)
        agent = await asyncio.to_thread(profile.get_profile, user_id)
        self.agent_name, self._zone = agent.name, agent.timezone
        if self.streaming:  # a reconnect while a reply streams: it goes on, or its process died
            return [rx.call_script(REFRESH_SCRIPT), type(self).watch_turn]
        if await self._open_linked(user_id):  # /chat?c=..&m=.. (a task run's "Open message")
            return rx.call_script(REFRESH_SCRIPT)
        # The address says which conversation is open (?c=, kept by chat_url.js): a tab whose
        # state is gone (Redis restarted) opens it again, and so does a reload.
        self.current_id = self._addressed_id() or self.current_id
        if self.current_id:
            try:
                await self._open(user_id, self.current_id)
            except history.NotFound:
                self._close()
        if await self._adopt_turn(user_id):  # a reply streams there that this state lost
            return [rx.call_script(REFRESH_SCRIPT), type(self).watch_turn]
        return rx.call_script(REFRESH_SCRIPT)

    @rx.event
    @for_user
    async def more_conversations(self, user_id: int) -> None:
        if not self.conversations:
            return None
        before = datetime.fromisoformat(self.conversations[-1]["updated"])
        rows = await asyncio.to_thread(history.list_conversations, user_id, before=before, limit=30)
        self.conversations += [conversation_row(c) for c in rows]
        self.conversations_more = len(rows) == 30

    @rx.event
    @for_user
    async def open_conversation(self, user_id: int, conversation_id: str) -> None:
        if self.streaming:
            return None
        try:
            await self._open(user_id, int(conversation_id))
        except (ValueError, history.NotFound):
            self.error = "That conversation does not exist."
        return None

    @rx.event
    @for_user
    async def load_older(self, user_id: int) -> None:
        if not self.current_id or not self.messages:
            return None
        before = int(self.messages[0]["id"])
        page, more = await asyncio.to_thread(
            history.messages_page, user_id, self.current_id, before_id=before
        )
        self.messages = [message_row(m, self._zone) for m in page] + self.messages
        self.older_more = more

    @rx.event
    @for_user
    async def new_conversation(self, user_id: int) -> None:
        if not self.streaming:
            self._close()
        return None

    async def _show_changes(self, user_id: int) -> bool:
        """A live notice said the person's history changed elsewhere (Telegram, WhatsApp, a
        task, another tab): show what is stored. Run by the tab's session watcher with this
        state locked (see follow_live at the end); False while a reply streams here, to be asked
        again once it is done."""
        if self.streaming:
            return False
        conversation_id = 0 if self.newer_more else self.current_id  # newer ones load on scroll
        shown = [(int(m["id"]), m["iso"]) for m in self.messages if m["id"].isdigit()]
        conversations = await asyncio.to_thread(history.list_conversations, user_id, limit=30)
        rows: list[history.MessageView] = []
        replaced = gone = False
        if conversation_id:
            try:
                rows, replaced = await asyncio.to_thread(history.catch_up, user_id, conversation_id, shown)
            except history.NotFound:  # deleted elsewhere
                gone = True
        if not self._owned_by(user_id):  # last, with no await after it (see _owned_by)
            return True
        if gone:
            self._close()
        self._show_conversations(conversations)
        if replaced:  # a regenerate, an edit or a delete in another tab: show what is stored
            self.messages = [message_row(m, self._zone) for m in rows]
            if self.editing_id and all(m["id"] != self.editing_id for m in self.messages):
                self.editing_id = self.resend_question = ""
        elif rows:
            self.messages = self.messages + [message_row(m, self._zone) for m in rows]
        return True

    # -- sending and streaming ---------------------------------------------------------------
    @rx.event
    @for_user
    async def send(self, user_id: int, form: dict) -> Reply:
        text = str(form.get("message", "")).strip()
        if (not text and not self.pending_files) or self.streaming:
            return None
        if self.attaching:
            self.error = "Wait until the files are attached, then send."
            return None
        if len(text) > history.MAX_MESSAGE_CHARS:
            self.error = f"Keep a message under {history.MAX_MESSAGE_CHARS:,} characters."
            return None
        text = attachments.with_note(text, self._take_pending())
        self.error = ""
        if not self.current_id and (addressed := self._addressed_id()):  # a state lost meanwhile
            try:
                await self._open(user_id, addressed)
            except history.NotFound:
                self._close()
        if self.newer_more and self.current_id:  # reading an older page: the reply goes last
            try:
                await self._open(user_id, self.current_id)
            except history.NotFound:
                self._close()
        self.focus_id, self.newer_more = "", False
        self.streaming, self.stop_requested = True, False
        self.messages.append({**new_row("user", self._zone), "content": text, **user_fields(text)})
        return [rx.set_value("message", ""), ChatState.stream_reply(text)]

    @rx.event
    def stop(self) -> None:
        self.stop_requested = True

    @rx.event(background=True)
    async def stream_reply(self, text: str) -> None:
        await self._stream_turn(
            lambda user_id, conversation_id, should_stop: runtime.run_turn(
                user_id, text, channel="web", conversation_id=conversation_id or None,
                should_stop=should_stop,
            )
        )

    async def _stream_turn(self, start: TurnStarter) -> None:
        """Show a turn as it streams (from a background event): `start` gives its events, for
        the person of the socket's cookie and the open conversation (0: none yet)."""
        async with self:
            # Any client can send this event by name: re-check the socket's cookie, as every
            # other event does, rather than trust the user id the state last held.
            user_id, conversation_id = await self.current_user_id(), self.current_id
            if user_id is None:
                self.streaming = False
                self._close()
                return
            self._turn_key = key = turn_lease.new_key()
        lease = turn_lease.Lease(key, user_id, conversation_id or None)  # tells others it runs

        async def should_stop() -> bool:
            async with self:
                return self._owned_by(user_id) and self.stop_requested

        # Every write below first checks that the state still belongs to this person on the
        # socket that proved it (a copied client token re-links it elsewhere); text that
        # cannot be shown now is kept for the next write that can.
        pending, last_flush = "", 0.0  # the first token is shown at once; later ones batch
        settled = False  # the reply's last write also ended the turn here: nothing left to do
        try:
            await lease.start()
            async for event in start(user_id, conversation_id, should_stop):
                lease.seen(event)
                if event.kind == TurnEventKind.TEXT:
                    pending += event.text
                    if time.monotonic() - last_flush < FLUSH_EVERY_S:
                        continue
                    async with self:
                        if self._owned_by(user_id):
                            self._append_text(pending, event.message_id)
                            pending = ""
                    last_flush = time.monotonic()
                    continue
                # The reply's end carries the after-turn refresh in the same write (one state
                # load and save fewer per turn); read first, nothing may await after the check.
                done = event.kind == TurnEventKind.DONE
                after = await self._after_turn_reads(user_id) if done else None
                async with self:
                    if not self._owned_by(user_id):
                        continue
                    if pending:
                        self._append_text(pending, event.message_id if done else None)
                        pending = ""
                    self._apply(event)
                    if after is not None:
                        self._settle(*after)
                        settled = True
        finally:
            await lease.end()
            if not settled:  # an error, a stop, a lost socket: end the turn here now
                # Read first: nothing may await between the ownership check and the writes.
                after = await self._after_turn_reads(user_id)
                async with self:
                    if self._owned_by(user_id):
                        if pending:
                            self._append_text(pending, None)
                        self._settle(*after)

    @staticmethod
    async def _after_turn_reads(user_id: int) -> tuple[list[history.ConversationView], list[Notice]]:
        """What a turn may have changed beside the reply: the conversation list (a new one, its
        title, its order) and the unread notices (a quota warning); one thread hop."""
        def read() -> tuple[list[history.ConversationView], list[Notice]]:
            return history.list_conversations(user_id, limit=30), usage.unread_notices(user_id)

        return await asyncio.to_thread(read)

    def _settle(self, conversations: list[history.ConversationView], notices: list[Notice]) -> None:
        """The turn is over: the reply's final status, the composer free, the lists refreshed."""
        self.streaming = False
        if self.messages and self.messages[-1]["status"] == MessageStatus.STREAMING:
            stopped = self.stop_requested
            self.messages[-1]["status"] = MessageStatus.STOPPED if stopped else MessageStatus.COMPLETE
            self.messages = list(self.messages)
        self._show_conversations(conversations)
        self._show_notices(notices)

    def _append_text(self, text: str, message_id: int | None) -> None:
        if (
            not self.messages
            or self.messages[-1]["role"] != "assistant"
            or self.messages[-1]["status"] != MessageStatus.STREAMING
        ):
            self.messages.append({**new_row("assistant", self._zone), "status": MessageStatus.STREAMING})
        last = self.messages[-1]
        last["content"] += text
        if message_id:
            last["id"] = str(message_id)
        self.messages = list(self.messages)

    def _apply(self, event: runtime.TurnEvent) -> None:
        if event.kind == TurnEventKind.USER_MESSAGE:
            self.current_id = event.conversation_id or self.current_id
            for m in reversed(self.messages):
                if m["role"] == "user" and m["id"] == "":
                    m["id"] = str(event.message_id)
                    break
        elif event.kind == TurnEventKind.TOOL_RESULT:
            self._finish_streaming()
            status = str(event.data.get("status") or MessageStatus.COMPLETE)
            args = event.data.get("arguments")
            name = str(event.data.get("name", ""))
            shown = tool_fields(name, args if isinstance(args, dict) else None, status, event.text)
            row = {**new_row("tool", self._zone), "id": str(event.message_id), "content": event.text,
                   "status": status}
            self.messages.append({**row, **shown})
        elif event.kind == TurnEventKind.DONE:
            if self.messages and self.messages[-1]["status"] == MessageStatus.STREAMING:
                stopped = bool(event.data.get("stopped"))
                self.messages[-1]["status"] = MessageStatus.STOPPED if stopped else MessageStatus.COMPLETE
                if event.message_id:
                    self.messages[-1]["id"] = str(event.message_id)
        elif event.kind == TurnEventKind.ERROR:
            self._finish_streaming(error=True)
            self.messages.append(
                {**new_row("notice", self._zone), "id": str(event.message_id or ""), "content": event.text}
            )
        self.messages = list(self.messages)

    def _finish_streaming(self, error: bool = False) -> None:
        if self.messages and self.messages[-1]["status"] == MessageStatus.STREAMING:
            self.messages[-1]["status"] = MessageStatus.ERROR if error else MessageStatus.COMPLETE

    # -- tool confirmation -------------------------------------------------------------------
    @rx.event(background=True)
    async def answer_confirmation(self, message_id: str, approve: bool) -> None:
        """Confirm or cancel a waiting tool call, then show what it came to, as stored. In the
        background: a confirmed action (a script run, a call to GitHub) may take a while, and
        the chat stays usable meanwhile."""
        async with self:
            # Any client can send this event by name: the socket's cookie says who, as always.
            user_id, zone = await self.current_user_id(), self._zone
            if user_id is None:
                return
            self.messages = [
                {**m, "status": MessageStatus.CONFIRMING.value} if m["id"] == message_id and approve else m
                for m in self.messages
            ]
        error = ""
        try:
            await runtime.confirm_tool_call(user_id, int(message_id), approve)
        except (ValueError, history.NotFound):
            error = "That action is no longer waiting for you."
        try:
            stored = await asyncio.to_thread(history.get_message, user_id, int(message_id))
        except (ValueError, history.NotFound):
            stored = None
        row = message_row(stored, zone) if stored is not None else None
        async with self:
            if not self._owned_by(user_id):
                return
            if error:
                self.error = error
            if row is not None:
                self.messages = [row if m["id"] == message_id else m for m in self.messages]

    @rx.event
    @for_user
    async def dismiss_notice(self, user_id: int, notice_id: str) -> None:
        try:
            await asyncio.to_thread(usage.dismiss_notice, user_id, int(notice_id))
        except ValueError:
            return
        self.notices = [n for n in self.notices if n["id"] != notice_id]

    @rx.event
    def toggle_notices(self) -> None:
        self.notices_hidden = not self.notices_hidden


# Open chat tabs show what changes elsewhere, told by live notices (no timer in the page).
follow_live(live.HISTORY, "/chat", ChatState, ChatState._show_changes)
