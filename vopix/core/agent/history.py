"""Conversations and messages: paging, search, deletion. Every call is scoped to one user;
another user's ids behave as if they did not exist. Search itself is in message_search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, bindparam, case, delete, func, insert, update
from sqlmodel import Session, col, select

from vopix.core import live

# Search lives in message_search; callers go on calling history.search_messages.
from vopix.core.agent.message_search import SearchHit as SearchHit
from vopix.core.agent.message_search import search_messages as search_messages
from vopix.core.attachment_note import title_text
from vopix.core.clock import utcnow
from vopix.core.kinds import MessageStatus
from vopix.db import core, session_scope
from vopix.models import Conversation, Message

PAGE = 50
MAX_MESSAGE_CHARS = 32_000
CHANNEL_CONVERSATION_IDLE = timedelta(hours=6)
_CONV = Conversation.__table__  # type: ignore[attr-defined]
_MSG = Message.__table__  # type: ignore[attr-defined]


class NotFound(LookupError):
    """No such conversation or message for this user."""


@dataclass(frozen=True)
class ConversationView:
    id: int
    title: str
    updated_at: datetime


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    role: str
    content: str
    channel: str
    status: str
    tool_name: str | None
    tool_args: str | None
    created_at: datetime


def _msg(m: Message) -> MessageView:
    return MessageView(
        m.id or 0,
        m.conversation_id,
        m.role,
        m.content,
        m.channel,
        m.status,
        m.tool_name,
        m.tool_args,
        m.created_at,
    )


def _own_conversation(s: Session, user_id: int, conversation_id: int) -> Conversation:
    conv = s.get(Conversation, conversation_id)
    if conv is None or conv.user_id != user_id:
        raise NotFound("conversation not found")
    return conv


def create_conversation(user_id: int, title: str = "New conversation") -> ConversationView:
    with session_scope() as s:
        live.changed(s, user_id, live.HISTORY)
        conv = Conversation(user_id=user_id, title=title[:200] or "New conversation")
        s.add(conv)
        s.flush()
        return ConversationView(conv.id or 0, conv.title, conv.updated_at)


def get_conversation(user_id: int, conversation_id: int) -> ConversationView:
    with session_scope() as s:
        conv = _own_conversation(s, user_id, conversation_id)
        return ConversationView(conv.id or 0, conv.title, conv.updated_at)


def list_conversations(
    user_id: int, *, before: datetime | None = None, limit: int = 30
) -> list[ConversationView]:
    """Newest first; pass the last row's updated_at as `before` for the next page."""
    with session_scope() as s:
        q = select(Conversation).where(Conversation.user_id == user_id)
        if before is not None:
            q = q.where(Conversation.updated_at < before)
        rows = s.exec(
            q.order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc()).limit(limit)
        )
        return [ConversationView(c.id or 0, c.title, c.updated_at) for c in rows]


def rename_conversation(user_id: int, conversation_id: int, title: str) -> ConversationView:
    clean = " ".join((title or "").split())[:200]
    if not clean:
        raise ValueError("Give the conversation a title.")
    with session_scope() as s:
        conv = _own_conversation(s, user_id, conversation_id)
        live.changed(s, user_id, live.HISTORY)
        conv.title = clean
        s.add(conv)
        return ConversationView(conv.id or 0, conv.title, conv.updated_at)


def delete_conversation(user_id: int, conversation_id: int) -> None:
    with session_scope() as s:
        conv = _own_conversation(s, user_id, conversation_id)
        live.changed(s, user_id, live.HISTORY)
        s.exec(delete(Message).where(col(Message.conversation_id) == conv.id))  # type: ignore[call-overload]
        s.delete(conv)


def delete_all_conversations(user_id: int) -> int:
    with session_scope() as s:
        live.changed(s, user_id, live.HISTORY)
        s.exec(delete(Message).where(col(Message.user_id) == user_id))  # type: ignore[call-overload]
        n = s.exec(delete(Conversation).where(col(Conversation.user_id) == user_id))  # type: ignore[call-overload]
        return int(n.rowcount or 0)


def delete_message(user_id: int, message_id: int) -> None:
    with session_scope() as s:
        m = s.get(Message, message_id)
        if m is None or m.user_id != user_id:
            raise NotFound("message not found")
        live.changed(s, user_id, live.HISTORY)
        s.delete(m)


_SURROGATE = re.compile("[\ud800-\udfff]")


def add_message(
    user_id: int,
    conversation_id: int,
    role: str,
    content: str,
    *,
    channel: str = "web",
    status: str = MessageStatus.COMPLETE,
    tool_name: str | None = None,
    tool_call_id: str | None = None,
    tool_args: str | None = None,
) -> MessageView:
    """Add a message to one of the person's conversations, in a transaction of its own."""
    with session_scope() as s:
        return insert_message(
            s, user_id, conversation_id, role, content, channel=channel, status=status,
            tool_name=tool_name, tool_call_id=tool_call_id, tool_args=tool_args,
        )


