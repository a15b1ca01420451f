"""PostgreSQL restarted under webhook load (issue 15, fault 3), on a PostgreSQL server of the
test's own (the machine's is shared): requests during the outage get 503 with Retry-After
(never a 500 or a traceback), /healthz says degraded, every webhook acknowledged with 200 is in
the database afterwards, and the app recovers by itself within 10 s of the database."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.cluster.conftest import BROWSER_TELEGRAM_SECRET, REPO, _free_base_port, child_env
from tests.fakes.telegram_updates import make_text_update

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.dir = root / "pgdata"
        self.port = _free_base_port(0)
        self.log = root / "postgres.log"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/vopix"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.dir),
                        "-l", str(self.log), "-w", "-t", "60", *args], check=True, capture_output=True)

    def start(self) -> None:
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.dir.parent, "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(self.dir),
                        "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
        self.log.touch()
        shutil.chown(self.log, "postgres")
        self._up()
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE vopix")

    def _up(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", opts, "start")

    def restart(self, down_seconds: float) -> None:
        """Stop (fast: every connection is cut), stay down a while, start; returns when it
        accepts connections again."""
        self._pg_ctl("-m", "fast", "stop")
        time.sleep(down_seconds)
        self._up()

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "stop")


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL 15's server binaries and runuser")
    root = Path(f"/tmp/vopix-pg-{os.getpid()}-{tmp_path.name}")  # a path the postgres user reaches
    server = PrivatePostgres(root)
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _instance(pg: PrivatePostgres, telegram, run_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_base_port(0)
    env = {**child_env(), "VOPIX_DATABASE_URL": pg.url, "PORT": str(port), "VOPIX_RUN_SCHEDULER": "0",
           "VOPIX_PUBLIC_URL": f"http://localhost:{port}", "VOPIX_REDIS_URL": "",
           "VOPIX_TELEGRAM_BOT_TOKEN": telegram.token, "VOPIX_TELEGRAM_WEBHOOK_SECRET": BROWSER_TELEGRAM_SECRET,
           "VOPIX_TELEGRAM_API_BASE_URL": telegram.url}
    subprocess.run([str(REPO / ".venv/bin/python"), "-m", "vopix", "migrate"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    log = (run_dir / "instance.log").open("w")
    proc = subprocess.Popen([str(REPO / ".venv/bin/python"), "deploy/serve.py", "--port", str(port),
                             "--workers", "1"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((run_dir / "instance.log").read_text()[-3000:])
        time.sleep(0.3)


def test_postgresql_restart_under_webhook_load_loses_no_acknowledged_webhook(
    private_pg: PrivatePostgres, channel_fakes: dict, tmp_path: Path
) -> None:
    web = Path(os.environ.get("REFLEX_WEB_WORKDIR") or REPO / ".web")
    if not (REPO / web / "build" / "client").is_dir():
        pytest.skip("needs a built frontend (the cluster tests build one)")
    proc, url = _instance(private_pg, channel_fakes["telegram"], tmp_path)
    answers: list[tuple[int, float, int, str]] = []  # update id, time, status, body
    retry_after: set[str | None] = set()  # the header of every non-200 answer
    health: list[tuple[int, str]] = []  # /healthz status and body while the load runs
    stop = threading.Event()

    def post_webhooks() -> None:
        with httpx.Client(timeout=10) as client:
            update_id = 900_000_000
            while not stop.is_set():
                update_id += 1
                try:
                    r = client.post(f"{url}/api/telegram/webhook",
                                    json=make_text_update(update_id, 730_000_000 + update_id % 50, "load"),
                                    headers={"X-Telegram-Bot-Api-Secret-Token": BROWSER_TELEGRAM_SECRET})
                    answers.append((update_id, time.monotonic(), r.status_code, r.text[:500]))
                    if r.status_code != 200:
                        retry_after.add(r.headers.get("retry-after"))
                except httpx.HTTPError:
                    answers.append((update_id, time.monotonic(), 0, ""))
                time.sleep(0.02)

    def poll_health() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    r = client.get(f"{url}/healthz")
                    health.append((r.status_code, r.text[:200]))
                except httpx.HTTPError:
                    health.append((0, ""))
                time.sleep(0.2)

    sender = threading.Thread(target=post_webhooks, daemon=True)
    prober = threading.Thread(target=poll_health, daemon=True)
    sender.start()
    prober.start()
    try:
        time.sleep(2)
        private_pg.restart(down_seconds=3)
        back_at = time.monotonic()  # pg_ctl -w returns once the server accepts connections
        time.sleep(12)
    finally:
        stop.set()
        sender.join(timeout=20)
        prober.join(timeout=20)
        proc.terminate()
        proc.wait(timeout=20)

    acked = {uid for uid, _, status, _ in answers if status == 200}
    assert len(acked) > 20
    refused = [status for _, at, status, _ in answers if status != 200]
    assert refused  # the outage was seen (3 s of it)
    assert set(refused) == {503}, sorted(set(refused))  # never a 500, nor a dropped connection
    assert retry_after == {"5"}
    assert any(status == 503 and "degraded" in body for status, body in health), health[:5]
    with psycopg.connect(private_pg.url) as conn:
        stored = {int(r[0]) for r in conn.execute(
            "SELECT external_id FROM inbound_event WHERE channel = 'telegram'")}
    assert acked <= stored  # nothing acknowledged is lost
    assert not [body for *_, body in answers if "Traceback" in body or "psycopg" in body]
    # Recovered by itself: everything after the first 10 s of the database being back is 200.
    late = [(uid, status) for uid, at, status, _ in answers if at > back_at + 10]
    assert late and all(status == 200 for _, status in late), late[:5]
