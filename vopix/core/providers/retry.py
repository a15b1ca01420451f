"""Retrying a provider stream: only before the first event, so streamed text never repeats.

The waits and the attempt count come from the shared `vopix.core.http.retry`; what is
retried here is opening the stream up to its first event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from vopix.core.http import Retry, RetryPolicy, Sleep, retry
from vopix.core.providers.base import (
    ChatMessage,
    Provider,
    ProviderError,
    ProviderRateLimited,
    StreamEvent,
    ToolSpec,
)


def retryable(err: Exception) -> Retry | None:
    """A retryable provider error, with the server's Retry-After when it was rate limited."""
    if not isinstance(err, ProviderError) or not err.retryable:
        return None
    return Retry(err.retry_after if isinstance(err, ProviderRateLimited) else None)


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
    policy = RetryPolicy(attempts, base_delay, max_delay)

    async def open_stream() -> tuple[AsyncIterator[StreamEvent], StreamEvent | None]:
        events = aiter(provider.stream(messages, tools))
        try:
            return events, await anext(events)
        except StopAsyncIteration:
            return events, None

    events, first = await retry(open_stream, policy, retryable, sleep=sleep)
    try:
        if first is None:
            return
        yield first
        async for event in events:
            yield event
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:  # a consumer that stops early frees the connection now
            await close()
