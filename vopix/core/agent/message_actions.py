"""What a person can do to the messages of a conversation besides writing new ones: delete one
with a few seconds to take it back, edit one of their own and have the agent answer again from
there, and regenerate the last answer.

- Delete is applied at once. The caller keeps the `DeletedMessage` for the undo window and
  `restore` puts the row back as it was (same conversation, id where still free, times, status),
  so a tab closed during the window loses nothing and nothing is applied twice.
- Edit and resend replaces what followed: the edited message takes its new text and every later
  message of the conversation is deleted (no branches are kept).
- Regenerate replaces the last answer: everything after the last message of the person is
  deleted and the turn runs again.

Edit and regenerate are `Rewind`s: runtime.respond runs one in the turn's own transaction, after
the quota and the provider have admitted the turn, so a refused turn changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from vopix.core import live
from vopix.core.agent.history import MAX_MESSAGE_CHARS, MessageView, NotFound
from vopix.core.clock import utcnow
from vopix.db import core, session_scope
from vopix.models import Conversation, Message

Rewind = Callable[[Session], None]
_MSG = Message.__table__  # type: ignore[attr-defined]
_CONV = Conversation.__table__  # type: ignore[attr-defined]
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class DeletedMessage:
    """A deleted message, whole: what `restore` needs to put it back."""

    id: int
    user_id: int
    conversation_id: int
    role: str
    content: str
    channel: str
    status: str
    tool_name: str | None
    tool_call_id: str | None
    tool_args: str | None
    created_at: datetime


def _view(row: DeletedMessage, new_id: int) -> MessageView:
    return MessageView(
        new_id, row.conversation_id, row.role, row.content, row.channel, row.status,
        row.tool_name, row.tool_args, row.created_at,
    )


def delete_for_undo(user_id: int, message_id: int) -> DeletedMessage:
    """Delete one of the person's messages now and hand back all of it, for an undo."""
    with session_scope() as s:
        m = s.get(Message, message_id)
        if m is None or m.user_id != user_id:
            raise NotFound("message not found")
        kept = DeletedMessage(
            m.id or 0, m.user_id, m.conversation_id, m.role, m.content, m.channel, m.status,
            m.tool_name, m.tool_call_id, m.tool_args, m.created_at,
        )
        live.changed(s, user_id, live.HISTORY)
        s.delete(m)
        return kept


def restore(user_id: int, kept: DeletedMessage) -> MessageView:
    """Put a deleted message back in its conversation, as it was. Restoring twice leaves one
    copy. It gets its old id back, and so its old place, unless a newer message took that id
    meanwhile (SQLite hands out the highest id again): then it gets a new one, which still
    follows every message that was before it. NotFound: the conversation is gone, or the
    message was not this person's."""
    if kept.user_id != user_id:
        raise NotFound("message not found")
    row = {
        "id": kept.id,
        "conversation_id": kept.conversation_id,
        "user_id": user_id,
        "role": kept.role,
        "content": kept.content,
        "channel": kept.channel,
        "status": kept.status,
        "tool_name": kept.tool_name,
        "tool_call_id": kept.tool_call_id,
        "tool_args": kept.tool_args,
        "created_at": kept.created_at,
    }
    with session_scope() as s:
        conn = core(s)
        owner = conn.execute(select(_CONV.c.user_id).where(_CONV.c.id == kept.conversation_id)).scalar()
        if owner != user_id:
            raise NotFound("conversation not found")
        live.changed(s, user_id, live.HISTORY)
        same = conn.execute(
            select(_MSG.c.id).where(
                _MSG.c.conversation_id == kept.conversation_id,
                _MSG.c.user_id == user_id,
                _MSG.c.role == kept.role,
                _MSG.c.created_at == kept.created_at,
                _MSG.c.content == kept.content,
            )
        ).scalar()
        if same is not None:  # restored already (a second click, another tab)
            return _view(kept, int(same))
        taken = conn.execute(select(_MSG.c.id).where(_MSG.c.id == kept.id)).scalar() is not None
        if not taken:
            try:
                with s.begin_nested():
                    conn.execute(insert(_MSG), row)
                return _view(kept, kept.id)
            except IntegrityError:  # taken between the look and the insert
                pass
        del row["id"]
        new_id = conn.execute(insert(_MSG), row).inserted_primary_key[0]
        return _view(kept, int(new_id))


def _conversation_of(s: Session, user_id: int, conversation_id: int) -> None:
    owner = core(s).execute(select(_CONV.c.user_id).where(_CONV.c.id == conversation_id)).scalar()
    if owner != user_id:
        raise NotFound("conversation not found")
    live.changed(s, user_id, live.HISTORY)  # only writers check ownership this way


def _delete_after(s: Session, conversation_id: int, message_id: int) -> int:
    done = core(s).execute(
        delete(_MSG).where(_MSG.c.conversation_id == conversation_id, _MSG.c.id > message_id)
    )
    return int(done.rowcount or 0)


def clean_text(text: str) -> str:
    """A message as it will be sent: trimmed, not empty, within the length limit."""
    content = _SURROGATE.sub("\ufffd", (text or "").strip())
    if not content:
        raise ValueError("Write a message first.")
    if len(content) > MAX_MESSAGE_CHARS:
        raise ValueError(f"Keep a message under {MAX_MESSAGE_CHARS:,} characters.")
    return content


def edit_rewind(user_id: int, conversation_id: int, message_id: int, text: str) -> Rewind:
    """A rewind for runtime.respond: message `message_id` (the person's own, in this
    conversation) takes the new text and the time of the resend, and every later message of
    the conversation is deleted. ValueError for an empty or too long text, at once."""
    content = clean_text(text)

    def rewind(s: Session) -> None:
        _cut_after_own(s, user_id, conversation_id, message_id)
        core(s).execute(
            update(_MSG).where(_MSG.c.id == message_id).values(content=content, created_at=utcnow())
        )

    return rewind


def answer_again_rewind(user_id: int, conversation_id: int, message_id: int) -> Rewind:
    """A rewind for runtime.respond: message `message_id` (the person's own, in this
    conversation) is answered again as it stands; every later message is deleted (what a
    crashed attempt at answering it left). NotFound when it is gone."""

    def rewind(s: Session) -> None:
        _cut_after_own(s, user_id, conversation_id, message_id)

    return rewind


def _cut_after_own(s: Session, user_id: int, conversation_id: int, message_id: int) -> None:
    """Every message after `message_id` deleted, which must be the person's own message in
    their conversation (NotFound otherwise)."""
    _conversation_of(s, user_id, conversation_id)
    found = core(s).execute(
        select(_MSG.c.role).where(
            _MSG.c.id == message_id,
            _MSG.c.conversation_id == conversation_id,
            _MSG.c.user_id == user_id,
        )
    ).scalar()
    if found != "user":
        raise NotFound("message not found")
    _delete_after(s, conversation_id, message_id)


def regenerate_rewind(user_id: int, conversation_id: int) -> Rewind:
    """A rewind for runtime.respond: everything after the person's last message in the
    conversation (the answer, its tool calls, notices) is deleted. NotFound when the
    conversation holds no message of the person's."""

    def rewind(s: Session) -> None:
        _conversation_of(s, user_id, conversation_id)
        last = core(s).execute(
            select(func.max(_MSG.c.id)).where(
                _MSG.c.conversation_id == conversation_id, _MSG.c.role == "user"
            )
        ).scalar()
        if last is None:
            raise NotFound("no message to answer again")
        _delete_after(s, conversation_id, int(last))

    return rewind
