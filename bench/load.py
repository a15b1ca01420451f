"""Load benchmark: simulated people on the real socket protocol, at 1x1, 1x2 and 2x2 (instances x workers).

Each simulated person logs in through the API's login route (a one-time nonce traded at POST
/api/auth/session for the session cookie, as the login page does) and opens /chat over a
Socket.IO connection to Reflex's /_event endpoint with that cookie and a tab token
(bench/_reflex_tab.py: hydrate_and_load, the on_load events handed back, then ChatState.send).
Replies come from the instant fake provider (bench/fake_stream_server.py). People arrive 20 at a
time; every tab stays open for the whole run. A turn's time is send -> the delta that shows the
assistant row complete with the echoed text. Meanwhile a Telegram webhook stream (secret
header) goes to /api/telegram/webhook.

Two profiles:

* conversations (the target run, the default): every tab converses as a person does. They
  start at a moment drawn uniformly over the first --ramp seconds (people do not all press
  Send in the same second), then loop for --duration seconds: send, wait for the whole reply,
  think, send the next. The think time (reading the reply, typing the next message) is
  --think-min plus a negative exponential of mean --think-mean - --think-min, truncated at
  --think-max: by default 2 s + Exp(13 s) up to 120 s, mean 15 s, median ~11 s, 5 % under 3 s
  and 5 % over 40 s. Why this law: typing a short chat message (30-100 characters at the
  ~40 words a minute of an average typist, ~3 characters a second) takes 10-30 s, reading a
  short reply a few seconds, and some people pause far longer, which an exponential's long tail
  gives; a floor of 2 s is the fastest anyone reads and answers. The negative exponential is
  also what TPC-C prescribes for its terminals' think times (truncated at 10x its mean), for
  the same reason: independent people make arrivals close to Poisson, neither synchronised
  nor evenly spaced. 200 such people offer ~200 / (15 s + reply time) ~ 13 turns/s.
* --burst (a capacity figure, not the target): every tab sends --turns messages back to back
  at the same instant, no think time; turns/s is then the saturation throughput, and the
  times are queueing.

Every topology is started by scripts/cluster.sh (nginx in front, deploy/serve.py instances, a
copy of the frontend already built in .web: the socket clients do not load it, and others
rebuild .web at any time), even 1x1 is behind nginx, on a PostgreSQL database of
its own (vopix_bench_<pid>, dropped at exit) and Redis db 14 (flushed before and after). Redis
bytes per open tab are the MEMORY USAGE of every key while all tabs are open, over the tabs.
Idle tabs' CPU is the servers' CPU over 30 s with every tab open and none sending.

    .venv/bin/python bench/load.py [--quick] [--conversations 200] [--duration 120] [--ramp 30]
                                   [--think-mean 15] [--burst --turns 2]
                                   [--topologies 1x1,1x2,2x2] [--webhook-rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from _reflex_tab import Tab  # noqa: E402
from _scratch import fresh_database  # noqa: E402
from chat_turn import _free_port, _wait_for, cpu_seconds  # noqa: E402
from webhooks import (  # noqa: E402
    SECRET,
    Pool,
    pct,
    telegram_request,
)

IDLE_S = 30.0  # idle tabs measured this long: the session watcher's fallback check is every 30 s
ARRIVING = 20


@dataclass
class Result:
    label: str
    turns: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    webhooks_ok: int = 0
    webhook_errors: int = 0
    webhook_wall: float = 0.0
    redis_bytes: int = 0
    redis_keys: int = 0
    tabs: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    load: str = ""
    redis_commands: int = 0
    idle_cpu: float = 0.0  # share of a core the server used with every tab open and idle


def make_people(n: int, fake_url: str) -> list[int]:
    """n accounts with the fake as their provider and no quota in the way."""
    import sqlmodel

    from vopix import db
    from vopix.core import accounts
    from vopix.core.agent import profile
    from vopix.models import Plan

    db.migrate()
    with db.session_scope() as s:  # the bench is not about quotas
        for plan in s.exec(sqlmodel.select(Plan)).all():
            plan.messages_per_month = plan.api_calls_per_month = 10**9
            s.add(plan)
    people = []
    for i in range(n):
        u = accounts.sign_up(f"load{i}-{secrets.token_hex(3)}@example.com", "bench-password-1",
                             age_confirmed=True)
        profile.update_provider(u.id, kind="openai", model="bench-model", base_url=fake_url,
                                api_key="sk-bench-key-000000")
        people.append(u.id)
    return people


async def log_in(client: Any, base: str, origin: str, user_id: int) -> str:
    """The login page's last step: the nonce from the password check, traded for the cookie."""
    from vopix.core import accounts
    from vopix.core.sessions import COOKIE_NAME

    nonce = await asyncio.to_thread(accounts.issue_login_nonce, user_id)
    r = await client.post(f"{base}/api/auth/session", json={"nonce": nonce}, headers={"Origin": origin})
    r.raise_for_status()
    return f"{COOKIE_NAME}={r.cookies[COOKIE_NAME]}"


