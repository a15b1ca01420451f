"""Live notices (vopix/core/live.py, issue 15): a change is told to the person's open tabs once
its transaction commits, in the process without Redis and across processes through Redis, and
never for a rollback or to someone else's tabs."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from vopix.core import live
from vopix.core.agent import history
from vopix.db import session_scope

pytestmark = pytest.mark.asyncio
REDIS_URL = "redis://127.0.0.1:6379/13"


async def test_a_committed_change_wakes_the_persons_waiters_only(make_user) -> None:
    user_id, _, _ = make_user()
    other_id, _, _ = make_user()
    async with live.subscribe(user_id) as mine, live.subscribe(other_id) as theirs:
        await asyncio.to_thread(history.create_conversation, user_id)  # a writer in a thread
        assert await mine.wait(10) == {live.HISTORY}
        assert await theirs.wait(0.2) == set()
        assert await mine.wait(0.05) == set()  # told once


async def test_a_rolled_back_change_tells_nobody(make_user) -> None:
    user_id, _, _ = make_user()
    async with live.subscribe(user_id) as ear:
        with pytest.raises(RuntimeError), session_scope() as s:
            live.changed(s, user_id, live.HISTORY)
            raise RuntimeError("the transaction fails")
        assert await ear.wait(0.2) == set()


async def test_topics_noticed_meanwhile_come_together(make_user) -> None:
    user_id, _, _ = make_user()
    async with live.subscribe(user_id) as ear:
        live.hub.dispatch(user_id, frozenset({live.HISTORY}))
        live.hub.dispatch(user_id, frozenset({live.SESSION}))
        assert await ear.wait(1) == {live.HISTORY, live.SESSION}
    assert live.hub.waiting(user_id) == 0


async def test_through_redis_a_notice_from_another_process_arrives(make_user, settings_env) -> None:
    """With Redis set, every worker listens on one channel: a change published by another
    process (a channel worker, another instance) wakes this process's waiter; malformed
    messages on the channel are ignored."""
    settings_env(VOPIX_REDIS_URL=REDIS_URL)
    user_id, _, _ = make_user()
    async with live.subscribe(user_id) as ear:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            for _ in range(100):  # the listener subscribes in the background
                if await client.pubsub_numsub(live.CHANNEL) != [(live.CHANNEL.encode(), 0)]:
                    break
                await asyncio.sleep(0.05)
            await client.publish(live.CHANNEL, "not a notice")
            await client.publish(live.CHANNEL, f"{user_id} no-such-topic")
            assert await ear.wait(0.3) == set()
        finally:
            await client.aclose()
        code = f"from vopix.core import live; live.publish({user_id}, live.SESSION)"
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", code], env=_env_with(VOPIX_REDIS_URL=REDIS_URL), timeout=60
        )
        assert done.returncode == 0
        assert await ear.wait(10) == {live.SESSION}


def _env_with(**values: str) -> dict[str, str]:
    import os

    return {**os.environ, **values}
