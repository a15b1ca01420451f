"""Loopback fake AI provider speaking OpenAI Chat Completions and Anthropic Messages.

    with FakeAIProvider() as fake:
        fake.script(Reply("Hello there", chunks=3, delay=0.01), HttpError(429, retry_after=2))
        ... point a provider at fake.openai_base_url or fake.anthropic_base_url ...
        fake.requests[0].body["messages"]

Each request pops the next scripted item; with nothing scripted the reply echoes the
last user message ("echo: <text>"). Standalone: `python -m tests.fakes.ai_provider --port 8999`.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """A streamed reply: text split into `chunks` pieces, `delay` seconds apart, then tools."""

    text: str = ""
    chunks: int = 1
    delay: float = 0.0
    tool_calls: list[tuple[str, dict]] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None


def tool_call(name: str, args: dict, text: str = "", **kw: Any) -> Reply:
    """A reply that asks for one tool call (arguments streamed in fragments)."""
    return Reply(text=text, tool_calls=[(name, args)], **kw)


@dataclass
class HttpError:
    status: int
    retry_after: float | str | None = None
    message: str = "scripted error"


@dataclass
class Malformed:
    """200 event stream whose data is not JSON (after optional valid text)."""

    after_text: str = ""


@dataclass
class Drop:
    """Stream `after_text` then cut the connection mid-body."""

    after_text: str = "partial"


@dataclass
class StreamError:
    """Stream `after_text` then a protocol error event (e.g. Anthropic overloaded_error)."""

    after_text: str = ""
    kind: str = "overloaded_error"
    message: str = "Overloaded"
    code: int = 529


@dataclass
class Hang:
    """Never answer (or answer headers then stall) for `seconds`, or until the fake closes."""

    seconds: float | None = None
    after_headers: bool = False


Script = Reply | HttpError | Malformed | Drop | StreamError | Hang


@dataclass
class RecordedRequest:
    protocol: str  # "openai" | "anthropic"
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict
    peer: tuple[str, int] = ("", 0)  # the client's address: one per TCP connection


def _split(text: str, n: int) -> list[str]:
    n = max(1, min(n, len(text) or 1))
    size = -(-len(text) // n) if text else 0
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []


def _last_user_text(body: dict) -> str:
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if b.get("type") == "text"]
        results = [b.get("content", "") for b in content or [] if b.get("type") == "tool_result"]
        return str((texts or results or [""])[-1])
    return ""


_ANTHROPIC_ERRORS = {
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Like real API servers: no Nagle delay on a kept-alive connection's small writes.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            super().log_message(format, *args)

    # ------------------------------------------------------------------ plumbing
    def _json(self, status: int, obj: dict, extra: dict[str, str] | None = None) -> None:
        raw = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, data: str) -> None:
        raw = data.encode()
        self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _error_body(self, protocol: str, status: int, message: str) -> dict:
        if protocol == "anthropic":
            fallback = "api_error" if status >= 500 else "invalid_request_error"
            etype = _ANTHROPIC_ERRORS.get(status, fallback)
            return {"type": "error", "error": {"type": etype, "message": message}}
        return {"error": {"message": message, "type": "error", "code": status}}

    # ------------------------------------------------------------------ routes
    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        fake = self.server.fake
        path = self.path.split("?")[0].rstrip("/")
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        protocol = {
            "/v1/chat/completions": "openai",
            "/chat/completions": "openai",
            "/v1/messages": "anthropic",
        }.get(path)
        if protocol is None:
            self._json(404, {"error": {"message": f"no route {path}"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake.requests.append(RecordedRequest(protocol, path, headers, body, self.client_address[:2]))
        if fake.require_key is not None:
            if protocol == "openai":
                auth = headers.get("authorization", "")
                given = auth[7:] if auth.startswith("Bearer ") else auth
            else:
                given = headers.get("x-api-key", "")
            if given != fake.require_key:
                # Like some real services, echo the key back: clients must redact it.
                msg = f"Incorrect API key provided: {given}"
                self._json(401, self._error_body(protocol, 401, msg))
                return
        item = fake.next_item(protocol, body)
        try:
            self._serve(protocol, body, item)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _serve(self, protocol: str, body: dict, item: Script) -> None:
        stream_fn = _openai_events if protocol == "openai" else _anthropic_events
        if isinstance(item, HttpError):
            extra = {} if item.retry_after is None else {"retry-after": str(item.retry_after)}
            self._json(item.status, self._error_body(protocol, item.status, item.message), extra)
        elif isinstance(item, Hang):
            if item.after_headers:
                self._start_sse()
            self.server.fake.stopping.wait(item.seconds)
            self.close_connection = True
        elif isinstance(item, Reply):
            self._start_sse()
            for data, delay in stream_fn(body, item):
                if delay:
                    time.sleep(delay)
                self._chunk(data)
            self._end()
        else:
            self._start_sse()
            partial = Reply(text=getattr(item, "after_text", ""))
            for data, _ in stream_fn(body, partial, partial=True):
                self._chunk(data)
            if isinstance(item, Malformed):
                self._chunk('data: {"this is": not json\n\n')
                self._end()
            elif isinstance(item, StreamError):
                err = self._error_body(protocol, item.code, item.message)
                if protocol == "anthropic":
                    err["error"]["type"] = item.kind
                    self._chunk(f"event: error\ndata: {json.dumps(err)}\n\n")
                else:
                    self._chunk(f"data: {json.dumps(err)}\n\n")
                self._end()
            else:  # Drop: no terminating chunk, just close
                self.close_connection = True


Event = tuple[str, float]  # (raw SSE text, delay before sending it)


def _usage(body: dict, item: Reply) -> tuple[int, int]:
    words_in = len(json.dumps(body.get("messages", [])).split())
    words_out = len(item.text.split()) + 5 * len(item.tool_calls)
    return (
        item.input_tokens if item.input_tokens is not None else words_in,
        item.output_tokens if item.output_tokens is not None else words_out,
    )


def _openai_events(body: dict, item: Reply, partial: bool = False) -> Iterator[Event]:
    cid, model = f"chatcmpl-{uuid.uuid4().hex[:12]}", body.get("model", "fake-model")

    def chunk(delta: dict, finish: str | None = None) -> str:
        obj = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(obj)}\n\n"

    yield chunk({"role": "assistant", "content": ""}), 0.0
    for piece in _split(item.text, item.chunks):
        yield chunk({"content": piece}), item.delay
    if partial:
        return
    for i, (name, args) in enumerate(item.tool_calls):
        fn = {"name": name, "arguments": ""}
        start = {
            "index": i,
            "id": f"call_{uuid.uuid4().hex[:8]}",
            "type": "function",
            "function": fn,
        }
        yield chunk({"tool_calls": [start]}), item.delay
        for frag in _split(json.dumps(args), 3):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": frag}}]}), 0.0
    yield chunk({}, "tool_calls" if item.tool_calls else "stop"), 0.0
    if (body.get("stream_options") or {}).get("include_usage"):
        n_in, n_out = _usage(body, item)
        usage = {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out}
        obj = {"id": cid, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        yield f"data: {json.dumps(obj)}\n\n", 0.0
    yield "data: [DONE]\n\n", 0.0


def _anthropic_events(body: dict, item: Reply, partial: bool = False) -> Iterator[Event]:
    def ev(name: str, obj: dict) -> str:
        return f"event: {name}\ndata: {json.dumps({'type': name, **obj})}\n\n"

    n_in, n_out = _usage(body, item)
    message = {
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": body.get("model", "fake-model"),
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": n_in, "output_tokens": 1},
    }
    yield ev("message_start", {"message": message}), 0.0
    if partial and not item.text:
        return
    idx = 0
    if item.text:
        text_block = {"type": "text", "text": ""}
        yield ev("content_block_start", {"index": 0, "content_block": text_block}), 0.0
        yield ev("ping", {}), 0.0
        for piece in _split(item.text, item.chunks):
            delta = {"type": "text_delta", "text": piece}
            yield ev("content_block_delta", {"index": 0, "delta": delta}), item.delay
        if partial:
            return
        yield ev("content_block_stop", {"index": 0}), 0.0
        idx = 1
    for name, args in item.tool_calls:
        tid = f"toolu_{uuid.uuid4().hex[:12]}"
        block = {"type": "tool_use", "id": tid, "name": name, "input": {}}
        yield ev("content_block_start", {"index": idx, "content_block": block}), item.delay
        for frag in _split(json.dumps(args), 3):
            delta = {"type": "input_json_delta", "partial_json": frag}
            yield ev("content_block_delta", {"index": idx, "delta": delta}), 0.0
        yield ev("content_block_stop", {"index": idx}), 0.0
        idx += 1
    stop = "tool_use" if item.tool_calls else "end_turn"
    end: dict[str, Any] = {"stop_reason": stop, "stop_sequence": None}
    yield ev("message_delta", {"delta": end, "usage": {"output_tokens": n_out}}), 0.0
    yield ev("message_stop", {}), 0.0


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # concurrent benchmark clients must not be refused
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeAIProvider

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up: fine
            super().handle_error(request, client_address)


class FakeAIProvider:
    """Real HTTP server on 127.0.0.1 in a background thread; see the module docstring."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", verbose: bool = False):
        self.requests: list[RecordedRequest] = []
        self.require_key: str | None = None
        self.verbose = verbose
        self.echo_chunks, self.echo_delay = 1, 0.0  # how the default echo reply streams
        self.stopping = threading.Event()
        self._queue: deque[Script] = deque()
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None
        self.host, self.port = str(self._server.server_address[0]), self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def base_url(self, kind: str) -> str:
        """Base URL for a provider kind: "openai" or "anthropic"."""
        return self.openai_base_url if kind == "openai" else self.anthropic_base_url

    def script(self, *items: Script | list[Script]) -> FakeAIProvider:
        """Queue responses, consumed one per request, in order."""
        with self._lock:
            for it in items:
                self._queue.extend(it if isinstance(it, list) else [it])
        return self

    @property
    def pending(self) -> int:
        return len(self._queue)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
        self.requests.clear()
        self.require_key = None
        self.echo_chunks, self.echo_delay = 1, 0.0

    def next_item(self, protocol: str, body: dict) -> Script:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        text = f"echo: {_last_user_text(body)}"
        return Reply(text, chunks=self.echo_chunks, delay=self.echo_delay)

    def start(self) -> FakeAIProvider:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeAIProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_fixture(name: str = "fake_ai", scope: str = "function") -> Callable[..., Any]:
    """Build a pytest fixture: `fake_ai = make_fixture()` at module level of a test file."""
    import pytest

    @pytest.fixture(name=name, scope=scope)  # type: ignore[call-overload]
    def _fixture() -> Iterator[FakeAIProvider]:
        with FakeAIProvider() as fake:
            yield fake

    return _fixture


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Fake OpenAI/Anthropic streaming server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8999)
    ap.add_argument("--require-key", default=None, help="reject requests without this key")
    ap.add_argument("--chunks", type=int, default=1, help="stream the echo in N chunks")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between echo chunks")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    fake = FakeAIProvider(args.port, args.host, args.verbose)
    fake.require_key = args.require_key
    fake.echo_chunks, fake.echo_delay = args.chunks, args.delay
    print(
        f"openai base:    {fake.openai_base_url}\nanthropic base: {fake.anthropic_base_url}",
        flush=True,
    )
    try:
        fake._server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stopping.set()
        fake._server.server_close()


if __name__ == "__main__":
    main()
