"""Chat turn benchmark: the platform's own time per turn and its first-token delay.

An instant fake provider answers every request. For 1, 10 and 100 concurrent conversations we
time (a) the provider spoken to directly and (b) a full agent turn through the runtime (save
the message, quotas, prompt, history, stream, usage, persist). Overhead = (b) - (a).

    .venv/bin/python bench/chat_turn.py [--turns 200] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _scratch import fresh_database


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def direct(base_url: str, n: int, concurrency: int) -> tuple[list[float], list[float]]:
    import httpx

    from vopix.core.providers import ChatMessage, ProviderConfig, TextDelta, make_provider

    totals, firsts = [], []
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200)) as client:
        provider = make_provider(ProviderConfig("openai", base_url, "sk-bench", "bench-model"), client)

        async def one(i: int) -> None:
            async with sem:
                start = time.perf_counter()
                first = None
                async for ev in provider.stream([ChatMessage("user", f"hello {i}")], []):
                    if isinstance(ev, TextDelta) and first is None:
                        first = time.perf_counter() - start
                totals.append(time.perf_counter() - start)
                firsts.append(first or 0.0)

        await asyncio.gather(*(one(i) for i in range(n)))
    return totals, firsts


async def platform(users: list[int], n: int, concurrency: int) -> tuple[list[float], list[float]]:
    from vopix.core.agent import history, runtime

    totals, firsts = [], []
    sem = asyncio.Semaphore(concurrency)
    convs = [history.create_conversation(users[i % len(users)]).id for i in range(concurrency)]

    async def one(i: int) -> None:
        async with sem:
            slot = i % concurrency
            user = users[slot % len(users)]
            start = time.perf_counter()
            first = None
            async for ev in runtime.run_turn(user, f"hello {i}", conversation_id=convs[slot]):
                if ev.kind == "text" and first is None:
                    first = time.perf_counter() - start
                if ev.kind == "error":
                    raise RuntimeError(ev.text)
            totals.append(time.perf_counter() - start)
            firsts.append(first or 0.0)

    await asyncio.gather(*(one(i) for i in range(n)))
    return totals, firsts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200, help="turns per concurrency level")
    ap.add_argument("--database-url", default="", help="default: a fresh SQLite file")
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
    fake_proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.ai_provider", "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    _wait_for(port)
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
        asyncio.run(direct(base_url, 20, 5))  # warm up
        print(f"database: {db.get_engine().dialect.name}; {args.turns} turns per level; times in ms")
        print(
            f"{'concurrent':>10} | {'direct p50':>10} {'p99':>7} | {'turn p50':>9} {'p99':>7} | "
            f"{'overhead p50':>12} {'p99':>7} | {'1st tok direct':>14} {'1st tok turn':>12} {'delta p50':>9}"
        )
        for c in (1, 10, 100):
            d_tot, d_first = asyncio.run(direct(base_url, args.turns, c))
            started = time.perf_counter()
            p_tot, p_first = asyncio.run(platform(users, args.turns, c))
            sum_wall = [time.perf_counter() - started]
            ms = 1000
            print(
                f"{c:>10} | {pct(d_tot, 50) * ms:>10.1f} {pct(d_tot, 99) * ms:>7.1f} | "
                f"{pct(p_tot, 50) * ms:>9.1f} {pct(p_tot, 99) * ms:>7.1f} | "
                f"{(pct(p_tot, 50) - pct(d_tot, 50)) * ms:>12.1f} "
                f"{(pct(p_tot, 99) - pct(d_tot, 99)) * ms:>7.1f} | "
                f"{statistics.median(d_first) * ms:>14.1f} {statistics.median(p_first) * ms:>12.1f} "
                f"{(statistics.median(p_first) - statistics.median(d_first)) * ms:>9.1f}"
            )
            print(
                f"{'':>10}   platform throughput {args.turns / sum_wall[0]:.0f} turns/s "
                f"({sum_wall[0] / args.turns * 1000:.1f} ms of wall time per turn)"
            )
    finally:
        fake_proc.terminate()
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
