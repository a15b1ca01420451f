"""The agent's Gmail tools: search, read a message or a thread, draft a reply, send (after the
person confirms). Offered only while Gmail is connected; every call is logged in words."""

from __future__ import annotations

from typing import Any

from vopix.core.agent.tools import ToolFailed, register_tool
from vopix.core.integrations.acting import acting_tool
from vopix.core.integrations.gmail_api import call, headers_of, raw_message, text_of

SERVICE = "google"
SEARCH_MAX = 10
BODY_MAX = 6000


def _id(args: dict[str, Any], key: str) -> str:
    value = str(args.get(key, "")).strip()
    if not value or not value.replace("-", "").replace("_", "").isalnum() or len(value) > 64:
        raise ToolFailed(f"give the {key.replace('_', ' ')} as Gmail gives it")
    return value


def _trim(text: str) -> str:
    if len(text) <= BODY_MAX:
        return text
    return text[:BODY_MAX] + f"\n[… {len(text) - BODY_MAX} more characters]"


def _summary(m: dict[str, Any]) -> str:
    h = headers_of(m.get("payload", {}))
    return (f"id {m.get('id')} (thread {m.get('threadId')}): {h.get('date', '')} from {h.get('from', '?')}: "
            f"{h.get('subject', '(no subject)')}")


async def gmail_search(token: str, args: dict[str, Any]) -> tuple[str, str]:
    query = str(args.get("query", "")).strip()[:256]
    if not query:
        raise ToolFailed("give what to search for, in Gmail's search syntax")
    found = await call(token, "GET", "/messages", params={"q": query, "maxResults": SEARCH_MAX})
    lines = []
    for ref in (found or {}).get("messages", [])[:SEARCH_MAX]:
        # format=metadata without metadataHeaders: every header (a short list per message)
        m = await call(token, "GET", f"/messages/{ref['id']}", params={"format": "metadata"})
        lines.append(f"{_summary(m)} — {m.get('snippet', '')}")
    return ("\n".join(lines) or "No mail matches."), f"read {len(lines)} messages matching '{query}'"


async def gmail_read(token: str, args: dict[str, Any]) -> tuple[str, str]:
    m = await call(token, "GET", f"/messages/{_id(args, 'message_id')}", params={"format": "full"})
    h = headers_of(m.get("payload", {}))
    text = f"{_summary(m)}\nTo: {h.get('to', '')}\n\n{_trim(text_of(m.get('payload', {})))}"
    return text, f"read a message from {h.get('from', '?')}: “{h.get('subject', '')}”"


async def gmail_read_thread(token: str, args: dict[str, Any]) -> tuple[str, str]:
    thread = await call(token, "GET", f"/threads/{_id(args, 'thread_id')}", params={"format": "full"})
    messages = thread.get("messages", [])
    parts = [f"{_summary(m)}\n{_trim(text_of(m.get('payload', {})))}" for m in messages]
    subject = headers_of(messages[0].get("payload", {})).get("subject", "") if messages else ""
    return "\n\n---\n\n".join(parts) or "The thread is empty.", f"read a thread of {len(parts)}: “{subject}”"


async def _reply_parts(token: str, message_id: str) -> tuple[str, str, str, str, str]:
    """(to, subject, Message-ID, References, thread id) of a reply to that message."""
    m = await call(token, "GET", f"/messages/{message_id}", params={"format": "metadata"})
    h = headers_of(m.get("payload", {}))
    subject = h.get("subject", "")
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    return (h.get("reply-to") or h.get("from", ""), subject, h.get("message-id", ""), h.get("references", ""),
            str(m.get("threadId", "")))


async def gmail_draft_reply(token: str, args: dict[str, Any]) -> tuple[str, str]:
    body = str(args.get("body", "")).strip()
    if not body:
        raise ToolFailed("the reply is empty")
    to, subject, message_id, references, thread = await _reply_parts(token, _id(args, "message_id"))
    raw = raw_message(to=to, subject=subject, body=body, in_reply_to=message_id, references=references)
    draft = await call(token, "POST", "/drafts", json={"message": {"raw": raw, "threadId": thread}})
    return f"Drafted a reply to {to} (draft {draft.get('id')}); it is in Gmail's drafts, not sent.", \
        f"drafted a reply to {to}: “{subject}”"


async def gmail_send(token: str, args: dict[str, Any]) -> tuple[str, str]:
    body = str(args.get("body", "")).strip()
    if not body:
        raise ToolFailed("the mail is empty")
    thread = ""
    if args.get("reply_to_message_id"):
        replying_to = _id(args, "reply_to_message_id")
        to, subject, message_id, references, thread = await _reply_parts(token, replying_to)
        raw = raw_message(to=to, subject=subject, body=body, in_reply_to=message_id, references=references)
    else:
        to, subject = str(args.get("to", "")).strip(), str(args.get("subject", "")).strip()
        if "@" not in to or any(c in to for c in "\r\n"):
            raise ToolFailed("give the address to send to")
        raw = raw_message(to=to, subject=subject, body=body)
    payload = {"raw": raw, **({"threadId": thread} if thread else {})}
    sent = await call(token, "POST", "/messages/send", json=payload)
    return f"Sent to {to} (message {sent.get('id')}).", f"sent mail to {to}: “{subject}”"


def _a(args: dict[str, Any], key: str) -> str:
    return str(args.get(key, "") or "?")


DESCRIBE = {
    "gmail_search": lambda a: f"search your mail for '{_a(a, 'query')}'",
    "gmail_read": lambda a: f"read message {_a(a, 'message_id')}",
    "gmail_read_thread": lambda a: f"read thread {_a(a, 'thread_id')}",
    "gmail_draft_reply": lambda a: f"draft a reply to message {_a(a, 'message_id')}",
    "gmail_send": lambda a: (
        f"send a reply to message {_a(a, 'reply_to_message_id')}" if a.get("reply_to_message_id")
        else f"send mail to {_a(a, 'to')}: “{_a(a, 'subject')}”"
    ),
}
_S = {"type": "string"}

TOOLS = [
    acting_tool(SERVICE, gmail_search, DESCRIBE, "Search the person's Gmail (Gmail search syntax, e.g. "
                "'invoice newer_than:30d').",
                {"type": "object", "properties": {"query": _S}, "required": ["query"]}),
    acting_tool(SERVICE, gmail_read, DESCRIBE, "Read one Gmail message by its id.",
                {"type": "object", "properties": {"message_id": _S}, "required": ["message_id"]}),
    acting_tool(SERVICE, gmail_read_thread, DESCRIBE, "Read a whole Gmail thread by its id.",
                {"type": "object", "properties": {"thread_id": _S}, "required": ["thread_id"]}),
    acting_tool(SERVICE, gmail_draft_reply, DESCRIBE, "Draft a reply to a message (saved in Gmail's drafts, "
                "not sent).", {"type": "object", "properties": {"message_id": _S, "body": _S},
                               "required": ["message_id", "body"]}),
    acting_tool(SERVICE, gmail_send, DESCRIBE, "Send a mail (or a reply to a message) from the person's "
                "Gmail. The person must confirm.", {"type": "object", "properties": {
                    "to": _S, "subject": _S, "body": _S, "reply_to_message_id": _S}, "required": ["body"]},
                confirm=True),
]  # fmt: skip


def install() -> None:
    for tool in TOOLS:
        register_tool(tool)
