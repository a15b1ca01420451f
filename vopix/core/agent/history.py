"""Conversations and messages: paging, search, deletion. Every call is scoped to one user;
another user's ids behave as if they did not exist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, bindparam, case, delete, func, insert, text, update
from sqlmodel import Session, col, select

from vopix.core.clock import utcnow
from vopix.core.fulltext import fts5_match, prefix_tsquery, query_words
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


@dataclass(frozen=True)
class SearchHit:
    message_id: int
    conversation_id: int
    conversation_title: str
    role: str
    snippet: str
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
        conv.title = clean
        s.add(conv)
        return ConversationView(conv.id or 0, conv.title, conv.updated_at)


def delete_conversation(user_id: int, conversation_id: int) -> None:
    with session_scope() as s:
        conv = _own_conversation(s, user_id, conversation_id)
        s.exec(delete(Message).where(col(Message.conversation_id) == conv.id))  # type: ignore[call-overload]
        s.delete(conv)


def delete_all_conversations(user_id: int) -> int:
    with session_scope() as s:
        s.exec(delete(Message).where(col(Message.user_id) == user_id))  # type: ignore[call-overload]
        n = s.exec(delete(Conversation).where(col(Conversation.user_id) == user_id))  # type: ignore[call-overload]
        return int(n.rowcount or 0)


def delete_message(user_id: int, message_id: int) -> None:
    with session_scope() as s:
        m = s.get(Message, message_id)
        if m is None or m.user_id != user_id:
            raise NotFound("message not found")
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
        s.exec(  # type: ignore[call-overload]
            update(Message)
            .where(col(Message.id) == message_id, col(Message.user_id) == user_id)
            .values(**values)
        )


def claim_status(user_id: int, message_id: int, expected: str, new: str) -> bool:
    """Move a message from one status to another only if it is still in the expected one
    (one atomic UPDATE), so two clicks cannot both act on it."""
    with session_scope() as s:
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
    words = " ".join(content.split())
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


def search_messages(user_id: int, query: str, limit: int = 30) -> list[SearchHit]:
    """Full-text search over one's own messages (FTS5 on SQLite, tsvector on PostgreSQL)."""
    words = query_words(query)
    if not words:
        return []
    with session_scope() as s:
        if s.get_bind().dialect.name == "sqlite":
            match = fts5_match(words)
            sql = text(
                "SELECT m.id, m.conversation_id, c.title, m.role, "
                "snippet(message_fts, 0, '[', ']', '…', 12) AS snip, m.created_at "
                "FROM message_fts JOIN message m ON m.id = message_fts.rowid "
                "JOIN conversation c ON c.id = m.conversation_id "
                "WHERE message_fts MATCH :q AND m.user_id = :u ORDER BY m.id DESC LIMIT :n"
            )
            params: dict[str, object] = {"q": match, "u": user_id, "n": limit}
        else:
            tsq = prefix_tsquery(words)
            sql = text(
                "SELECT m.id, m.conversation_id, c.title, m.role, "
                "ts_headline('simple', m.content, to_tsquery('simple', :q), "
                "'StartSel=[,StopSel=],MaxWords=20,MinWords=8') AS snip, m.created_at "
                "FROM message m JOIN conversation c ON c.id = m.conversation_id "
                "WHERE to_tsvector('simple', m.content) @@ to_tsquery('simple', :q) "
                "AND m.user_id = :u ORDER BY m.id DESC LIMIT :n"
            )
            params = {"q": tsq, "u": user_id, "n": limit}
        return [SearchHit(r[0], r[1], r[2], r[3], r[4], _as_utc(r[5])) for r in s.execute(sql, params)]


def _as_utc(value: object) -> datetime:
    """Raw SQL hands back SQLite timestamps as text and PostgreSQL ones as naive datetimes."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return utcnow()