async def limited(sem: asyncio.Semaphore, job: Any) -> Any:
    async with sem:
        return await job


async def webhook_stream(port: int, rate: float, stop: asyncio.Event, result: Result) -> None:
    pool, inflight = Pool("127.0.0.1", port), set()

    async def one() -> None:
        body, headers = telegram_request()
        try:
            ok = await pool.post("/api/telegram/webhook", body, headers) == 200
        except (OSError, asyncio.IncompleteReadError):
            ok = False
        if ok:
            result.webhooks_ok += 1
        else:
            result.webhook_errors += 1

    start = time.perf_counter()
    sent = 0
    while not stop.is_set():
        due = start + sent / rate
        if (wait := due - time.perf_counter()) > 0:
            try:
                await asyncio.wait_for(stop.wait(), wait)
                break
            except TimeoutError:
                pass
        task = asyncio.create_task(one())
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        sent += 1
    result.webhook_wall = time.perf_counter() - start
    await asyncio.gather(*inflight)


def redis_commands(url: str) -> int:
    """Commands the Redis server has processed (all databases: others' runs may add some)."""
    import redis

    return int(redis.Redis.from_url(url).info("stats")["total_commands_processed"])


def redis_usage(url: str) -> tuple[int, int]:
    import redis

    r = redis.Redis.from_url(url)
    keys = list(r.scan_iter(count=1000))
    return sum(r.memory_usage(k) or 0 for k in keys), len(keys)


@dataclass(frozen=True)
class Profile:
    """What each tab does: a conversation (think times) or a burst (back to back)."""

    burst: bool = False
    turns: int = 2  # burst: messages per tab
    duration: float = 120.0  # conversations: seconds each person converses after starting
    ramp: float = 30.0  # conversations: starts spread uniformly over this many seconds
    think_min: float = 2.0
    think_mean: float = 15.0
    think_max: float = 120.0

    def think(self, rng: random.Random) -> float:
        """Seconds a person takes to read a reply and type the next message (see the docstring)."""
        return min(self.think_max, self.think_min + rng.expovariate(1 / (self.think_mean - self.think_min)))


async def person(i: int, tab: Tab, profile: Profile, result: Result) -> None:
    rng = random.Random(i)  # the same people think the same way in every topology
    if profile.burst:
        for n in range(profile.turns):
            try:
                result.turns.append(await tab.turn(f"hello {i}.{n}"))
            except (RuntimeError, TimeoutError) as exc:
                result.errors.append(f"turn: {exc}")
                return
        return
    await asyncio.sleep(rng.uniform(0, profile.ramp))
    end, n = time.perf_counter() + profile.duration, 0
    while time.perf_counter() < end:
        try:
            result.turns.append(await tab.turn(f"hello {i}.{n}"))
        except (RuntimeError, TimeoutError) as exc:
            result.errors.append(f"turn: {exc}")
            return
        n += 1
        await asyncio.sleep(profile.think(rng))


async def run_load(label: str, port: int, origin: str, people: list[int], profile: Profile,
                   webhook_rate: float, redis_url: str, server_pids: list[int], idle_s: float) -> Result:
    base = f"http://127.0.0.1:{port}"
    result = Result(label)
    import httpx

    # People arrive ARRIVING at a time (200 logins in one instant only measure the listen backlog).
    sem = asyncio.Semaphore(ARRIVING)
    async with httpx.AsyncClient(timeout=60) as client:
        cookies = await asyncio.gather(*(limited(sem, log_in(client, base, origin, u)) for u in people))
    tabs = [Tab(port, c, origin) for c in cookies]
    opened = await asyncio.gather(*(limited(sem, t.open()) for t in tabs), return_exceptions=True)
    live = []
    for tab, outcome in zip(tabs, opened, strict=True):
        if isinstance(outcome, BaseException):
            result.errors.append(f"open: {outcome!r}")
            await tab.close()
        else:
            live.append(tab)
    stop = asyncio.Event()
    idle0 = cpu_seconds(server_pids)
    await asyncio.sleep(idle_s)  # the open tabs alone: pings, session watchers
    result.idle_cpu = (cpu_seconds(server_pids) - idle0) / idle_s

    hooks = asyncio.create_task(webhook_stream(port, webhook_rate, stop, result)) if webhook_rate else None
    commands0 = await asyncio.to_thread(redis_commands, redis_url)
    cpu0, client0, wall0 = cpu_seconds(server_pids), time.process_time(), time.perf_counter()
    await asyncio.gather(*(person(i, tab, profile, result) for i, tab in enumerate(live)))
    result.wall = time.perf_counter() - wall0
    result.server_cpu = cpu_seconds(server_pids) - cpu0
    result.client_cpu = time.process_time() - client0
    result.redis_commands = await asyncio.to_thread(redis_commands, redis_url) - commands0
    stop.set()
    if hooks:
        await hooks
    result.load = f"{os.getloadavg()[0]:.1f}"
    result.tabs = len(live)
    result.redis_bytes, result.redis_keys = await asyncio.to_thread(redis_usage, redis_url)
    await asyncio.gather(*(t.close() for t in live), return_exceptions=True)
    return result


