"""The Gmail API of the fake Google (``/gmail/v1/users/me/...``): profile, messages.list/get,
threads.get, drafts.create, messages.send (JSON ``raw`` or ``/upload`` media). Scopes are
checked as Gmail does (``gmail.send`` alone cannot read; ``gmail.readonly`` cannot send)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from typing import Any

from tests.fakes._google_mail import (
    GmailError,
    StoredMessage,
    bad_request,
    google_error,
    internal_ms_of,
    matches,
    message_json,
    new_gmail_id,
    not_found,
    unb64url,
)
from tests.fakes._http import Request, Response

G = "https://www.googleapis.com/auth/"
FULL = "https://mail.google.com/"
READ = {FULL, G + "gmail.modify", G + "gmail.readonly"}
PROFILE = READ | {G + "gmail.compose", G + "gmail.metadata"}
SEND = {FULL, G + "gmail.modify", G + "gmail.compose", G + "gmail.send"}
DRAFT = {FULL, G + "gmail.modify", G + "gmail.compose"}
_USERS = re.compile(r"^(?:/upload)?/gmail/v1/users/([^/]+)(/.*)$")


@dataclass
class Account:
    email: str
    name: str
    messages: dict[str, StoredMessage] = field(default_factory=dict)  # insertion order
    history: int = 1000


@dataclass
class AccessToken:
    token: str
    email: str
    scopes: list[str]
    expires_at: float
    client_id: str
    refresh_token: str | None = None


def _subject_key(subject: str) -> str:
    return re.sub(r"^(?:\s*(?:re|fwd?|aw|wg)\s*:\s*)+", "", subject, flags=re.I).strip().lower()


class GmailAPI:
    """Mixin: accounts and their mailboxes, the Gmail handlers."""

    def _init_mail(self) -> None:
        self._lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.sent: list[dict[str, Any]] = []  # decoded messages sent through messages.send
        self.drafts: list[dict[str, Any]] = []  # decoded drafts created through drafts.create
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def _store(self, account: Account, raw: bytes, labels: list[str], thread_id: str | None,
               *, internal_ms: int | None = None) -> StoredMessage:
        account.history += 1
        message_id = new_gmail_id()
        msg = StoredMessage(message_id, thread_id or message_id, raw, labels,
                            internal_ms if internal_ms is not None else int(self.now() * 1000),
                            account.history)
        account.messages[message_id] = msg
        return msg

    # ------------------------------------------------------------------ dispatch

    def _gmail(self, request: Request, token: AccessToken) -> Response:
        match = _USERS.match(request.path)
        if match is None:
            raise not_found()
        user, rest = match.groups()
        account = self.accounts[token.email]
        if user not in ("me", account.email):
            raise GmailError(google_error(403, "PERMISSION_DENIED", f"Delegation denied for "
                                                                    f"{account.email}", "forbidden"))
        upload = request.path.startswith("/upload/")
        routes: list[tuple[str, str, set[str], Callable[..., Response]]] = [
            ("GET", r"/profile", PROFILE, self._profile),
            ("GET", r"/messages", READ, self._list_messages),
            ("POST", r"/messages/send", SEND, self._send),
            ("GET", r"/messages/([^/]+)", READ, self._get_message),
            ("GET", r"/threads/([^/]+)", READ, self._get_thread),
            ("POST", r"/drafts", DRAFT, self._create_draft),
        ]
        for method, pattern, scopes, handler in routes:
            found = re.fullmatch(pattern, rest)
            if found is None or method != request.method:
                continue
            if upload and handler not in (self._send, self._create_draft):
                break
            if not scopes & set(token.scopes):
                raise GmailError(google_error(
                    403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                    "insufficientPermissions", details=[{
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                        "metadata": {"service": "gmail.googleapis.com"}}]))
            return handler(account, request, *found.groups())
        raise not_found()

    # ------------------------------------------------------------------ reading

    def _profile(self, account: Account, request: Request) -> Response:
        threads = {m.thread_id for m in account.messages.values()}
        return Response(200, {"emailAddress": account.email,
                              "messagesTotal": len(account.messages),
                              "threadsTotal": len(threads), "historyId": str(account.history)})

    def _list_messages(self, account: Account, request: Request) -> Response:
        query = request.query
        try:
            size = max(1, min(int(query.get("maxResults") or 100), 500))
            start = int(query.get("pageToken") or 0)
        except ValueError:
            raise bad_request("Invalid pageToken") from None
        spam_trash = query.get("includeSpamTrash", "").lower() == "true"
        wanted = [x for x in (query.get("labelIds") or "").split(",") if x]
        rows = [m for m in account.messages.values()
                if (spam_trash or not {"SPAM", "TRASH"} & set(m.labels))
                and all(label in m.labels for label in wanted)
                and matches(m, query.get("q", ""))]
        rows.sort(key=lambda m: (m.internal_ms, m.history_id), reverse=True)
        page = rows[start:start + size]
        body: dict[str, Any] = {"resultSizeEstimate": len(rows)}
        if page:
            body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if start + size < len(rows):
            body["nextPageToken"] = str(start + size)
        return Response(200, body)

    def _find(self, account: Account, message_id: str) -> StoredMessage:
        if not re.fullmatch(r"[0-9a-fA-F]{1,24}", message_id):
            raise bad_request("Invalid id value")
        msg = account.messages.get(message_id)
        if msg is None:
            raise not_found()
        return msg

    def _get_message(self, account: Account, request: Request, message_id: str) -> Response:
        fmt = request.query.get("format", "full")
        if fmt not in ("full", "metadata", "minimal", "raw"):
            raise bad_request(f"Invalid value at 'format' ({fmt})")
        headers = [h for h in request.query.get("metadataHeaders", "").split(",") if h]
        return Response(200, message_json(self._find(account, message_id), fmt, headers))

    def _get_thread(self, account: Account, request: Request, thread_id: str) -> Response:
        fmt = request.query.get("format", "full")
        msgs = sorted((m for m in account.messages.values() if m.thread_id == thread_id),
                      key=lambda m: (m.internal_ms, m.history_id))
        if not msgs:
            raise not_found()
        return Response(200, {"id": thread_id, "historyId": str(max(m.history_id for m in msgs)),
                              "messages": [message_json(m, fmt) for m in msgs]})

    # ------------------------------------------------------------------ writing

    def _raw_of(self, request: Request, *, draft: bool) -> tuple[bytes, str | None]:
        if request.path.startswith("/upload/"):
            if request.query.get("uploadType") != "media":
                raise bad_request("Media type 'application/json' is not supported. Valid media "
                                  "types: [message/*]")
            return request.body, None
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise bad_request("Invalid JSON payload received.") from None
        holder = body.get("message") if draft else body
        if not isinstance(holder, dict) or not holder.get("raw"):
            raise bad_request("Missing draft message" if draft else "'raw' RFC822 payload message "
                              "string or uploading message via /upload/* URL required")
        try:
            raw = unb64url(str(holder["raw"]))
        except ValueError:
            raise bad_request("Invalid value for ByteString") from None
        return raw, holder.get("threadId")

    def _thread_for(self, account: Account, msg_raw: StoredMessage, thread_id: str | None
                    ) -> str | None:
        """Gmail's rule: join ``thread_id`` only if In-Reply-To/References name a message of
        that thread and the subjects match (ignoring Re:/Fwd:)."""
        if not thread_id:
            return None
        thread = [m for m in account.messages.values() if m.thread_id == thread_id]
        if not thread:
            raise not_found()
        refs = f"{msg_raw.header('In-Reply-To')} {msg_raw.header('References')}"
        subject = _subject_key(msg_raw.header("Subject"))
        if any(m.header("Message-ID") and m.header("Message-ID") in refs
               and _subject_key(m.header("Subject")) == subject for m in thread):
            return thread_id
        return None

    def _prepared(self, account: Account, raw: bytes) -> StoredMessage:
        probe = StoredMessage("0", "0", raw, [], 0, 0)
        name, addr = parseaddr(probe.header("From"))
        if addr.lower() != account.email.lower():  # Gmail sends as the account
            del probe.parsed["From"]
            probe.parsed["From"] = f"{name or account.name} <{account.email}>"
        if not probe.parsed.get("Message-ID"):
            probe.parsed["Message-ID"] = f"<{new_gmail_id()}@mail.gmail.com>"
        for name_ in ("To", "Cc", "Bcc"):
            value = probe.header(name_)
            if value and not all("@" in a for _, a in getaddresses([value])):
                raise bad_request(f"Invalid {name_} header")
        return StoredMessage("0", "0", probe.parsed.as_bytes(), [], 0, 0)

    def _send(self, account: Account, request: Request) -> Response:
        raw, thread_id = self._raw_of(request, draft=False)
        prepared = self._prepared(account, raw)
        if not any(prepared.header(h) for h in ("To", "Cc", "Bcc")):
            raise bad_request("Recipient address required")
        thread = self._thread_for(account, prepared, thread_id)
        msg = self._store(account, prepared.raw, ["SENT"], thread)
        self.sent.append(msg.decoded())
        return Response(200, {"id": msg.id, "threadId": msg.thread_id, "labelIds": ["SENT"]})

    def _create_draft(self, account: Account, request: Request) -> Response:
        raw, thread_id = self._raw_of(request, draft=True)
        prepared = self._prepared(account, raw)
        thread = self._thread_for(account, prepared, thread_id)
        msg = self._store(account, prepared.raw, ["DRAFT"], thread,
                          internal_ms=internal_ms_of(prepared.raw, int(self.now() * 1000)))
        draft_id = "r" + str(abs(hash(msg.id)) % 10**19)
        self.drafts.append({"draft_id": draft_id, **msg.decoded()})
        return Response(200, {"id": draft_id, "message": {"id": msg.id, "threadId": msg.thread_id,
                                                          "labelIds": ["DRAFT"]}})
