"""A tab whose instance died keeps its client token, and with it its state, on the instance it
reconnects to.

With Redis, Reflex records in Redis which worker holds each client token's socket (for an
hour), to give a duplicated browser tab a token of its own. A worker killed with -9 never
deletes its records, so the worker a tab reconnects to takes the dead one's record for a
second tab and hands the tab a new, empty token: the open conversation and the reply that was
streaming vanish from the tab (issue 15, fault 2).

So each worker holds one Redis connection named after its Reflex instance id, and renews a
heartbeat key on it. Before Reflex links a token, a record whose worker is dead is dropped: its
named connection is gone (Redis drops a killed process's connections at once) or its heartbeat
ran out (a machine lost without closing its connections). A live worker's record stays, so a
duplicated tab still gets a token of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)
HEARTBEAT_EVERY_S = 2.0
HEARTBEAT_TTL_S = 8  # a worker that has not renewed for this long is dead
_PREFIX = "vopix:reflex-worker:"
# Delete the record only if it is still the dead worker's (a live one may have linked since).
_DROP_IF_SAME = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _name(instance_id: str) -> str:
    return f"{_PREFIX}{instance_id}"


async def _alive(redis: Any, instance_id: str) -> bool:
    if not await redis.exists(_name(instance_id)):
        return False
    try:
        clients = await redis.client_list()
    except Exception:  # CLIENT LIST refused (a managed Redis): the heartbeat alone decides
        return True
    return any(c.get("name") == _name(instance_id) for c in clients)


async def drop_if_orphaned(manager: Any, token: str) -> bool:
    """Drop the token's socket record when the worker it names is dead; True if dropped."""
    key = manager._get_redis_key(token)
    raw = await manager.redis.get(key)
    if not raw:
        return False
    try:
        owner = pickle.loads(raw).instance_id  # Reflex's own record, written by its worker
    except Exception:
        return False
    if owner == manager.instance_id or await _alive(manager.redis, owner):
        return False
    dropped = bool(await manager.redis.eval(_DROP_IF_SAME, 1, key, raw))
    if dropped:
        log.info("a tab of a stopped worker reconnected: its client token is kept")
    return dropped


def _wrap_link(manager: Any) -> None:
    original = manager.link_token_to_sid

    async def link_token_to_sid(token: str, sid: str) -> str | None:
        try:
            await drop_if_orphaned(manager, token)
        except Exception:  # Redis trouble: Reflex's own check decides, as before
            log.warning("socket owners: could not check a token's worker", exc_info=True)
        return await original(token, sid)

    manager.link_token_to_sid = link_token_to_sid


async def _heartbeat(url: str, instance_id: str) -> None:
    import redis.asyncio as aioredis

    while True:
        client = aioredis.Redis.from_url(
            url, client_name=_name(instance_id), single_connection_client=True, socket_connect_timeout=2
        )
        try:
            while True:
                await client.set(_name(instance_id), "1", ex=HEARTBEAT_TTL_S)
                await asyncio.sleep(HEARTBEAT_EVERY_S)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await client.delete(_name(instance_id))
            raise
        except Exception:
            log.warning("socket owners: heartbeat failed, retrying", exc_info=True)
            await asyncio.sleep(HEARTBEAT_EVERY_S)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()


def lifespan(app: Any) -> Any:
    """A lifespan task for the app: with Redis, this worker's heartbeat and the check above."""

    @contextlib.asynccontextmanager
    async def socket_owners_lifespan() -> AsyncIterator[None]:
        from reflex.utils.token_manager import RedisTokenManager

        from vopix.settings import get_settings

        url = get_settings().redis_url
        namespace = app.event_namespace
        manager = getattr(namespace, "_token_manager", None) if namespace is not None else None
        if not url or not isinstance(manager, RedisTokenManager):
            yield
            return
        _wrap_link(manager)
        task = asyncio.create_task(_heartbeat(url, manager.instance_id), name="socket-owners")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return socket_owners_lifespan
