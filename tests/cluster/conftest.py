"""Cluster and fault tests: several VOPIX processes on one PostgreSQL (and Redis).

Production is PostgreSQL + Redis, so these run once, on PostgreSQL, in a pass of their own that
`make test` (scripts/test.sh) starts after the SQLite and PostgreSQL passes, in a Python process
with no other pass's browser; the SQLite pass skips them. The `cluster` fixture starts
scripts/cluster.sh (two instances of two workers behind nginx) on this run's database; it
builds the frontend, so run these alone under the browser lock:
`flock /tmp/vopix-browser.lock env VOPIX_TEST_DB=postgres .venv/bin/pytest tests/cluster`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

# The browser tests' loopback fakes and Chromium, shared with these tests.
# (The one `browser` fixture of the run is in tests/conftest.py.)
from tests.browser.conftest import (  # noqa: F401 - fixtures
    BROWSER_TELEGRAM_SECRET,
    channel_fakes,
)
from tests.conftest import PG_DB_NAME, TEST_DB, _pg_admin, _pg_url

REPO = Path(__file__).resolve().parents[2]
REDIS_SERVER = "/usr/bin/redis-server"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)
            if TEST_DB != "postgres":
                item.add_marker(pytest.mark.skip(reason="cluster tests run in the PostgreSQL pass"))


def _fresh_database(suffix: str) -> str:
    """A new empty PostgreSQL database of this run (the suite's own is shared with the browser
    tests' app server, whose workers would claim the cluster tests' work)."""
    name = f"{PG_DB_NAME}_{suffix}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    return _pg_url(name).replace("postgresql://", "postgresql+psycopg://", 1)


def _drop_database(url: str) -> None:
    from vopix import db

    db.dispose_engines()
    _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def scratch_db(settings_env) -> Iterator[str]:
    """This test (and the processes it starts) on a migrated database of its own, which no
    other worker of the run can see."""
    from vopix import db

    url = _fresh_database("scratch")
    settings_env(VOPIX_DATABASE_URL=url)
    db.migrate()
    yield url
    _drop_database(url)


def child_env() -> dict[str, str]:
    """The environment of a child VOPIX process: this test run's database and settings."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _free_base_port(count: int) -> int:
    """A port such that it and the `count` ports after it are free."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = sock.getsockname()[1]
        if base + count >= 65535:
            continue
        try:
            for port in range(base, base + count + 1):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free run of ports")


class PrivateRedis:
    """A Redis server of the cluster's own (no persistence, like production's), so a fault
    test can restart it without touching the machine's Redis."""

    def __init__(self, run_dir: Path) -> None:
        self.port = _free_base_port(0)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = run_dir / "redis.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """kill -9 and start again: every key (every tab's Reflex state) is gone."""
        self.stop()
        self.start()


@dataclass
class Cluster:
    url: str  # the load balancer
    instance_urls: list[str]
    run_dir: Path
    env: dict[str, str]
    redis: PrivateRedis

    def pgid(self, n: int) -> int:
        return int((self.run_dir / f"instance-{n}.pgid").read_text())

    def kill(self, n: int) -> None:
        """kill -9 every process of instance n (Granian's supervisor and its workers)."""
        os.killpg(self.pgid(n), signal.SIGKILL)

    def log(self, n: int) -> str:
        return (self.run_dir / f"instance-{n}.log").read_text(errors="replace")

    def instance_of(self, pid: int) -> int | None:
        """Which instance a worker process belongs to (by its process group)."""
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            return None
        return next((n for n in (1, 2) if self.pgid(n) == group), None)

    def restart(self, n: int) -> None:
        """Start instance n again (after a kill), as scripts/cluster.sh started it."""
        port = int(self.instance_urls[n - 1].rsplit(":", 1)[1])
        with open(self.run_dir / f"instance-{n}.log", "a") as log:
            proc = subprocess.Popen(
                [str(REPO / ".venv/bin/python"), "deploy/serve.py", "--port", str(port), "--workers", "2"],
                cwd=REPO, env={**self.env, "PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (self.run_dir / f"instance-{n}.pgid").write_text(str(proc.pid))
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.instance_urls[n - 1]}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"instance {n} did not start again:\n{self.log(n)[-3000:]}")
            time.sleep(0.5)


@pytest.fixture
def cluster(cluster_session: Cluster, settings_env) -> Cluster:
    """The running cluster, and this test's own database calls on the cluster's database."""
    settings_env(VOPIX_DATABASE_URL=cluster_session.env["VOPIX_DATABASE_URL"])
    return cluster_session


@pytest.fixture(scope="session")
def cluster_session(
    migrated_database: str, channel_fakes: dict, tmp_path_factory  # noqa: F811 - the fixture
) -> Iterator[Cluster]:
    """Two instances of two workers behind nginx, on a database of their own (scripts/cluster.sh
    migrates it); instance 2 is nginx's backup, so a tab's socket is on instance 1 while it
    lives. Both answer on their own ports too."""
    telegram = channel_fakes["telegram"]
    database_url = _fresh_database("cluster")
    base = _free_base_port(2)
    run_dir = tmp_path_factory.mktemp("cluster")
    url = f"http://localhost:{base}"
    redis = PrivateRedis(run_dir)
    redis.start()
    env = {
        **child_env(),
        "PORT": str(base),
        "VOPIX_PUBLIC_URL": url,
        "VOPIX_DATABASE_URL": database_url,
        "VOPIX_REDIS_URL": redis.url,
        "VOPIX_CLUSTER_RUN": str(run_dir),
        "VOPIX_CLUSTER_BALANCE": "backup",
        "VOPIX_RUN_SCHEDULER": "0",
        "VOPIX_TELEGRAM_BOT_TOKEN": telegram.token,
        "VOPIX_TELEGRAM_WEBHOOK_SECRET": BROWSER_TELEGRAM_SECRET,
        "VOPIX_TELEGRAM_BOT_USERNAME": telegram.bot_user["username"],
        "VOPIX_TELEGRAM_API_BASE_URL": telegram.url,
    }
    out = open(run_dir / "cluster.out", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(REPO / "scripts/cluster.sh")], cwd=REPO, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    found = Cluster(url, [f"http://127.0.0.1:{base + 1}", f"http://127.0.0.1:{base + 2}"], run_dir,
                    {**env, "VOPIX_TRUST_PROXY": "1", "VOPIX_BIND_HOST": "127.0.0.1"}, redis)
    try:
        deadline = time.monotonic() + 600  # the frontend build takes minutes on a busy machine
        while not (run_dir / "ready").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not start:\n{(run_dir / 'cluster.out').read_text()[-4000:]}")
            time.sleep(0.5)
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        yield found
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the script stops its instances and nginx
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid_file in run_dir.glob("*.pgid"):
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        out.close()
        redis.stop()
        _drop_database(database_url)


@pytest.fixture
def context(browser, cluster_session: Cluster):
    ctx = browser.new_context(base_url=cluster_session.url)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()
