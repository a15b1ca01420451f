"""A tab whose worker died keeps its client token on the worker it reconnects to (issue 15,
fault 2); a duplicated tab of a live worker still gets a token of its own. On a real Redis."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from reflex.utils.token_manager import RedisTokenManager

from vopix.state import socket_owners

REDIS_URL = "redis://127.0.0.1:6379/12"
DEAD_TAB, LIVE_TAB = f"tab-{secrets.token_hex(8)}", f"tab-{secrets.token_hex(8)}"


pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def redis():
    """The shared Redis (the SQLite and PostgreSQL passes run side by side: no flushdb); each
    test's tokens and instance ids are random, and its records are removed after it."""
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    for tab in (DEAD_TAB, LIVE_TAB):
        await client.delete(f"token_manager_socket_record_{tab}")
    await client.aclose()


def _worker(redis) -> RedisTokenManager:
    """One Reflex worker's token manager (its own instance id) on the shared Redis."""
    return RedisTokenManager(redis)


async def test_a_dead_workers_token_is_kept_and_a_live_ones_duplicate_gets_a_new_one(redis) -> None:
    dead, live, here = (_worker(redis) for _ in range(3))
    # The live worker runs its heartbeat on its named connection; the dead one was killed (its
    # record stays in Redis, its connection and heartbeat are gone).
    beat = asyncio.create_task(socket_owners._heartbeat(REDIS_URL, live.instance_id))
    try:
        await dead.link_token_to_sid(DEAD_TAB, "sid-1")
        await live.link_token_to_sid(LIVE_TAB, "sid-2")
        for _ in range(50):  # the heartbeat's first write
            if await redis.exists(socket_owners._name(live.instance_id)):
                break
            await asyncio.sleep(0.05)
        socket_owners._wrap_link(here)

        assert await here.link_token_to_sid(DEAD_TAB, "sid-3") is None  # same token, same state
        assert here.token_to_socket[DEAD_TAB].instance_id == here.instance_id
        new = await here.link_token_to_sid(LIVE_TAB, "sid-4")  # a real duplicate tab
        assert new is not None and new != LIVE_TAB
        await redis.delete(f"token_manager_socket_record_{new}")
    finally:
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
    # A stopped heartbeat removes its key: the worker's tabs are free at once.
    assert not await redis.exists(socket_owners._name(live.instance_id))
    assert await socket_owners.drop_if_orphaned(here, LIVE_TAB)


async def test_a_heartbeat_without_its_connection_is_a_dead_worker(redis) -> None:
    """A heartbeat key still in Redis after its process was killed (its TTL not yet run out),
    but no connection of that name: dead, its record dropped."""
    dead, here = _worker(redis), _worker(redis)
    await dead.link_token_to_sid(DEAD_TAB, "sid-1")
    await redis.set(socket_owners._name(dead.instance_id), "1", ex=socket_owners.HEARTBEAT_TTL_S)
    assert await socket_owners.drop_if_orphaned(here, DEAD_TAB)
    assert not await socket_owners.drop_if_orphaned(here, DEAD_TAB)  # nothing left to drop
