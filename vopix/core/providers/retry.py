"""Retrying a provider stream: only before the first event, so streamed text never repeats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from vopix.core.providers.base import (
    ChatMessage,
    Provider,
    ProviderError,
    ProviderRateLimited,
    StreamEvent,
    ToolSpec,
)

Sleep = Callable[[float], Awaitable[object]]


def retry_delay(err: ProviderError, attempt: int, base: float = 0.5, cap: float = 10.0) -> float:
    """Seconds to wait before retry number `attempt` (1-based)."""
    if isinstance(err, ProviderRateLimited) and err.retry_after is not None:
        return min(err.retry_after, cap)
    return min(base * 2 ** (attempt - 1), cap)


async def stream_with_retry(
    provider: Provider,
    messages: list[ChatMessage],
    tools: list[ToolSpec],
    attempts: int = 3,
    sleep: Sleep = asyncio.sleep,
    *,
    base_delay: float = 0.5,
    max_delay: float = 10.0,
) -> AsyncIterator[StreamEvent]:
    """Stream from provider, retrying retryable errors only before the first event.

    Once an event has been yielded, any error propagates (never duplicate streamed text).
    """
    for attempt in range(1, max(1, attempts) + 1):
        started = False
        try:
            async for event in provider.stream(messages, tools):
                started = True
                yield event
            return
        except ProviderError as err:
            if started or not err.retryable or attempt >= attempts:
                raise
            await sleep(retry_delay(err, attempt, base_delay, max_delay))
