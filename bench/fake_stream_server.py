"""An instant fake AI provider for benchmarks that holds hundreds of streams at once.

tests/fakes/ai_provider.py (http.server, one thread per connection) is right for tests, but at
100 concurrent streams its threads queue on one GIL and the fake, not VOPIX, sets the pace
(issue 15: direct p50 506 ms against 499 ms through VOPIX). This one is a single asyncio
loop per process, speaking just enough HTTP/1.1 (keep-alive, chunked SSE) for the OpenAI and
Anthropic streaming endpoints, with the byte format of the test fake (its event generators are
reused, so both fakes stream the same thing). Several processes can share one port
(SO_REUSEPORT: the kernel spreads connections between them).

    .venv/bin/python bench/fake_stream_server.py --port 8999 [--chunks 1] [--delay 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.ai_provider import Reply, _anthropic_events, _last_user_text, _openai_events

ROUTES = {"/v1/chat/completions": "openai", "/chat/completions": "openai", "/v1/messages": "anthropic"}
SSE_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n\r\n")


def _json_response(status: int, obj: dict) -> bytes:
    raw = json.dumps(obj).encode()
    reason = {200: "OK", 404: "Not Found", 400: "Bad Request"}.get(status, "Error")
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(raw)}\r\n\r\n").encode() + raw


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line.strip():
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        key, _, value = h.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, path.split("?")[0].rstrip("/"), headers, body


class FakeStreamServer:
    def __init__(self, chunks: int = 1, delay: float = 0.0) -> None:
        self.chunks, self.delay = chunks, delay

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while (request := await _read_request(reader)) is not None:
                method, path, headers, raw = request
                await self._answer(writer, method, path, raw)
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, method: str, path: str, raw: bytes) -> None:
        protocol = ROUTES.get(path) if method == "POST" else None
        if method == "GET" and path in ("/v1/models", "/models"):
            writer.write(_json_response(200, {"object": "list", "data": [{"id": "fake-model"}]}))
        elif protocol is None:
            writer.write(_json_response(404, {"error": {"message": f"no route {path}"}}))
        else:
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                writer.write(_json_response(400, {"error": {"message": "not JSON"}}))
                await writer.drain()
                return
            reply = Reply(f"echo: {_last_user_text(body)}", chunks=self.chunks, delay=self.delay)
            events = _openai_events if protocol == "openai" else _anthropic_events
            writer.write(SSE_HEAD)
            for data, delay in events(body, reply):
                if delay:
                    await writer.drain()
                    await asyncio.sleep(delay)
                chunk = data.encode()
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            writer.write(b"0\r\n\r\n")
        await writer.drain()


async def serve(host: str, port: int, chunks: int, delay: float) -> None:
    fake = FakeStreamServer(chunks, delay)
    server = await asyncio.start_server(fake.handle, host, port, reuse_port=True, backlog=1024)
    print(f"listening on http://{host}:{port}/v1", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8999)
    ap.add_argument("--chunks", type=int, default=1, help="stream the echo in N chunks")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between echo chunks")
    args = ap.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.chunks, args.delay))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
