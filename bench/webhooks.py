"""Webhook ingest benchmark: Telegram updates acknowledged per second, and ack latency.

One server process (granian, like `reflex run --env prod`) serves, in the same run and over
the same database:
  * ours: POST /api/telegram/webhook as deployed (access-log middleware, secret check, JSON
    and python-telegram-bot validation, keyed sender hash, one INSERT ... ON CONFLICT);
  * ours-nolog: the same route without the access-log middleware (shows what the access
    log, P09, costs: its once-a-second batch INSERT is most of ours' latency tail on SQLite);
  * bare: a bare Starlette endpoint that parses the JSON and does the same single INSERT.
and for Stripe (bench/_stripe_load.py):
  * stripe: POST /api/stripe/webhook as deployed (signature verified over the raw body, event id
    deduped, the customer's subscription re-read from a loopback Stripe answering in 20 ms, the
    plan derived and stored, the event id stored);
  * bare-stripe: a bare endpoint that parses the JSON and does the same event-id INSERT.
The client (another process) sends real-shaped updates and signed events: first closed-loop at
full speed (throughput), then open-loop at a fixed rate (latency). Targets: ours >= 0.7x bare
throughput, p99 < 50 ms at 200 updates/s; stripe >= 0.5x bare-stripe, p99 < 100 ms at 50 events/s.

    .venv/bin/python bench/webhooks.py [--seconds 5] [--rate 200] [--stripe-rate 50]
                                       [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _scratch import fresh_database  # noqa: E402  (bench/ is the script's own folder)
from _stripe_load import StripeLoad, bare_stripe_insert, settle_latencies  # noqa: E402

SECRET = "bench-webhook-secret"
TOKEN = "123456789:AAbenchTokenNotUsedForSending_abcdef"


# --------------------------------------------------------------------------- server side


def _bare_insert(update_id: int, raw: bytes) -> None:
    from vopix.core.clock import utcnow
    from vopix.db import get_engine
    from vopix.models import InboundEvent

    table = InboundEvent.__table__  # type: ignore[attr-defined]
    with get_engine().begin() as conn:
        conn.execute(
            table.insert().values(
                channel="bare", external_id=str(update_id), payload=raw.decode(), status="pending",
                stage="received", attempts=0, worker="", sender_hash="", outcome="", received_at=utcnow(),
            )
        )


def build_app() -> Any:
    """The ASGI app granian serves (no worker: only the acknowledgement path is measured)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from vopix.api.app import build_api
    from vopix.api.middleware import AccessLogMiddleware
    from vopix.core import access_log

    async def bare(request: Request) -> Response:
        raw = await request.body()
        update_id = json.loads(raw)["update_id"]
        await asyncio.to_thread(_bare_insert, update_id, raw)
        return Response(status_code=200)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> Any:
        from vopix.core.billing import worker as billing_worker

        tasks = [asyncio.create_task(access_log.writer.run()), asyncio.create_task(billing_worker.run())]
        yield
        for task in tasks:
            task.cancel()

    async def bare_stripe(request: Request) -> Response:
        event = json.loads(await request.body())
        customer = event["data"]["object"]["customer"]
        await asyncio.to_thread(bare_stripe_insert, event["id"], event["type"], customer)
        return Response(status_code=200)

    bare_app = Starlette(
        routes=[Route("/bare", bare, methods=["POST"]), Route("/bare-stripe", bare_stripe, methods=["POST"])],
        lifespan=lifespan,
    )
    ours_app = AccessLogMiddleware(build_api())
    ours_unlogged = build_api()

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        """Each endpoint behind exactly one Starlette router, as in production."""
        path = scope.get("path", "")
        if scope["type"] == "lifespan" or path in ("/bare", "/bare-stripe"):
            await bare_app(scope, receive, send)
        elif path.startswith("/unlogged/"):
            inner = path.removeprefix("/unlogged")
            await ours_unlogged({**scope, "path": inner, "raw_path": inner.encode()}, receive, send)
        else:
            await ours_app(scope, receive, send)

    return dispatch


