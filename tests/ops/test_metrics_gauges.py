"""The per-process figures (issue 17): open sockets follow the middleware's websocket connections,
pool use follows connections checked out, sandbox runs are counted by outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.core.sandbox.conftest import sandboxed  # noqa: F401
from vopix import db
from vopix.api.middleware import AccessLogMiddleware
from vopix.core import metrics


def _now(name: str, **labels: str) -> float:
    return metrics.sample(metrics.render(with_database=False)[0].decode(), name, labels)


@pytest.mark.asyncio
async def test_an_open_socket_counts_until_it_closes() -> None:
    accepted, release = asyncio.Event(), asyncio.Event()

    async def socket_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.accept"})
        accepted.set()
        await release.wait()
        await send({"type": "websocket.close", "code": 1000})

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(_message: dict[str, Any]) -> None:
        return None

    scope = {"type": "websocket", "path": "/_event", "headers": [], "client": ("127.0.0.1", 1)}
    before = _now("vopix_open_sockets")
    task = asyncio.create_task(AccessLogMiddleware(socket_app)(scope, receive, send))
    await accepted.wait()
    assert _now("vopix_open_sockets") == before + 1
    release.set()
    await task
    assert _now("vopix_open_sockets") == before


def test_pool_use_follows_checked_out_connections() -> None:
    metrics.hook_pools()
    engine = db.get_engine()
    base = _now("vopix_db_pool_connections_in_use")
    with engine.connect():
        with engine.connect():
            assert _now("vopix_db_pool_connections_in_use") == base + 2
        assert _now("vopix_db_pool_connections_in_use") == base + 1
    assert _now("vopix_db_pool_connections_in_use") == base


def test_sandbox_runs_are_counted_by_outcome(sandboxed) -> None:  # noqa: F811
    ok, failed = _now("vopix_sandbox_runs_total", outcome="ok"), _now("vopix_sandbox_runs_total", outcome="failed")
    assert sandboxed("print('hi')").exit_code == 0
    assert sandboxed("raise SystemExit(3)").exit_code == 3
    assert _now("vopix_sandbox_runs_total", outcome="ok") == ok + 1
    assert _now("vopix_sandbox_runs_total", outcome="failed") == failed + 1
