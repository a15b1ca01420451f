"""Multiprocess metrics (issue 17): the figures of every worker process add up in one scrape; a
worker that stops leaves the live gauges; a starting worker clears what dead processes left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vopix.core import metrics

WORKER = """
import sys
import pytest

from vopix.core import metrics
n = int(sys.argv[1])
for _ in range(n):
    metrics.observe_webhook("telegram", 200)
metrics.OPEN_SOCKETS.inc(2)
metrics.DB_POOL_IN_USE.inc()
print("ready", flush=True)
if sys.argv[2] == "stop":
    metrics.worker_stopped()
else:
    sys.stdin.readline()  # stays alive until told
"""


def _start(folder: Path, n: int, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(n), mode], env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _scrape(folder: Path) -> str:
    return metrics.render(with_database=False, path=folder)[0].decode()


def test_two_workers_figures_add_up_and_a_stopped_one_leaves_the_live_gauges(tmp_path: Path) -> None:
    labels = {"channel": "telegram", "result": "accepted"}
    stopped = _start(tmp_path, 3, "stop")
    assert stopped.wait(timeout=30) == 0
    alive = _start(tmp_path, 4, "stay")
    try:
        text = _scrape(tmp_path)
        assert metrics.sample(text, "vopix_webhook_deliveries_total", labels) == 7  # 3 + 4
        assert metrics.sample(text, "vopix_open_sockets") == 2  # only the live worker's
        assert metrics.sample(text, "vopix_db_pool_connections_in_use") == 1
        # A worker starting now clears the stopped process's files, never the live one's.
        assert metrics.prepare_dir(tmp_path) >= 1
        text = _scrape(tmp_path)
        assert metrics.sample(text, "vopix_webhook_deliveries_total", labels) == 4
        assert metrics.sample(text, "vopix_open_sockets") == 2
    finally:
        assert alive.stdin is not None
        alive.stdin.write("\n")
        alive.stdin.close()
        alive.wait(timeout=30)


TURN_IN_ANOTHER_WORKER = """
import asyncio, sys
from vopix.core.agent import history, runtime

async def main() -> None:
    user_id = int(sys.argv[1])
    conv = history.create_conversation(user_id)
    async for event in runtime.run_turn(user_id, "hello from worker 2", channel="web", conversation_id=conv.id):
        pass
    print(event.kind, flush=True)

asyncio.run(main())
"""


@pytest.mark.asyncio
async def test_turns_in_two_worker_processes_add_up_in_one_scrape(agent_user, fake_ai) -> None:
    import asyncio

    from tests.core.agent.conftest import collect
    from tests.fakes.ai_provider import Reply
    from vopix.core.agent import history, runtime

    labels = {"channel": "web", "outcome": "complete"}
    before = metrics.sample(_scrape(metrics.MULTIPROC_DIR), "vopix_agent_turns_total", labels)
    fake_ai.script(Reply("one"), Reply("two"))
    conv = await asyncio.to_thread(history.create_conversation, agent_user)
    await collect(runtime.run_turn(agent_user, "hello from worker 1", channel="web", conversation_id=conv.id))
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics.MULTIPROC_DIR)}
    other = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", TURN_IN_ANOTHER_WORKER, str(agent_user)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert other.returncode == 0 and other.stdout.strip() == "done", other.stderr[-2000:]
    after = metrics.sample(_scrape(metrics.MULTIPROC_DIR), "vopix_agent_turns_total", labels)
    assert after - before == 2


def test_a_forked_worker_writes_its_own_figures() -> None:
    """Granian forks its workers after importing the app: each child keeps its own files."""
    labels = {"channel": "whatsapp", "result": "malformed"}
    before = metrics.sample(_scrape(metrics.MULTIPROC_DIR), "vopix_webhook_deliveries_total", labels)
    metrics.observe_http("/api/whatsapp/webhook", "POST", 400, 0.001)  # the parent, before the fork
    pid = os.fork()
    if pid == 0:  # the child: one more, then out at once
        try:
            metrics.observe_http("/api/whatsapp/webhook", "POST", 400, 0.001)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert list(metrics.MULTIPROC_DIR.glob(f"*_{pid}.db"))  # the child wrote under its own pid
    after = metrics.sample(_scrape(metrics.MULTIPROC_DIR), "vopix_webhook_deliveries_total", labels)
    assert after - before == 2