if os.environ.get("VOPIX_BENCH_SERVER") == "1":
    app = build_app()


# --------------------------------------------------------------------------- client side


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


_ids = itertools.count(int(time.time()) * 1000)


def _update() -> bytes:
    from tests.fakes.telegram_updates import make_text_update

    update_id = next(_ids)
    chat = 100_000 + update_id % 1000
    return json.dumps(make_text_update(update_id, chat, f"message number {update_id}, hello there")).encode()


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost far less CPU than
    the server it measures (httpx costs about as much per request as the endpoint)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: str) -> int:
        reused = self.writer is not None
        try:
            return await self._post(path, body, headers)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            if not reused:
                raise
            # The server closed this idle keep-alive connection meanwhile: once more on a new one.
            self.writer = None
            return await self._post(path, body, headers)

    async def _post(self, path: str, body: bytes, headers: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"{headers}Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if length:
            await self.reader.readexactly(length)
        return status


class Pool:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[Connection] = []

    async def post(self, path: str, body: bytes, headers: str) -> int:
        conn = self.idle.pop() if self.idle else Connection(self.host, self.port)
        status = await conn.post(path, body, headers)
        self.idle.append(conn)
        return status


TELEGRAM_HEADERS = f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"


def telegram_request() -> tuple[bytes, str]:
    return _update(), TELEGRAM_HEADERS


async def _post(client: Pool, path: str, make: Any) -> tuple[bool, float]:
    body, headers = make()
    start = time.perf_counter()
    status = await client.post(path, body, headers)
    return status == 200, time.perf_counter() - start


async def throughput(
    client: Any, path: str, seconds: float, concurrency: int, make: Any
) -> tuple[float, int]:
    done, errors = 0, 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal done, errors
        while time.perf_counter() < deadline:
            ok, _ = await _post(client, path, make)
            done, errors = done + ok, errors + (not ok)

    start = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return done / (time.perf_counter() - start), errors


async def fixed_rate(
    client: Any, path: str, seconds: float, rate: int, make: Any
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()

    async def one() -> None:
        nonlocal errors
        ok, took = await _post(client, path, make)
        latencies.append(took)
        errors += not ok

    tasks = []
    for i in range(int(seconds * rate)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return latencies, errors, len(latencies) / (time.perf_counter() - start)


async def client_main(
    port: int, seconds: float, rate: int, stripe_rate: int, concurrency: int, stripe: StripeLoad
) -> dict[str, Any]:
    client = Pool("127.0.0.1", port)
    endpoints = (  # name, path, request maker, open-loop rate
        ("bare", "/bare", telegram_request, rate),
        ("ours", "/api/telegram/webhook", telegram_request, rate),
        ("ours-nolog", "/unlogged/api/telegram/webhook", telegram_request, rate),
        ("bare-stripe", "/bare-stripe", stripe.request, stripe_rate),
        ("stripe", "/api/stripe/webhook", stripe.request, stripe_rate),
    )
    for _, path, make, _ in endpoints:  # warm up each
        await throughput(client, path, 1.0, concurrency, make)
    results: dict[str, Any] = {
        name: {"tput": [], "lat": [], "sent": [], "errors": 0, "rate": r} for name, _, _, r in endpoints
    }
    for _ in range(2):  # interleaved rounds, so the machine's noise hits all alike
        for name, path, make, _ in endpoints:
            tput, errors = await throughput(client, path, seconds, concurrency, make)
            results[name]["tput"].append(tput)
            results[name]["errors"] += errors
        for name, path, make, at in endpoints:
            latencies, errors, achieved = await fixed_rate(client, path, seconds, at, make)
            results[name]["lat"].extend(latencies)
            results[name]["sent"].append(achieved)
            results[name]["errors"] += errors
    for conn in client.idle:
        if conn.writer is not None:
            conn.writer.close()
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    ap.add_argument("--rate", type=int, default=200, help="updates per second in the latency run")
    ap.add_argument("--stripe-rate", type=int, default=50, help="Stripe events per second in the latency run")
    ap.add_argument("--stripe-latency", type=float, default=0.02, help="seconds the fake Stripe API takes")
    ap.add_argument("--concurrency", type=int, default=32, help="clients in the throughput run")
    ap.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vopix-bench-"))
    env = {
        **os.environ,
        "VOPIX_DATA_DIR": str(tmp),
        "VOPIX_DATABASE_URL": fresh_database(args.database_url) or f"sqlite:///{tmp / 'bench.db'}",
        "VOPIX_VAULT_KEY": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "VOPIX_TELEGRAM_BOT_TOKEN": TOKEN,
        "VOPIX_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "VOPIX_RUN_SCHEDULER": "0",
    }
    os.environ.update(env)
    from vopix import db
    from vopix.settings import reload_settings

    stripe = StripeLoad(latency=args.stripe_latency).start()
    env.update(stripe.settings())
    os.environ.update(env)
    reload_settings()
    db.migrate()
    dialect = db.get_engine().dialect.name
    stripe.make_customers(50)  # subscribed people whose events the load sends
    db.dispose_engines()

    port = free_port()
    server = subprocess.Popen(
        [str(REPO / ".venv/bin/granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--no-ws", "--log-level", "warning", "webhooks:app"],
        cwd=REPO / "bench", env={**env, "VOPIX_BENCH_SERVER": "1", "PYTHONPATH": str(REPO)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        results = asyncio.run(
            client_main(port, args.seconds, args.rate, args.stripe_rate, args.concurrency, stripe)
        )
        for _ in range(120):  # let the billing worker finish what the load left waiting
            settled, waiting = settle_latencies()
            if not waiting:
                break
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=10)
        stripe.stop()

    def tput(name: str) -> float:
        return sum(results[name]["tput"]) / len(results[name]["tput"])

    print(f"\nwebhook ingest, database: {dialect}, {os.cpu_count()} CPUs, client and server on this machine;"
          f" the Stripe API answers in {args.stripe_latency * 1000:.0f} ms")
    print(f"{'endpoint':<12}{'req/s':>8} | open loop at:{'rate':>6}{'sent/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'max ms':>8} | {'errors':>6}")
    for name in ("bare", "ours", "ours-nolog", "bare-stripe", "stripe"):
        r = results[name]
        lat, sent = r["lat"], sum(r["sent"]) / len(r["sent"])
        print(f"{name:<12}{tput(name):>8.0f} | {'':>13}{r['rate']:>6}{sent:>8.0f}{pct(lat, 50) * 1000:>8.1f}"
              f"{pct(lat, 99) * 1000:>8.1f}{max(lat) * 1000:>8.1f} | {r['errors']:>6}")
    checks = []
    for ours, bare, floor, limit in (("ours", "bare", 0.7, 50), ("stripe", "bare-stripe", 0.5, 100)):
        ratio = tput(ours) / tput(bare) if tput(bare) else 0.0
        p99 = pct(results[ours]["lat"], 99) * 1000
        rate = results[ours]["rate"]
        print(f"{ours} / {bare} throughput: {ratio:.2f} (target >= {floor:.2f})   "
              f"{ours} p99 at {rate}/s: {p99:.1f} ms (target < {limit})")
        checks.append(ratio >= floor and p99 < limit)
    print(f"billing worker: {len(settled)} events settled, stored -> plan applied p50 "
          f"{pct(settled, 50) * 1000:.0f} ms, p99 {pct(settled, 99) * 1000:.0f} ms (bursts above the "
          f"worker's pace wait in the queue; {waiting} still waiting at the end)")
    if not all(checks):
        print("target missed (figures depend on what else runs on this machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
