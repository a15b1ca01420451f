"""bench/observability.py's statistics and its direct costs: what "on" adds to one operation
of each path, timed in tight loops (see that file's docstring, point 3)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import random
import statistics
import time
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PATHS = ("turn", "webhook")


class Counts(logging.Filter):
    """Counts the log lines of each mode's rounds and keeps a sample of real records."""

    def __init__(self) -> None:
        super().__init__()
        self.lines = {"turn": 0, "webhook": 0}
        self.path = "turn"
        self.sample: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.lines[self.path] += 1
        if len(self.sample) < 400:
            self.sample.append(record)
        return True


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    gc.collect()  # every round starts with the same heap, whatever the previous one left
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def median_ci(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """95 % interval of the median (bootstrap, fixed seed): how far the paired figure could be
    off with this many pairs, narrower than the pairs' own spread."""
    rng = random.Random(17)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


# ------------------------------------------------------------------ direct costs (tight loops)


def fastest_us(fn: Callable[[], Any], n: int, repeats: int = 7) -> float:
    """CPU microseconds per call of `fn`, the fastest of `repeats` loops of n calls: the loop
    that other processes disturbed least."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, time.process_time() - start)
    return best / n * 1e6


def fastest_async_us(make: Callable[[], AsyncIterator[Any]], n: int, repeats: int = 7) -> float:
    async def loop() -> float:
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(n):
                async for _ev in make():
                    pass
            best = min(best, time.process_time() - start)
        return best / n * 1e6

    return asyncio.run(loop())


class _Replay:
    """A provider whose stream replays a captured list of events, instantly."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events

    async def stream(self, *_a: Any, **_k: Any) -> AsyncIterator[Any]:
        for event in self.events:
            yield event


Costs = dict[str, list[tuple[str, float]]]


def direct_costs(seen: dict[str, Any], counts: Counts, ops: dict[str, int]) -> Costs:
    """What "on" adds to one operation of each path, in CPU microseconds, item by item."""
    from vopix.api import middleware
    from vopix.core import log_format, metrics

    events, provider_events = seen["turn_events"], seen["provider_events"]
    streams_per_turn = seen["streams"] / max(1, seen["turns"])

    async def bare_turn() -> AsyncIterator[Any]:
        for event in events:
            yield event

    timed_turn = metrics.instrument_turn(bare_turn)
    turn_us = fastest_async_us(timed_turn, 2000) - fastest_async_us(bare_turn, 2000)
    replay = _Replay(provider_events)
    wrapped = metrics._TimedProvider(replay, "openai")
    provider_us = fastest_async_us(wrapped.stream, 2000) - fastest_async_us(replay.stream, 2000)

    records = counts.sample or [logging.LogRecord("vopix", logging.INFO, __file__, 1, "a line", None, None)]
    as_json, as_text = log_format.JsonFormatter(), logging.Formatter(TEXT_FORMAT)
    record_iter = itertools.cycle(records)
    json_us = fastest_us(lambda: as_json.format(next(record_iter)), 5000)
    text_us = fastest_us(lambda: as_text.format(next(record_iter)), 5000)
    stamped = log_format._stamp_factory(logging.LogRecord)
    args = ("vopix.bench", logging.INFO, __file__, 1, "a line %s", ("x",), None)
    stamp_us = fastest_us(lambda: stamped(*args), 5000) - fastest_us(lambda: logging.LogRecord(*args), 5000)
    per_line = json_us - text_us + stamp_us

    scope = {"route": SimpleNamespace(path="/api/telegram/webhook"), "method": "POST"}
    observe_us = fastest_us(lambda: middleware._observe(scope, 200, 0.001), 20000)
    bind_us = fastest_us(lambda: log_format.unbind(log_format.bind_new("req")), 20000)

    lines = {path: counts.lines[path] / max(1, ops[path]) for path in PATHS}
    return {
        "turn": [("turn decorator", turn_us),
                 (f"timed provider x{streams_per_turn:.1f}", provider_us * streams_per_turn),
                 (f"{lines['turn']:.1f} lines as JSON", per_line * lines["turn"])],
        "webhook": [("request metrics", observe_us), ("request id", bind_us),
                    (f"{lines['webhook']:.1f} lines as JSON", per_line * lines["webhook"])],
    }