def free_ports(n: int) -> int:
    """A port p with p..p+n-1 all free: the balancer on p, instance k on p+k (cluster.sh)."""
    for _ in range(100):
        base = 20000 + secrets.randbelow(30000)
        try:
            for port in range(base, base + n):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports")


def group_pids(pgids: list[int]) -> list[int]:
    """Every process in these process groups (Granian's supervisor and its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in pgids:
                pids.append(int(entry.name))
    return pids


def start_cluster(
    instances: int, workers: int, port: int, env: dict[str, str], run: Path
) -> subprocess.Popen:
    run.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["bash", "scripts/cluster.sh"], cwd=REPO, start_new_session=True,
        env={**env, "PORT": str(port), "VOPIX_INSTANCES": str(instances), "VOPIX_WORKERS": str(workers),
             "VOPIX_CLUSTER_RUN": str(run), "VOPIX_CLUSTER_SKIP_BUILD": "1",
             "VOPIX_PUBLIC_URL": f"http://127.0.0.1:{port}"},
        stdout=open(run / "cluster.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    deadline = time.monotonic() + 240
    while not (run / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_cluster(proc, run)
            raise RuntimeError(f"the cluster did not start:\n{(run / 'cluster.log').read_text()[-3000:]}")
        time.sleep(0.5)
    return proc


def stop_cluster(proc: subprocess.Popen, run: Path) -> None:
    """cluster.sh stops its instances on SIGTERM; an instance that outlives it (seen once, after
    a failed run) is stopped by its own process group, killed after 15 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    groups = [int(f.read_text()) for f in run.glob("*.pgid") if f.read_text().strip().isdigit()]
    deadline = time.monotonic() + 15
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pgid in groups:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
        while sig == signal.SIGTERM and group_pids(groups) and time.monotonic() < deadline:
            time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 conversations for 20 s, 1x1 and 2x2")
    ap.add_argument("--conversations", type=int, default=200, help="open tabs, one person each")
    ap.add_argument("--burst", action="store_true",
                    help="capacity: every tab sends --turns messages back to back at once, no think time")
    ap.add_argument("--turns", type=int, default=2, help="--burst: messages each tab sends")
    ap.add_argument("--duration", type=float, default=120, help="seconds each person converses")
    ap.add_argument("--ramp", type=float, default=30, help="people start over this many seconds")
    ap.add_argument("--think-mean", type=float, default=15, help="mean think time, seconds")
    ap.add_argument("--think-min", type=float, default=2, help="shortest think time, seconds")
    ap.add_argument("--think-max", type=float, default=120, help="longest think time, seconds")
    ap.add_argument("--idle", type=float, default=IDLE_S, help="seconds idle tabs' CPU is measured")
    ap.add_argument("--topologies", default="1x1,1x2,2x2", help="instances x workers, comma-separated")
    ap.add_argument("--webhook-rate", type=float, default=50, help="Telegram updates per second (0: none)")
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--port", type=int, default=0, help="the load balancer's port (default: a free one)")
    args = ap.parse_args()
    if args.quick:
        args.conversations, args.duration, args.ramp, args.idle, args.topologies = 20, 20, 5, 5, "1x1,2x2"
    profile = Profile(burst=args.burst, turns=args.turns, duration=args.duration, ramp=args.ramp,
                      think_min=args.think_min, think_mean=args.think_mean, think_max=args.think_max)
    tmp = Path(tempfile.mkdtemp(prefix="vopix-load-"))
    env = {
        **os.environ,
        "VOPIX_DATA_DIR": str(tmp / "data"),
        "VOPIX_BCRYPT_ROUNDS": "4",
        "VOPIX_VAULT_KEY": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "VOPIX_DATABASE_URL": fresh_database(args.database_url),
        "VOPIX_REDIS_URL": args.redis_url,
        "VOPIX_TELEGRAM_BOT_TOKEN": "123456789:AAbenchTokenNotUsedForSending_abcdef",
        "VOPIX_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "VOPIX_TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",  # replies go nowhere: acks are measured
    }
    # A snapshot of the built frontend: others rebuild .web at any time (cluster tests do), and
    # serve.py refuses to start while build/client is missing.
    if not (REPO / ".web" / "build" / "client").is_dir():
        raise SystemExit("no built frontend in .web/build/client: run `make cluster` once first")
    shutil.copytree(REPO / ".web", tmp / "web", ignore=shutil.ignore_patterns("node_modules"), symlinks=True)
    env["REFLEX_WEB_WORKDIR"] = str(tmp / "web")
    os.environ.update(env)
    import redis

    flush = redis.Redis.from_url(args.redis_url).flushdb
    fake_port = _free_port()
    fake = subprocess.Popen([sys.executable, "bench/fake_stream_server.py", "--port", str(fake_port)],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    results: list[Result] = []
    try:
        fake.stdout.readline()  # type: ignore[union-attr]
        _wait_for(fake_port)
        people = make_people(args.conversations, f"http://127.0.0.1:{fake_port}/v1")
        for topology in args.topologies.split(","):
            instances, workers = (int(x) for x in topology.split("x"))
            port = args.port or free_ports(instances + 1)
            flush()
            run = tmp / f"cluster-{topology}"
            print(f"== {topology}: starting {instances} instance(s) x {workers} worker(s)", flush=True)
            proc = start_cluster(instances, workers, port, env, run)
            try:
                pgids = [int((run / f"instance-{n}.pgid").read_text()) for n in range(1, instances + 1)]
                result = asyncio.run(run_load(
                    topology, port, f"http://127.0.0.1:{port}", people, profile, args.webhook_rate,
                    args.redis_url, group_pids(pgids), args.idle,
                ))
            finally:
                stop_cluster(proc, run)
            results.append(result)
            report(result, args)
    finally:
        fake.terminate()
        redis.Redis.from_url(args.redis_url).flushdb()
        shutil.rmtree(tmp, ignore_errors=True)  # the frontend copy, logs and data dir
    print_table(results, args)


def report(r: Result, args: argparse.Namespace) -> None:
    print(f"   {r.label}: {len(r.turns)} turns, {len(r.errors)} errors; load average {r.load}; "
          f"{r.tabs} idle tabs cost the server {r.idle_cpu * 100:.0f}% of a core; Redis commands per "
          f"turn {r.redis_commands / max(1, len(r.turns)):.0f} (webhooks included)", flush=True)
    for line in r.errors[:5]:
        print(f"     error: {line[:300]}")


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    if args.burst:
        what = f"burst: {args.conversations} tabs x {args.turns} turns sent back to back at once"
    else:
        what = (f"{args.conversations} concurrent conversations for {args.duration:.0f} s each (starts over "
                f"{args.ramp:.0f} s, think {args.think_min:g} s + Exp, mean {args.think_mean:g} s)")
    print(f"\n{what}; webhooks offered at {args.webhook_rate:.0f}/s; times in ms, send -> full reply "
          "as the socket client sees it")
    print(f"{'topology':>8} | {'turns/s':>7} {'p50':>6} {'p99':>6} {'errors':>6} | {'webhooks/s':>10} "
          f"{'wh err':>6} | {'srv CPU ms/turn':>15} {'less idle':>9} {'client CPU':>10} | "
          f"{'Redis B/tab':>11} "
          f"{'keys':>5} | load")
    for r in results:
        ms, n = 1000, max(1, len(r.turns))
        print(
            f"{r.label:>8} | {len(r.turns) / r.wall if r.wall else 0:>7.1f} "
            f"{pct(r.turns, 50) * ms:>6.0f} {pct(r.turns, 99) * ms:>6.0f} {len(r.errors):>6} | "
            f"{r.webhooks_ok / r.webhook_wall if r.webhook_wall else 0:>10.1f} {r.webhook_errors:>6} | "
            f"{r.server_cpu * ms / n:>15.1f} {(r.server_cpu - r.idle_cpu * r.wall) * ms / n:>9.1f} "
            f"{r.client_cpu * ms / n:>10.1f} | "
            f"{r.redis_bytes / max(1, r.tabs):>11.0f} {r.redis_keys:>5} | {r.load}"
        )
    print("server CPU ms per turn includes the webhook stream's share; 'less idle': without the idle "
          "tabs' share (their idle CPU x the run's wall time); targets: 200 conversations, 0 errors, "
          "p99 < 1000 ms")


if __name__ == "__main__":
    main()