def insert_message(
    s: Session,
    user_id: int,
    conversation_id: int,
    role: str,
    content: str,
    *,
    channel: str = "web",
    status: str = MessageStatus.COMPLETE,
    tool_name: str | None = None,
    tool_call_id: str | None = None,
    tool_args: str | None = None,
) -> MessageView:
    """The one piece of code that adds a message (web, Telegram, WhatsApp, notices), in the
    caller's transaction. Raises NotFound for a conversation that is not the person's."""
    # A lone surrogate (possible in JSON from a channel) cannot be stored as UTF-8: it becomes
    # U+FFFD, the replacement character (a str never holds the halves of a valid pair).
    content = _SURROGATE.sub("\ufffd", content)
    now = utcnow()
    # Core statements built once, no ORM objects: this runs several times per turn. The
    # UPDATE is also the ownership check: it touches no conversation of someone else's.
    titled = role == "user" and bool(content.strip())
    conn = core(s)
    # (Parameter names must not be column names: those would become extra SET values.)
    params: dict[str, object] = {"c": conversation_id, "u": user_id, "now": now}
    if titled:
        params["new_title"] = _title_from(content)
    if not conn.execute(_TOUCH_TITLED if titled else _TOUCH, params).rowcount:
        raise NotFound("conversation not found")
    row = {
        "conversation_id": conversation_id,
        "user_id": user_id,
        "role": role,
        "content": content[:MAX_MESSAGE_CHARS],
        "channel": channel,
        "status": status,
        "tool_name": tool_name,
        "tool_call_id": tool_call_id,
        "tool_args": tool_args,
        "created_at": now,
    }
    new_id = conn.execute(_NEW_MESSAGE, row).inserted_primary_key[0]
    live.changed(s, user_id, live.HISTORY)
    return MessageView(
        new_id, conversation_id, role, row["content"], channel, status, tool_name, tool_args, now
    )


def update_message(
    user_id: int, message_id: int, *, content: str | None = None, status: str | None = None
) -> None:
    values: dict[str, str] = {}
    if content is not None:
        values["content"] = content[:MAX_MESSAGE_CHARS]
    if status is not None:
        values["status"] = status
    with session_scope() as s:
        live.changed(s, user_id, live.HISTORY)
        s.exec(  # type: ignore[call-overload]
            update(Message)
            .where(col(Message.id) == message_id, col(Message.user_id) == user_id)
            .values(**values)
        )


def claim_status(user_id: int, message_id: int, expected: str, new: str) -> bool:
    """Move a message from one status to another only if it is still in the expected one
    (one atomic UPDATE), so two clicks cannot both act on it."""
    with session_scope() as s:
        live.changed(s, user_id, live.HISTORY)
        result = s.exec(  # type: ignore[call-overload]
            update(Message)
            .where(
                col(Message.id) == message_id,
                col(Message.user_id) == user_id,
                col(Message.status) == expected,
            )
            .values(status=new)
        )
        return bool(result.rowcount)


def get_message(user_id: int, message_id: int) -> MessageView:
    with session_scope() as s:
        m = s.get(Message, message_id)
        if m is None or m.user_id != user_id:
            raise NotFound("message not found")
        return _msg(m)


def _title_from(content: str) -> str:
    words = " ".join(title_text(content).split())  # without the attachment lines
    return (words[:57] + "…") if len(words) > 60 else words


_MESSAGE_COLUMNS = (
    Message.id,
    Message.conversation_id,
    Message.role,
    Message.content,
    Message.channel,
    Message.status,
    Message.tool_name,
    Message.tool_args,
    Message.created_at,
)


_BY_CONV = (_CONV.c.id == bindparam("c"), _CONV.c.user_id == bindparam("u"))
_TOUCH = update(_CONV).where(*_BY_CONV).values(updated_at=bindparam("now"))
_TOUCH_TITLED = (
    update(_CONV)
    .where(*_BY_CONV)
    .values(
        updated_at=bindparam("now"),
        title=case(
            (_CONV.c.title == "New conversation", bindparam("new_title", type_=String)),
            else_=_CONV.c.title,
        ),
    )
)
_NEW_MESSAGE = insert(_MSG)
_OWNER = select(_CONV.c.user_id).where(_CONV.c.id == bindparam("c"))
_PAGE = select(*(_MSG.c[c.key] for c in _MESSAGE_COLUMNS)).where(_MSG.c.conversation_id == bindparam("c"))
_LATEST = _PAGE.order_by(_MSG.c.id.desc()).limit(bindparam("n"))
_BEFORE = _PAGE.where(_MSG.c.id < bindparam("before")).order_by(_MSG.c.id.desc()).limit(bindparam("n"))
_FROM = _PAGE.where(_MSG.c.id >= bindparam("start")).order_by(_MSG.c.id).limit(bindparam("n"))


