"""One simulated browser tab on /chat for bench/load.py: a Socket.IO client speaking the
page's event protocol (hydrate_and_load, the on_load events handed back, ChatState.send).

The page has no timers since the live notices (vopix/core/live.py): an open tab sends nothing
until its person does, so the client sends nothing either; the server's session watcher and
live follower run on their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from typing import Any

CHAT = "reflex___state____state.vopix___state___session____session_state.vopix___state___chat____chat_state"
HYDRATE = "reflex___state____state.hydrate_and_load"
NS = "/_event"  # Reflex's Socket.IO namespace (the page connects to <backend>/_event)
DEBUG = os.environ.get("VOPIX_LOAD_DEBUG") == "1"
ROUTER = {"pathname": "/chat", "asPath": "/chat"}


class Tab:
    """One browser tab on /chat: a Socket.IO 5 client (Engine.IO 4 over a websocket) on raw
    asyncio streams and wsproto, speaking the messages the page's state.js sends. (The venv has
    python-socketio's server but not its async client's aiohttp; a hand-rolled client is also
    far cheaper per message, which matters when 200 of them share a core with the server.)"""

    def __init__(self, port: int, cookie: str, origin: str) -> None:
        self.port, self.cookie, self.origin = port, cookie, origin
        self.token = str(uuid.uuid4())
        self.chat: dict[str, Any] = {}
        self.changed = asyncio.Event()
        self.loaded = asyncio.Event()
        self.connected = asyncio.Event()
        self.closed = False
        self._reader_task: asyncio.Task | None = None

    async def open(self) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import Request

        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.writer.write(self.ws.send(Request(
            host=f"127.0.0.1:{self.port}",
            target=f"/_event/?EIO=4&transport=websocket&token={self.token}",
            extra_headers=[(b"cookie", self.cookie.encode()), (b"origin", self.origin.encode())],
        )))
        self._reader_task = asyncio.create_task(self._read())
        await asyncio.wait_for(self.connected.wait(), 60)
        await self.emit(HYDRATE, {})
        await asyncio.wait_for(self.loaded.wait(), 60)

    def _send(self, text: str) -> None:
        from wsproto.events import TextMessage

        self.writer.write(self.ws.send(TextMessage(data=text)))

    async def _read(self) -> None:
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Ping,
            RejectConnection,
            TextMessage,
        )

        parts: list[str] = []
        try:
            while data := await self.reader.read(1 << 16):
                self.ws.receive_data(data)
                for ev in self.ws.events():
                    if isinstance(ev, AcceptConnection):
                        pass
                    elif isinstance(ev, RejectConnection):
                        raise ConnectionError(f"websocket refused: {ev.status_code}")
                    elif isinstance(ev, Ping):
                        self.writer.write(self.ws.send(ev.response()))
                    elif isinstance(ev, CloseConnection):
                        return
                    elif isinstance(ev, TextMessage):
                        parts.append(ev.data)
                        if ev.message_finished:
                            await self._packet("".join(parts))
                            parts = []
        finally:
            self.closed = True
            self.changed.set()

    async def _packet(self, packet: str) -> None:
        if DEBUG:
            print(f"<- {packet[:400]}", flush=True)
        if packet.startswith("0"):  # Engine.IO open: join the default Socket.IO namespace
            self._send(f"40{NS},")
        elif packet == "2":  # Engine.IO ping
            self._send("3")
        elif packet.startswith(f"40{NS},"):
            self.connected.set()
        elif packet.startswith(f"42{NS},"):
            name, *args = json.loads(packet[len(NS) + 3:])
            if name == "event" and args:
                await self._on_update(args[0])
        elif packet.startswith(f"44{NS},"):
            raise ConnectionError(f"Socket.IO connect refused: {packet[2:200]}")

    async def _on_update(self, update: dict) -> None:
        for name, delta in (update.get("delta") or {}).items():
            if name == CHAT:
                self.chat.update(delta)
        for event in update.get("events") or []:
            name = event.get("name", "")
            if name == "_call_script":  # ChatState.load ends with its refresh script
                self.loaded.set()
            elif not name.startswith("_"):  # on_load events come back to be sent
                await self.emit(name, event.get("payload") or {})
        self.changed.set()

    async def emit(self, name: str, payload: dict) -> None:
        event = {"name": name, "payload": payload, "router_data": dict(ROUTER)}
        self._send(f"42{NS}," + json.dumps(["event", event]))

    def var(self, name: str) -> Any:
        return self.chat.get(f"{name}_rx_state_")

    async def turn(self, text: str, timeout: float = 180) -> float:
        """Send one message; the seconds until the reply shows complete."""
        start = time.perf_counter()
        self.changed.clear()
        await self.emit(f"{CHAT}.send", {"form": {"message": text}})
        deadline = start + timeout
        while True:
            rows = self.var("messages") or []
            last = rows[-1] if rows else {}
            if (
                self.var("streaming") is False
                and last.get("role") == "assistant"
                and last.get("content") == f"echo: {text}"
                and last.get("status") == "complete"
            ):
                return time.perf_counter() - start
            if last.get("role") == "notice":
                raise RuntimeError(f"notice: {last.get('content')}")
            if self.closed:
                raise RuntimeError("the socket closed")
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no complete reply within {timeout:.0f} s (last row {last})")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                pass

    async def close(self) -> None:
        from wsproto.events import CloseConnection

        if not hasattr(self, "writer"):
            return
        try:
            self._send(f"41{NS},")
            self.writer.write(self.ws.send(CloseConnection(code=1000)))
            await self.writer.drain()
        except Exception:
            pass
        self.writer.close()
        if self._reader_task:
            self._reader_task.cancel()
