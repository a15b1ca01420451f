"""Web chat: conversation list, messages with paging, streaming replies, search, deletion."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import reflex as rx

from vopix.core import usage
from vopix.core.agent import history, profile, runtime
from vopix.core.kinds import MessageStatus, TurnEventKind
from vopix.models import Notice
from vopix.state.chat_rows import blank_row, conversation_row, message_row, notice_row, search_row
from vopix.state.session import REFRESH_SCRIPT, Reply, SessionState, for_user

FLUSH_EVERY_S = 0.05  # batch streamed tokens: at most ~20 UI updates a second


class ChatState(SessionState):
    conversations: list[dict[str, str]] = []
    conversations_more: bool = False
    current_id: int = 0
    current_title: str = ""
    messages: list[dict[str, str]] = []
    older_more: bool = False
    streaming: bool = False
    stop_requested: bool = False
    error: str = ""
    search_query: str = ""
    search_results: list[dict[str, str]] = []
    searched: bool = False
    notices: list[dict[str, str]] = []
    notices_hidden: bool = False  # the person folded the notice area away
    confirm_delete_conversation: bool = False
    confirm_delete_all: bool = False
    agent_name: str = "Agent"
    _zone: str = "UTC"  # the person's time zone, read once per page load

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

    async def _open(self, user_id: int, conversation_id: int) -> None:
        conv = await asyncio.to_thread(history.get_conversation, user_id, conversation_id)
        page, more = await asyncio.to_thread(history.messages_page, user_id, conversation_id)
        self.current_id, self.current_title = conv.id, conv.title
        self.messages = [message_row(m, self._zone) for m in page]
        self.older_more = more
        self.confirm_delete_conversation = False

    @rx.event
    @for_user
    async def load(self, user_id: int) -> Reply:
        await self._refresh_conversations(user_id)
        await self._refresh_notices(user_id)
        agent = await asyncio.to_thread(profile.get_profile, user_id)
        self.agent_name, self._zone = agent.name, agent.timezone
        if self.current_id:
            try:
                await self._open(user_id, self.current_id)
            except history.NotFound:
                self.current_id, self.messages = 0, []
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
            self.current_id, self.current_title, self.messages, self.older_more = 0, "", [], False
        return None

    @rx.event
    @for_user
    async def poll_new(self, user_id: int, _tick: object = None) -> None:
        """Every few seconds while the page is open: messages that arrived over Telegram or
        WhatsApp (or another tab) appear without a reload."""
        if self.streaming:
            return
        await self._refresh_conversations(user_id)
        if not self.current_id:
            return
        known = [int(m["id"]) for m in self.messages if m["id"].isdigit()]
        try:
            rows = await asyncio.to_thread(
                history.messages_after, user_id, self.current_id, max(known, default=0)
            )
        except history.NotFound:  # deleted elsewhere
            self.current_id, self.current_title, self.messages = 0, "", []
            return
        if rows and not self.streaming:
            self.messages = self.messages + [message_row(m, self._zone) for m in rows]

    # -- sending and streaming ---------------------------------------------------------------
    @rx.event
    @for_user
    async def send(self, user_id: int, form: dict) -> Reply:
        text = str(form.get("message", "")).strip()
        if not text or self.streaming:
            return None
        if len(text) > history.MAX_MESSAGE_CHARS:
            self.error = f"Keep a message under {history.MAX_MESSAGE_CHARS:,} characters."
            return None
        self.error = ""
        self.streaming, self.stop_requested = True, False
        self.messages.append({**blank_row("user"), "content": text})
        return [rx.set_value("message", ""), ChatState.stream_reply(text)]

    @rx.event
    def stop(self) -> None:
        self.stop_requested = True

    @rx.event(background=True)
    async def stream_reply(self, text: str) -> None:
        async with self:
            # Any client can send this event by name: re-check the socket's cookie, as every
            # other event does, rather than trust the user id the state last held.
            user_id, conversation_id = await self.current_user_id(), self.current_id
            if user_id is None:
                self.streaming, self.messages, self.current_id = False, [], 0
                return

        async def should_stop() -> bool:
            async with self:
                return self._owned_by(user_id) and self.stop_requested

        # Every write below first checks that the state still belongs to this person on the
        # socket that proved it (a copied client token re-links it elsewhere); text that
        # cannot be shown now is kept for the next write that can.
        pending, last_flush = "", 0.0  # the first token is shown at once; later ones batch
        try:
            async for event in runtime.run_turn(
                user_id,
                text,
                channel="web",
                conversation_id=conversation_id or None,
                should_stop=should_stop,
            ):
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
                async with self:
                    if not self._owned_by(user_id):
                        continue
                    if pending:
                        done = event.kind == TurnEventKind.DONE
                        self._append_text(pending, event.message_id if done else None)
                        pending = ""
                    self._apply(event)
        finally:
            # Read first: nothing may await between the ownership check and the writes.
            conversations = await asyncio.to_thread(history.list_conversations, user_id, limit=30)
            notices = await asyncio.to_thread(usage.unread_notices, user_id)
            async with self:
                if self._owned_by(user_id):
                    if pending:
                        self._append_text(pending, None)
                    self.streaming = False
                    if self.messages and self.messages[-1]["status"] == MessageStatus.STREAMING:
                        self.messages[-1]["status"] = (
                            MessageStatus.STOPPED if self.stop_requested else MessageStatus.COMPLETE
                        )
                        self.messages = list(self.messages)
                    self._show_conversations(conversations)
                    self._show_notices(notices)

    def _append_text(self, text: str, message_id: int | None) -> None:
        if (
            not self.messages
            or self.messages[-1]["role"] != "assistant"
            or self.messages[-1]["status"] != MessageStatus.STREAMING
        ):
            self.messages.append({**blank_row("assistant"), "status": MessageStatus.STREAMING})
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
            row = {
                **blank_row("tool"),
                "id": str(event.message_id),
                "content": event.text,
                "tool_name": str(event.data.get("name", "")),
                "tool_args": str(event.data.get("arguments", "")),
            }
            if event.data.get("status") == MessageStatus.AWAITING_CONFIRMATION:
                row["status"] = MessageStatus.AWAITING_CONFIRMATION
            self.messages.append(row)
        elif event.kind == TurnEventKind.DONE:
            if self.messages and self.messages[-1]["status"] == MessageStatus.STREAMING:
                stopped = bool(event.data.get("stopped"))
                self.messages[-1]["status"] = MessageStatus.STOPPED if stopped else MessageStatus.COMPLETE
                if event.message_id:
                    self.messages[-1]["id"] = str(event.message_id)
        elif event.kind == TurnEventKind.ERROR:
            self._finish_streaming(error=True)
            self.messages.append(
                {**blank_row("notice"), "id": str(event.message_id or ""), "content": event.text}
            )
        self.messages = list(self.messages)

    def _finish_streaming(self, error: bool = False) -> None:
        if self.messages and self.messages[-1]["status"] == MessageStatus.STREAMING:
            self.messages[-1]["status"] = MessageStatus.ERROR if error else MessageStatus.COMPLETE

    # -- tool confirmation -------------------------------------------------------------------
    @rx.event
    @for_user
    async def answer_confirmation(self, user_id: int, message_id: str, approve: bool) -> None:
        try:
            result = await runtime.confirm_tool_call(user_id, int(message_id), approve)
        except (ValueError, history.NotFound):
            self.error = "That action is no longer waiting for you."
            return None
        for m in self.messages:
            if m["id"] == message_id:
                m["content"] = result
                m["status"] = MessageStatus.COMPLETE if approve else MessageStatus.CANCELLED
        self.messages = list(self.messages)
        return None

    # -- managing ----------------------------------------------------------------------------
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
    @for_user
    async def delete_message(self, user_id: int, message_id: str) -> None:
        try:
            await asyncio.to_thread(history.delete_message, user_id, int(message_id))
        except (ValueError, history.NotFound):
            self.error = "That message is already gone."
        self.messages = [m for m in self.messages if m["id"] != message_id]

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
        self.current_id, self.current_title, self.messages = 0, "", []
        self.confirm_delete_conversation = False
        await self._refresh_conversations(user_id)

    @rx.event
    @for_user
    async def delete_all(self, user_id: int) -> None:
        if self.streaming:
            return None
        await asyncio.to_thread(history.delete_all_conversations, user_id)
        self.current_id, self.current_title, self.messages = 0, "", []
        self.confirm_delete_all = False
        await self._refresh_conversations(user_id)

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
    async def dismiss_notice(self, user_id: int, notice_id: str) -> None:
        try:
            await asyncio.to_thread(usage.dismiss_notice, user_id, int(notice_id))
        except ValueError:
            return
        self.notices = [n for n in self.notices if n["id"] != notice_id]

    @rx.event
    def toggle_notices(self) -> None:
        self.notices_hidden = not self.notices_hidden

