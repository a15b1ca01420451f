"""Outbound HTTP plumbing shared by the AI providers, Telegram and WhatsApp.

- `client(name)`: one pooled `httpx.AsyncClient` per name and event loop, so connections
  (and their TLS sessions) are reused across turns instead of opened per request.
  `pooled()` keeps any other closable object the same way (Telegram's Bot, whose HTTP
  pool belongs to python-telegram-bot). `close_all()` closes this loop's lot at app stop.
- `retry()` with a `RetryPolicy`: attempts, exponential backoff with a cap and optional
  jitter, a server's Retry-After honoured (with its own cap), and an injectable `sleep`
  so tests record the waits instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


# ---------------------------------------------------------------------------- pools


@dataclass
class _Entry:
    value: Any
    close: Callable[[Any], Awaitable[object]]
    is_closed: Callable[[Any], bool]


# Per event loop: a client's connections belong to the loop that opened them, and a loop
# that is gone (a test's, a CLI run's) takes its entries with it.
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Entry]] = (
    weakref.WeakKeyDictionary()
)


def pooled(
    key: Hashable,
    make: Callable[[], T],
    close: Callable[[T], Awaitable[object]],
    is_closed: Callable[[T], bool] = lambda _: False,
) -> T:
    """This loop's object for `key`, made by `make()` the first time (or after it closed)."""
    per_loop = _pools.setdefault(asyncio.get_running_loop(), {})
    entry = per_loop.get(key)
    if entry is None or entry.is_closed(entry.value):
        entry = per_loop[key] = _Entry(make(), close, is_closed)
    value: T = entry.value
    return value


def client(
    name: str, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, limits: httpx.Limits = DEFAULT_LIMITS
) -> httpx.AsyncClient:
    """The shared client called `name` on this loop. `timeout` and `limits` apply when it
    is made, so each name is best used from one place (a module constant)."""
    return pooled(
        ("httpx", name),
        lambda: httpx.AsyncClient(timeout=timeout, limits=limits),
        httpx.AsyncClient.aclose,
        lambda c: c.is_closed,
    )


async def close_all() -> None:
    """Close everything pooled on this loop (the app's lifespan calls this at stop)."""
    entries = _pools.pop(asyncio.get_running_loop(), {})
    for entry in entries.values():
        with contextlib.suppress(Exception):  # one failing close must not keep others open
            await entry.close(entry.value)


# ---------------------------------------------------------------------------- retry


def parse_retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header (seconds or HTTP date) into seconds, or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class Retry:
    """A failure worth another attempt; `after` is the server's own wait, if it gave one."""

    after: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.5  # the first backoff; it doubles on each further attempt
    max_delay: float = 10.0  # cap on the backoff
    max_retry_after: float | None = None  # cap on a server's wait (None: max_delay)
    jitter: float = 0.0  # 0..1: up to this share of each backoff is taken off at random
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        if retry_after is not None:  # the server knows best; no jitter on its answer
            cap = self.max_delay if self.max_retry_after is None else self.max_retry_after
            return min(max(retry_after, 0.0), cap)
        backoff = min(self.base_delay * 2 ** min(attempt - 1, 60), self.max_delay)
        return backoff * (1 - self.jitter * self.rng()) if self.jitter else backoff


# The wait between attempts when the caller passes none; tests replace it to record waits
# instead of sleeping (looked up at each wait).
default_sleep: Sleep = asyncio.sleep


async def retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    retry_on: Callable[[Exception], Retry | None],
    *,
    sleep: Sleep | None = None,
) -> T:
    """Await `call()` until it succeeds or `policy.attempts` are spent. `retry_on(exc)`
    says whether a failure is worth another attempt (a `Retry`) or is final (None); the
    last failure is raised as it is."""
    attempts = max(1, policy.attempts)
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as exc:
            verdict = retry_on(exc)
            if verdict is None or attempt >= attempts:
                raise
            wait = default_sleep if sleep is None else sleep  # `is None`: a recorder may be falsy
            await wait(policy.delay(attempt, verdict.after))
    raise AssertionError("unreachable")
