"""Tiny threaded loopback HTTP server shared by the fake external APIs."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, Any]:
        """Form fields (urlencoded or multipart); uploaded files become metadata dicts."""
        if self.content_type == "application/x-www-form-urlencoded":
            parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
            return {k: v[-1] for k, v in parsed.items()}
        if self.content_type == "multipart/form-data":
            head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
            msg = BytesParser().parsebytes(head + self.body)
            fields: dict[str, Any] = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                if not isinstance(name, str):
                    continue
                filename = part.get_filename()
                if filename is not None:
                    fields[name] = {"filename": filename, "size": len(payload)}
                else:
                    fields[name] = payload.decode("utf-8")
            return fields
        return {}


@dataclass
class Response:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body).encode("utf-8")


class LoopbackServer:
    """Serve ``handle(Request) -> Response`` on 127.0.0.1:<random port> in a thread.

    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                request = Request(self.command, unquote(split.path), query, self.headers, body)
                try:
                    response = owner.handle(request)
                except Exception as exc:  # surface fake bugs as 500s, not hangs
                    response = Response(500, {"fake_error": repr(exc)})
                payload = response.encode()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (e.g. a cancelled long poll)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.closing = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.closing.set()
        self.on_stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def on_stop(self) -> None:
        """Hook to wake blocked handlers (long polls) before shutdown."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
