"""Chat turn benchmark: the platform's own time per turn and its first-token delay.

An instant fake provider answers every request. For 1, 10 and 100 concurrent conversations we
time (a) the provider spoken to directly and (b) a full agent turn through the runtime (save
the message, quotas, prompt, history, stream, usage, persist). Overhead = (b) - (a).

The fake is bench/fake_stream_server.py (asyncio, `--fake-processes` of them on one port), so at
100 concurrent streams the provider does not set the pace (the threaded test fake did: issue 15).
Beside wall time it prints CPU ms per turn: this process's CPU (VOPIX's work, its threads
included) and the fake's, so a saturated side shows. At 100 concurrent the wall-time overhead
is mostly queueing for this one process's CPU; CPU ms per turn is the cost that scales.

    .venv/bin/python bench/chat_turn.py [--turns 200] [--database-url postgresql://...]
                                        [--fake asyncio|threaded] [--fake-processes 1]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _scratch import fresh_database

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of other processes (the fake's), from /proc."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Run:
    totals: list[float] = field(default_factory=list)  # send -> last byte, per turn
    firsts: list[float] = field(default_factory=list)  # send -> first text
    wall: float = 0.0
    cpu: float = 0.0  # this process (all its threads)
    fake_cpu: float = 0.0  # the fake provider's processes


async def _measured(one: Callable[[int, Run], Awaitable[None]], n: int, concurrency: int,
                    fake_pids: list[int]) -> Run:
    """`concurrency` untimed turns first, all at once, so the connection pool holds as many
    connections as the timed run uses (a new loop starts with an empty pool, and opening 100
    connections is not what a turn costs); then n timed turns, `concurrency` at a time."""
    await asyncio.gather(*(one(-1 - i, Run()) for i in range(concurrency)))
    run, sem = Run(), asyncio.Semaphore(concurrency)

    async def limited(i: int) -> None:
        async with sem:
            await one(i, run)

    cpu0, fake0, wall0 = time.process_time(), cpu_seconds(fake_pids), time.perf_counter()
    await asyncio.gather(*(limited(i) for i in range(n)))
    run.cpu, run.fake_cpu = time.process_time() - cpu0, cpu_seconds(fake_pids) - fake0
    run.wall = time.perf_counter() - wall0
    return run


async def raw_direct(port: int, n: int, concurrency: int, fake_pids: list[int]) -> Run:
    """The provider spoken to directly by a minimal keep-alive HTTP/1.1 client on raw asyncio
    streams (a fraction of a millisecond of CPU per request), so the baseline is the provider's
    own time even at 100 streams. httpx in one process is not such a baseline: at 100
    concurrent requests its pool costs ~10 ms of CPU per request (see `direct`)."""
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def one(i: int, run: Run) -> None:
        reader, writer = idle.pop() if idle else await asyncio.open_connection("127.0.0.1", port)
        body = json.dumps({"model": "bench-model", "stream": True, "stream_options": {"include_usage": True},
                           "messages": [{"role": "user", "content": f"hello {i}"}]}).encode()
        start = time.perf_counter()
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nhost: fake\r\ncontent-type: application/json\r\n"
                     b"authorization: Bearer sk-bench\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        first = None
        await reader.readuntil(b"\r\n\r\n")  # status line and headers
        while size := int((await reader.readline()).strip(), 16):
            chunk = await reader.readexactly(size + 2)
            if first is None and b'"content": "' in chunk and b'"content": ""' not in chunk:
                first = time.perf_counter() - start
        await reader.readline()  # the CRLF after the last chunk
        run.totals.append(time.perf_counter() - start)
        run.firsts.append(first or 0.0)
        idle.append((reader, writer))

    run = await _measured(one, n, concurrency, fake_pids)
    for _, writer in idle:
        writer.close()
    return run


async def direct(base_url: str, n: int, concurrency: int, fake_pids: list[int]) -> Run:
    import httpx

    from vopix.core.providers import ChatMessage, ProviderConfig, TextDelta, make_provider

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200)) as client:
        provider = make_provider(ProviderConfig("openai", base_url, "sk-bench", "bench-model"), client)

        async def one(i: int, run: Run) -> None:
            start = time.perf_counter()
            first = None
            async for ev in provider.stream([ChatMessage("user", f"hello {i}")], []):
                if isinstance(ev, TextDelta) and first is None:
                    first = time.perf_counter() - start
            run.totals.append(time.perf_counter() - start)
            run.firsts.append(first or 0.0)

        return await _measured(one, n, concurrency, fake_pids)


async def platform(users: list[int], n: int, concurrency: int, fake_pids: list[int]) -> Run:
    from vopix.core.agent import history, runtime

    convs = [history.create_conversation(users[i % len(users)]).id for i in range(concurrency)]

    async def one(i: int, run: Run) -> None:
        slot = i % concurrency
        user = users[slot % len(users)]
        start = time.perf_counter()
        first = None
        async for ev in runtime.run_turn(user, f"hello {i}", conversation_id=convs[slot]):
            if ev.kind == "text" and first is None:
                first = time.perf_counter() - start
            if ev.kind == "error":
                raise RuntimeError(ev.text)
        run.totals.append(time.perf_counter() - start)
        run.firsts.append(first or 0.0)

    return await _measured(one, n, concurrency, fake_pids)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200, help="turns per concurrency level")
    ap.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    ap.add_argument("--fake", choices=("asyncio", "threaded"), default="asyncio",
                    help="asyncio: bench/fake_stream_server.py; threaded: tests/fakes/ai_provider.py")
    ap.add_argument("--fake-processes", type=int, default=1, help="asyncio fakes sharing the port")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vopix-bench-"))
    os.environ.update(
        {
            "VOPIX_DATA_DIR": str(tmp),
            "VOPIX_BCRYPT_ROUNDS": "4",
            "VOPIX_RUN_SCHEDULER": "0",
            "VOPIX_VAULT_KEY": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )
    if args.database_url:
        os.environ["VOPIX_DATABASE_URL"] = fresh_database(args.database_url)
    from vopix import db
    from vopix.core import accounts
    from vopix.core.agent import profile
    from vopix.models import Plan

    db.migrate()
    with db.session_scope() as s:  # the bench is not about quotas
        for plan in s.exec(__import__("sqlmodel").select(Plan)).all():
            plan.messages_per_month = plan.api_calls_per_month = 10**9
            s.add(plan)
    # The provider runs in its own process, as a real one would: it must not share our GIL.
    port = _free_port()
    repo = Path(__file__).resolve().parent.parent
    if args.fake == "threaded":
        commands = [[sys.executable, "-m", "tests.fakes.ai_provider", "--port", str(port)]]
    else:
        one = [sys.executable, "bench/fake_stream_server.py", "--port", str(port)]
        commands = [one] * args.fake_processes
    fakes = []
    for command in commands:
        fakes.append(subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, text=True))
        fakes[-1].stdout.readline()  # it prints once it listens: each binds before the next
    _wait_for(port)
    fake_pids = [f.pid for f in fakes]
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        users = []
        for i in range(20):
            u = accounts.sign_up(
                f"bench{i}-{secrets.token_hex(3)}@example.com", "bench-password-1", age_confirmed=True
            )
            profile.update_provider(
                u.id, kind="openai", model="bench-model", base_url=base_url, api_key="sk-bench-key-000000"
            )
            users.append(u.id)
        asyncio.run(direct(base_url, 20, 5, fake_pids))  # warm up
        fake_name = "threaded" if args.fake == "threaded" else f"asyncio x{args.fake_processes}"
        print(f"database: {db.get_engine().dialect.name}; fake provider: {fake_name}; "
              f"{args.turns} turns per level; times in ms")
        print(
            f"{'concurrent':>10} | {'direct p50':>10} {'p99':>7} | {'turn p50':>9} {'p99':>7} | "
            f"{'overhead p50':>12} {'p99':>7} | {'1st tok direct':>14} {'1st tok turn':>12} {'delta p50':>9}"
        )
        for c in (1, 10, 100):
            d = asyncio.run(raw_direct(port, args.turns, c, fake_pids))
            h = asyncio.run(direct(base_url, args.turns, c, fake_pids))  # httpx, VOPIX's client
            p = asyncio.run(platform(users, args.turns, c, fake_pids))
            ms = 1000
            print(
                f"{c:>10} | {pct(d.totals, 50) * ms:>10.1f} {pct(d.totals, 99) * ms:>7.1f} | "
                f"{pct(p.totals, 50) * ms:>9.1f} {pct(p.totals, 99) * ms:>7.1f} | "
                f"{(pct(p.totals, 50) - pct(d.totals, 50)) * ms:>12.1f} "
                f"{(pct(p.totals, 99) - pct(d.totals, 99)) * ms:>7.1f} | "
                f"{statistics.median(d.firsts) * ms:>14.1f} {statistics.median(p.firsts) * ms:>12.1f} "
                f"{(statistics.median(p.firsts) - statistics.median(d.firsts)) * ms:>9.1f}"
            )
            per_turn = ms / args.turns
            print(
                f"{'':>10}   platform {args.turns / p.wall:.0f} turns/s ({p.wall * per_turn:.1f} ms wall "
                f"per turn); CPU ms per turn: VOPIX {p.cpu * per_turn:.2f} (beside it: an httpx client "
                f"alone {h.cpu * per_turn:.2f}, the raw baseline client {d.cpu * per_turn:.2f}), "
                f"fake {p.fake_cpu * per_turn:.2f}; fake busy {p.fake_cpu / p.wall * 100:.0f}% of a core "
                f"({d.fake_cpu / d.wall * 100:.0f}% in the baseline)"
            )
    finally:
        for fake in fakes:
            fake.terminate()
    print("targets: overhead p50 < 20 ms per turn; first token within 50 ms of the provider's")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int) -> None:
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the fake provider did not start")


if __name__ == "__main__":
    main()
