"""Mailboxes of the fake Gmail: messages stored as RFC 822 bytes, rendered in the Gmail API's
shapes (``payload`` with headers and base64url-encoded parts, ``snippet``, ``raw``), and the
subset of Gmail's search syntax the fake understands."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from html import escape
from typing import Any

from tests.fakes._http import Response

SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding (Gmail accepts both)."""
    text = text.strip().replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def google_error(code: int, status: str, message: str, reason: str,
                 headers: dict[str, str] | None = None, **extra: Any) -> Response:
    error: dict[str, Any] = {"code": code, "message": message,
                             "errors": [{"message": message, "domain": "global", "reason": reason}],
                             "status": status, **extra}
    return Response(code, {"error": error}, headers=headers or {})


class GmailError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.body)
        self.response = response


def bad_request(message: str, reason: str = "invalidArgument") -> GmailError:
    return GmailError(google_error(400, "INVALID_ARGUMENT", message, reason))


def not_found() -> GmailError:
    return GmailError(google_error(404, "NOT_FOUND", "Requested entity was not found.", "notFound"))


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    labels: list[str]
    internal_ms: int
    history_id: int
    parsed: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        self.parsed = parsed

    def header(self, name: str) -> str:
        return str(self.parsed.get(name, ""))

    def text(self) -> str:
        part = self.parsed.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str | None:
        part = self.parsed.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None

    def snippet(self) -> str:
        source = self.text() or re.sub(r"<[^>]+>", " ", self.html() or "")
        return escape(" ".join(source.split())[:200])

    def decoded(self) -> dict[str, Any]:
        """What a test reads about a sent or drafted message."""
        return {"id": self.id, "thread_id": self.thread_id, "from": self.header("From"),
                "to": self.header("To"), "cc": self.header("Cc"), "bcc": self.header("Bcc"),
                "subject": self.header("Subject"), "in_reply_to": self.header("In-Reply-To"),
                "references": self.header("References"), "message_id": self.header("Message-ID"),
                "text": self.text(), "html": self.html(), "labels": list(self.labels),
                "raw": self.raw}


def build_raw(sender: str, to: str, subject: str, body: str, *, html: str | None = None,
              cc: str | None = None, date: datetime | None = None, message_id: str | None = None,
              in_reply_to: str | None = None, references: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2].strip("> ")
                                                 or "example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes(policy=policy.SMTP)


def new_gmail_id() -> str:
    return f"{secrets.randbits(60) | (1 << 60):x}"


def _payload(part: Message, part_id: str) -> dict[str, Any]:
    headers = [{"name": k, "value": str(v)} for k, v in part.items()]
    data: dict[str, Any] = {"partId": part_id, "mimeType": part.get_content_type(),
                            "filename": part.get_filename() or "", "headers": headers}
    if part.is_multipart():
        children = part.get_payload()
        assert isinstance(children, list)
        data["body"] = {"size": 0}
        data["parts"] = [_payload(child, f"{part_id}.{i}" if part_id else str(i))
                         for i, child in enumerate(children)]
    else:
        content = part.get_payload(decode=True) or b""
        assert isinstance(content, bytes)
        data["body"] = {"size": len(content), "data": b64url(content)}
    return data


def message_json(msg: StoredMessage, fmt: str = "full",
                 metadata_headers: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": msg.id, "threadId": msg.thread_id, "labelIds": list(msg.labels)}
    if fmt == "minimal":
        data.update(sizeEstimate=len(msg.raw), historyId=str(msg.history_id))
        return data
    data["snippet"] = msg.snippet()
    if fmt == "raw":
        data.update(sizeEstimate=len(msg.raw), historyId=str(msg.history_id),
                    internalDate=str(msg.internal_ms), raw=b64url(msg.raw))
        return data
    payload = _payload(msg.parsed, "")
    if fmt == "metadata":
        wanted = {h.lower() for h in metadata_headers or []}
        payload = {"partId": "", "mimeType": payload["mimeType"], "filename": "",
                   "headers": [h for h in payload["headers"]
                               if not wanted or h["name"].lower() in wanted]}
    data.update(payload=payload, sizeEstimate=len(msg.raw), historyId=str(msg.history_id),
                internalDate=str(msg.internal_ms))
    return data


def _addresses(value: str) -> str:
    return " ".join(f"{name} {addr}" for name, addr in getaddresses([value])).lower()


def _date_ms(value: str) -> int:
    try:
        day = datetime.strptime(value.replace("-", "/"), "%Y/%m/%d").replace(tzinfo=UTC)
    except ValueError:
        raise bad_request("Invalid query") from None
    return int(day.timestamp() * 1000)


def matches(msg: StoredMessage, q: str) -> bool:
    """Gmail search, the part the fake knows: words and "phrases" (subject, body, addresses),
    from: to: cc: subject: label: in: is:(unread|read|starred) after: before:, -negation."""
    for term in re.findall(r'-?(?:[a-zA-Z]+:)?"[^"]*"|\S+', q):
        negate = term.startswith("-") and len(term) > 1
        term = term[1:] if negate else term
        key, sep, value = term.partition(":")
        if term.startswith('"') or not sep:
            key, value = "", term.strip('"').lower()
        else:
            key, value = key.lower(), value.strip('"').lower()
        labels = {label.lower() for label in msg.labels}
        if key == "from":
            ok = value in _addresses(msg.header("From"))
        elif key in ("to", "cc"):
            ok = value in _addresses(msg.header(key.capitalize()))
        elif key == "subject":
            ok = value in msg.header("Subject").lower()
        elif key in ("label", "in"):
            ok = value == "anywhere" or value in labels
        elif key == "is":
            ok = {"unread": "unread" in labels, "read": "unread" not in labels,
                  "starred": "starred" in labels, "important": "important" in labels
                  }.get(value, False)
        elif key in ("after", "before"):
            ms = _date_ms(value)
            ok = msg.internal_ms >= ms if key == "after" else msg.internal_ms < ms
        else:
            haystack = " ".join([msg.header("Subject"), msg.text(), _addresses(msg.header("From")),
                                 _addresses(msg.header("To"))]).lower()
            ok = (value if not key else term.lower()) in haystack
        if ok == negate:
            return False
    return True


def internal_ms_of(raw: bytes, fallback_ms: int) -> int:
    parsed = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    try:
        return int(parsedate_to_datetime(str(parsed["Date"])).timestamp() * 1000)
    except (TypeError, ValueError):
        return fallback_ms
