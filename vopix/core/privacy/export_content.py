"""The export's big parts: every conversation (a JSON file and a readable Markdown file each)
and every workspace file at its path. Messages are read a batch at a time and file content a
chunk at a time, so memory stays flat whatever the account holds."""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import col

from vopix.core.privacy.export_parts import keyset
from vopix.core.privacy.export_zip import ExportWriter
from vopix.core.workspace.storage import BlobMissing, get_storage
from vopix.models import Conversation, Message, WorkspaceEntry

_M = Message
SPOOL = 1024 * 1024  # a conversation's Markdown beyond this goes to a temporary file


def slug(title: str, limit: int = 50) -> str:
    """A file-name-safe form of a title: ASCII letters, digits and dashes."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    s = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return s[:limit].rstrip("-") or "conversation"


def _messages(conversation_id: int) -> Iterator[Any]:
    """The conversation's messages (it was listed by its owner's id) in id order. By the
    conversation alone: the (conversation_id, id) index then serves the whole keyset walk (with
    user_id too, SQLite's planner took the user_id index and sorted every page)."""
    return keyset(
        select(_M.id, _M.role, _M.channel, _M.created_at, _M.status, _M.content, _M.tool_name,
               _M.tool_call_id, _M.tool_args)
        .where(col(_M.conversation_id) == conversation_id),
        col(_M.id),
    )


def _tool_args(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _message_doc(m: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": m.id, "role": m.role, "channel": m.channel, "time": m.created_at,
                           "status": m.status, "content": m.content}
    if m.tool_name or m.tool_call_id:
        doc["tool_call"] = {"tool": m.tool_name, "call_id": m.tool_call_id,
                            "arguments": _tool_args(m.tool_args)}
    return doc


def _markdown_line(m: Any) -> str:
    when = m.created_at.strftime("%Y-%m-%d %H:%M UTC")
    who = {"user": "You", "assistant": "Agent", "tool": "Tool", "notice": "VOPIX"}.get(m.role, m.role)
    head = f"### {who} · {when} · {m.channel}"
    if m.status not in ("complete", ""):
        head += f" · {m.status}"
    body = m.content
    if m.role == "tool":
        args = m.tool_args or ""
        body = f"`{m.tool_name or 'tool'}` called with:\n\n```json\n{args}\n```\n\n" + (
            f"Result:\n\n```\n{m.content}\n```" if m.content else ""
        )
    return f"{head}\n\n{body}\n\n"


def write_conversations(w: ExportWriter) -> None:
    w.folder("conversations/")
    convs = keyset(
        select(Conversation.id, Conversation.title, Conversation.created_at, Conversation.updated_at)
        .where(col(Conversation.user_id) == w.user_id),
        col(Conversation.id),
    )
    for c in convs:
        base = f"conversations/{c.id}-{slug(c.title)}"
        # One pass over the messages: the JSON goes into the ZIP as they come, the Markdown
        # into a spool (memory up to SPOOL bytes, a temporary file beyond) copied in after.
        with tempfile.SpooledTemporaryFile(SPOOL, mode="w+", encoding="utf-8", newline="") as md:
            md.write(f"# {c.title}\n\nStarted {c.created_at:%Y-%m-%d %H:%M} UTC.\n\n")

            def docs(md: IO[str] = md, conversation_id: int = c.id) -> Iterator[dict[str, Any]]:
                for m in _messages(conversation_id):
                    md.write(_markdown_line(m))
                    yield _message_doc(m)

            w.write_json(f"{base}.json", {
                "id": c.id, "title": c.title, "created_at": c.created_at, "updated_at": c.updated_at,
                "messages": docs(),
            })  # fmt: skip
            md.seek(0)
            with w.text(f"{base}.md") as out:
                while piece := md.read(SPOOL // 4):
                    out.write(piece)
                    w.tick()


def write_workspace(w: ExportWriter) -> None:
    """Every folder and file at its path under workspace/, content copied chunk by chunk."""
    w.folder("workspace/")
    e = WorkspaceEntry
    rows = keyset(
        select(e.id, e.path, e.kind, e.size, e.is_text, e.blob_id, e.updated_at)
        .where(col(e.user_id) == w.user_id),
        col(e.id),
    )
    storage = get_storage()
    skipped: list[str] = []
    for r in rows:
        name = "workspace/" + r.path
        if r.kind == "folder":
            w.folder(name, r.updated_at)
            continue
        try:
            with w.open(name, compress=r.is_text, stamp=r.updated_at, size_hint=r.size) as out:
                if r.blob_id and r.size:
                    for chunk in storage.iter_chunks(w.user_id, r.blob_id, r.size):
                        out.write(chunk)
                        w.tick()
        except BlobMissing:  # replaced or deleted while the export ran: its member is cut short
            skipped.append(r.path)
    if skipped:
        w.write_text("workspace-changed-during-export.txt",
                     "These files changed or were deleted while the export was written; export "
                     "again for their current content:\n" + "\n".join(skipped) + "\n")

