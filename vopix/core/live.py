"""Live notices: "something of person N changed" (their history, their logins, their tasks),
told to every open tab of N, whatever worker or instance holds its socket.

Open tabs used to ask on timers (a session check every 2 s, a chat poll every 4 s): 200 idle tabs
took most of a core, each tick a Reflex event with its state loaded from Redis. Now a writer
notes the change on its database session (`changed`), the notice is published once the
transaction commits (never for a rollback), and only the tabs of that person wake.

With VOPIX_REDIS_URL, notices go through one Redis pub/sub channel that every worker listens to
(one connection per worker); without Redis (one process: SQLite, development, tests) they stay
in the process. Each worker keeps the waiters of its own tabs, so a notice for a person with no
tab open on that worker costs a dictionary lookup.

A notice can be lost (Redis restarting, a writer in another process without Redis): waiters
wake after a fallback timeout anyway, and a listener that reconnects to Redis wakes all its
waiters with every topic, since it may have missed some.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Final

from sqlalchemy import event
from sqlalchemy.orm import Session

from vopix.settings import get_settings

log = logging.getLogger(__name__)

HISTORY: Final = "history"  # messages and conversations
SESSION: Final = "session"  # a login ended, or the account's standing changed
TASKS: Final = "tasks"  # tasks and their runs
TOPICS: Final = frozenset({HISTORY, SESSION, TASKS})

CHANNEL: Final = "vopix:live"
_PENDING_KEY: Final = "vopix_live"
_RECONNECT_SECONDS: Final = 1.0


# -- writers -------------------------------------------------------------------------------
def changed(s: Session, user_id: int, topic: str) -> None:
    """Note that `topic` of `user_id` changes in this transaction: published at its commit."""
    if user_id:
        s.info.setdefault(_PENDING_KEY, set()).add((int(user_id), topic))


@event.listens_for(Session, "after_commit")
def _publish_after_commit(s: Session) -> None:
    for user_id, topic in s.info.pop(_PENDING_KEY, ()):
        publish(user_id, topic)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(s: Session) -> None:
    s.info.pop(_PENDING_KEY, None)


def publish(user_id: int, topic: str) -> None:
    """Tell every worker's waiters of `user_id` about `topic`. Never raises: a notice that
    cannot be sent is caught up by the waiters' fallback timeout."""
    url = get_settings().redis_url
    if not url:
        hub.dispatch_threadsafe(user_id, topic)
        return
    try:
        _redis_client(url).publish(CHANNEL, f"{user_id} {topic}")
    except Exception as err:
        log.warning("live notice not published (%s)", type(err).__name__)


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def _redis_client(url: str):  # -> redis.Redis (imported lazily: not needed without Redis)
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            _clients[url] = client
        return client


# -- waiters -------------------------------------------------------------------------------
class Waiter:
    """One open tab's ear: the topics noticed for its person since it last looked."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.topics: set[str] = set()
        self._event = asyncio.Event()

    def notice(self, topics: set[str] | frozenset[str]) -> None:
        self.topics |= topics
        self._event.set()

    async def wait(self, timeout: float) -> set[str]:
        """The topics noticed, as soon as there is one; an empty set after `timeout` seconds
        without any."""
        if not self.topics:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        topics, self.topics = self.topics, set()
        self._event.clear()
        return topics


class Hub:
    """This process's waiters, by person, and (with Redis) the listener that feeds them."""

    def __init__(self) -> None:
        self._waiters: dict[int, set[Waiter]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: int) -> AsyncIterator[Waiter]:
        self._adopt_loop()
        waiter = Waiter(user_id)
        self._waiters.setdefault(user_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            mine = self._waiters.get(user_id)
            if mine is not None:
                mine.discard(waiter)
                if not mine:
                    del self._waiters[user_id]

    def waiting(self, user_id: int) -> int:
        return len(self._waiters.get(user_id, ()))

    def dispatch(self, user_id: int, topics: set[str] | frozenset[str]) -> None:
        for waiter in list(self._waiters.get(user_id, ())):
            waiter.notice(topics)

    def dispatch_threadsafe(self, user_id: int, topic: str) -> None:
        """From any thread (writers commit in worker threads): hand the notice to the loop."""
        loop = self._loop
        if loop is None or loop.is_closed() or user_id not in self._waiters:
            return
        try:
            loop.call_soon_threadsafe(self.dispatch, user_id, frozenset({topic}))
        except RuntimeError:  # the loop closed meanwhile
            pass

    def wake_all(self) -> None:
        for user_id in list(self._waiters):
            self.dispatch(user_id, TOPICS)

    def _adopt_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first waiter, or a new loop (tests start several)
            self._loop, self._listener = loop, None
        url = get_settings().redis_url
        if url and (self._listener is None or self._listener.done()):
            self._listener = loop.create_task(self._listen(url), name="vopix-live-listener")

    async def _listen(self, url: str) -> None:
        """Feed the waiters from Redis; reconnect for ever (a lost connection may have lost
        notices, so every waiter is woken once connected again)."""
        import redis.asyncio as aioredis

        first = True
        while True:
            client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    if not first:
                        self.wake_all()
                    first = False
                    async for message in pubsub.listen():
                        self._on_message(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("live listener lost Redis (%s); reconnecting", type(err).__name__)
                first = False
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(_RECONNECT_SECONDS)

    def _on_message(self, data: object) -> None:
        text = data.decode() if isinstance(data, bytes) else str(data)
        user, _, topic = text.partition(" ")
        if user.isdigit() and topic in TOPICS:
            self.dispatch(int(user), frozenset({topic}))


hub = Hub()
subscribe = hub.subscribe