def messages_page(
    user_id: int, conversation_id: int, *, before_id: int | None = None, limit: int = PAGE
) -> tuple[list[MessageView], bool]:
    """The latest `limit` messages before `before_id`, oldest first, and whether older exist.
    Uses the (conversation_id, id) index, so a 10,000-message conversation opens instantly;
    plain column rows, not ORM objects, because this runs on every turn."""
    with session_scope() as s:
        return _page(s, user_id, conversation_id, before_id, limit)


def _page(
    s: Session, user_id: int, conversation_id: int, before_id: int | None, limit: int
) -> tuple[list[MessageView], bool]:
    conn = core(s)
    if conn.execute(_OWNER, {"c": conversation_id}).scalar() != user_id:
        raise NotFound("conversation not found")
    q = _LATEST if before_id is None else _BEFORE
    params = {"c": conversation_id, "before": before_id, "n": limit + 1}
    rows = conn.execute(q, params).all()
    more = len(rows) > limit
    return [MessageView(*r) for r in reversed(rows[:limit])], more


def messages_around(
    user_id: int, conversation_id: int, message_id: int, limit: int = PAGE
) -> tuple[list[MessageView], bool, bool]:
    """The page of `limit` messages around one of them (about half before it), oldest first,
    and whether older and newer messages exist beyond it: a search hit opens here, and the
    person pages older (messages_page) and newer (messages_after) from it."""
    with session_scope() as s:
        conn = core(s)
        if conn.execute(_OWNER, {"c": conversation_id}).scalar() != user_id:
            raise NotFound("conversation not found")
        half = limit // 2
        older = conn.execute(_BEFORE, {"c": conversation_id, "before": message_id, "n": half + 1}).all()
        older_more, older = len(older) > half, older[:half]
        room = limit - len(older)  # near the start, the page fills up with newer messages
        rest = conn.execute(_FROM, {"c": conversation_id, "start": message_id, "n": room + 1}).all()
        if not rest or rest[0][0] != message_id:
            raise NotFound("message not found")
        rows = [*reversed(older), *rest[:room]]
        return [MessageView(*r) for r in rows], older_more, len(rest) > room


def messages_after(
    user_id: int, conversation_id: int, after_id: int, limit: int = 100
) -> list[MessageView]:
    """Messages newer than `after_id` (an open web tab catching up with other channels)."""
    with session_scope() as s:
        _own_conversation(s, user_id, conversation_id)
        q = (
            select(*_MESSAGE_COLUMNS)
            .where(Message.conversation_id == conversation_id, col(Message.id) > after_id)
            .order_by(col(Message.id))
            .limit(limit)
        )
        return [MessageView(*r) for r in s.exec(q)]


def catch_up(
    user_id: int, conversation_id: int, shown: list[tuple[int, str]], limit: int = 100
) -> tuple[list[MessageView], bool]:
    """What an open tab showing `shown` messages ((id, created_at.isoformat()), oldest first)
    must change. (rows, True) when the stored ones in that range differ (a regenerate, an edit
    and resend, a deletion or its Undo, in another tab; SQLite may give a new answer its old
    id, so the time is compared too): `rows` are the stored messages from the first shown one
    on, to show instead. Otherwise (the newer messages, False). One index range scan when
    nothing changed."""
    with session_scope() as s:
        _own_conversation(s, user_id, conversation_id)
        ids = [i for i, _ in shown]
        if shown:
            stored = s.exec(
                select(Message.id, Message.created_at).where(
                    Message.conversation_id == conversation_id,
                    col(Message.id) >= min(ids),
                    col(Message.id) <= max(ids),
                )
            ).all()
            if {(i, t.isoformat()) for i, t in stored} != set(shown):
                params = {"c": conversation_id, "start": min(ids), "n": len(shown) + limit}
                return [MessageView(*r) for r in core(s).execute(_FROM, params)], True
        q = (
            select(*_MESSAGE_COLUMNS)
            .where(Message.conversation_id == conversation_id, col(Message.id) > max(ids, default=0))
            .order_by(col(Message.id))
            .limit(limit)
        )
        return [MessageView(*r) for r in s.exec(q)], False


def recent_for_context(
    s: Session, user_id: int, conversation_id: int, limit: int = 200
) -> list[MessageView]:
    """The newest `limit` messages for the model's context, in the caller's transaction."""
    return _page(s, user_id, conversation_id, None, limit)[0]


def conversation_for_channel(user_id: int) -> int:
    """Where a Telegram or WhatsApp message goes: the conversation the person used last, if
    recent; otherwise a new one. The web shows it with the channel marked."""
    with session_scope() as s:
        conv = s.exec(
            select(Conversation)
            .where(Conversation.user_id == user_id)
            .order_by(col(Conversation.updated_at).desc())
            .limit(1)
        ).first()
        if conv is not None and utcnow() - conv.updated_at < CHANNEL_CONVERSATION_IDLE:
            return conv.id or 0
    return create_conversation(user_id).id


def count_messages(user_id: int, conversation_id: int) -> int:
    with session_scope() as s:
        _own_conversation(s, user_id, conversation_id)
        return int(s.exec(select(func.count()).where(Message.conversation_id == conversation_id)).one())
