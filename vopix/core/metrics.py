"""Prometheus metrics (issue 17): one registry of fixed, content-free metrics, added up over every
worker process through prometheus-client's multiprocess mode.

Multiprocess mode is chosen when prometheus_client is first imported, so this module sets
PROMETHEUS_MULTIPROC_DIR (when the operator did not) before importing it: one folder per
instance (the data dir and the port), where each worker process writes its figures to files
named by its pid. A worker that starts removes the files of processes that are gone (a previous
run, a crashed worker: `prepare_dir`), and one that stops marks itself dead, which drops its
live gauges (open sockets, pool use) from the sum (`worker_stopped`).

No label ever holds a person's id, email, chat id or any content: labels are route templates,
channel names, provider kinds, outcomes and statuses, all from short fixed sets. Figures that
live in the database (queue depth, oldest waiting event, mail backlog) are read at scrape time
by `DatabaseCollector`, in the process that answers /metrics.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from vopix.settings import get_settings

log = logging.getLogger("vopix.metrics")


def _default_dir() -> Path:
    cfg = get_settings()
    return cfg.data_dir / f"metrics-{cfg.port}"


# A folder chosen by default (not by the operator) is marked, so that a child process that is
# another instance (its own data dir or port: a test's server) chooses its own again.
_DEFAULTED = "VOPIX_METRICS_DIR_DEFAULTED"
_chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if not _chosen or _chosen == os.environ.get(_DEFAULTED):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_DEFAULTED] = str(_default_dir())
MULTIPROC_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)

from prometheus_client import (  # noqa: E402 - after the folder is chosen (see above)
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)
from prometheus_client import values as _values  # noqa: E402

# The value class is chosen here, not at prometheus_client's import: a library or a test module
# may have imported it before the folder was set (it would then keep figures in this process).
# Each increment asks for the pid (to notice a fork); getpid() is a real system call, slow in
# some sandboxes, so the pid is kept in a variable that a fork refreshes.
_pid = os.getpid()


def _refresh_pid() -> None:
    global _pid
    _pid = os.getpid()


def _current_pid() -> int:
    return _pid


os.register_at_fork(after_in_child=_refresh_pid)
_values.ValueClass = _values.MultiProcessValue(process_identifier=_current_pid)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)

HTTP_REQUESTS = Counter(
    "vopix_http_requests", "HTTP requests answered, by route template and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "vopix_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
    ["route", "method"], buckets=_LATENCY_BUCKETS,
)
TURNS = Counter("vopix_agent_turns", "Agent turns, by channel and outcome", ["channel", "outcome"])
TURN_FIRST_TOKEN = Histogram(
    "vopix_agent_time_to_first_token_seconds",
    "From the start of a turn to the first text of the reply", ["channel"], buckets=_TURN_BUCKETS,
)
PROVIDER_LATENCY = Histogram(
    "vopix_provider_latency_seconds", "From opening a provider stream to its first event",
    ["provider"], buckets=_TURN_BUCKETS,
)
PROVIDER_ERRORS = Counter(
    "vopix_provider_errors", "Provider calls that failed, by provider kind and error class",
    ["provider", "error"],
)
WEBHOOKS = Counter(
    "vopix_webhook_deliveries", "Webhook deliveries received, by channel and result",
    ["channel", "result"],
)
MAIL_SENT = Counter("vopix_mail_sent", "Mails handed to the mail server (or written as .eml)")
MAIL_FAILURES = Counter(
    "vopix_mail_failures", "Mail delivery attempts that failed", ["permanent"]
)
STRIPE_EVENTS = Counter(
    "vopix_stripe_events", "Stripe events settled by the billing worker, by result", ["result"]
)
TASK_OCCURRENCES = Counter(
    "vopix_task_occurrences", "Scheduled task occurrences, by what became of them (due, late, missed)",
    ["state"],
)
SANDBOX_RUNS = Counter("vopix_sandbox_runs", "Scripts run in the sandbox, by outcome", ["outcome"])
OPEN_SOCKETS = Gauge(
    "vopix_open_sockets", "Websocket connections open now", multiprocess_mode="livesum"
)
DB_POOL_IN_USE = Gauge(
    "vopix_db_pool_connections_in_use", "Database connections checked out of the pools now",
    multiprocess_mode="livesum",
)

# Every provider kind, outcome or route seen is one short word: anything else is folded.
_WORD = re.compile(r"^[a-z0-9_./{}:-]{1,64}$")


def _label(value: str | None, default: str = "other") -> str:
    value = (value or "").lower()
    return value if _WORD.match(value) else default


# ------------------------------------------------------------------ start-up and shut-down

_PID_FILE = re.compile(r"_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_dir(folder: Path | None = None) -> int:
    """Remove the figures of processes that are gone (a previous run, a crashed worker); never
    those of a live worker. Called by each worker at start. Returns the files removed."""
    removed = 0
    for path in (folder or MULTIPROC_DIR).glob("*.db"):
        m = _PID_FILE.search(path.name)
        if m is None or int(m.group(1)) == os.getpid() or _alive(int(m.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def worker_stopped() -> None:
    """This worker stops serving: its live gauges (open sockets, pool use) leave the sum. They
    are set to zero rather than their files removed, because the process may go on (tests run
    the app's lifespan in-process) and would write to removed files; at the process's exit the
    files go too (atexit), and a worker killed outright is cleared by the next `prepare_dir`."""
    for gauge in (OPEN_SOCKETS, DB_POOL_IN_USE):
        with contextlib.suppress(Exception):
            gauge.set(0)


def _mark_dead_at_exit() -> None:
    with contextlib.suppress(Exception):
        multiprocess.mark_process_dead(os.getpid(), str(MULTIPROC_DIR))


_pool_hooked = False


def hook_pools() -> None:
    """Count checked-out connections of every SQLAlchemy pool of this process."""
    global _pool_hooked
    if _pool_hooked:
        return
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    event.listen(Pool, "checkout", lambda *_a: DB_POOL_IN_USE.inc())
    event.listen(Pool, "checkin", lambda *_a: DB_POOL_IN_USE.dec())
    _pool_hooked = True


def _check_allow_list() -> None:
    import ipaddress

    for item in os.environ.get("VOPIX_METRICS_ALLOW", "").split(","):
        try:
            if item.strip():
                ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            log.error("VOPIX_METRICS_ALLOW holds %r, not a CIDR: /metrics refuses everyone but the "
                      "bearer token until it is fixed", item.strip()[:64])


@contextlib.asynccontextmanager
async def metrics_lifespan() -> AsyncIterator[None]:
    """App lifespan: a clean folder for this worker, pool figures, and its exit recorded; the
    log format again (the server configured this worker's logging after the import)."""
    from vopix.core import log_format

    log_format.install()
    _check_allow_list()
    prepare_dir()
    atexit.unregister(_mark_dead_at_exit)  # registered once, however often the lifespan runs
    atexit.register(_mark_dead_at_exit)
    hook_pools()
    try:
        yield
    finally:
        worker_stopped()


# ------------------------------------------------------------------ recording helpers

_WEBHOOK_ROUTES = {
    "/api/telegram/webhook": "telegram",
    "/api/whatsapp/webhook": "whatsapp",
    "/api/stripe/webhook": "stripe",
}
_WEBHOOK_RESULTS = {
    200: "accepted", 204: "accepted", 400: "malformed", 401: "forbidden", 403: "forbidden",
    413: "too_large", 503: "unavailable",
}
# The label children of each (route, method, status) seen: the hot path is one dict lookup and
# three or four increments, not labels() and the label checks on every request. Bounded: routes
# are templates, statuses a few dozen codes.
_http_children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}


def webhook_channel(route: str, method: str) -> str | None:
    return _WEBHOOK_ROUTES.get(route) if method == "POST" else None


def _http_child(route: str, method: str, status: int) -> tuple[Any, Any, Any]:
    key = (route, method, status)
    found = _http_children.get(key)
    if found is None:
        r, m = _label(route, "unmatched"), _label(method, "other").upper()
        channel = webhook_channel(r, m)
        webhook = None if channel is None else WEBHOOKS.labels(channel, _WEBHOOK_RESULTS.get(status, "error"))
        found = (HTTP_REQUESTS.labels(r, m, str(status)), HTTP_LATENCY.labels(r, m), webhook)
        if len(_http_children) < 4096:
            _http_children[key] = found
    return found


def observe_http(route: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request answered (the middleware): by route template, and as a webhook
    delivery when the route is one."""
    requests, latency, webhook = _http_child(route, method, status)
    requests.inc()
    latency.observe(seconds)
    if webhook is not None:
        webhook.inc()


def observe_webhook(channel: str, status: int) -> None:
    WEBHOOKS.labels(channel, _WEBHOOK_RESULTS.get(status, "error")).inc()


def task_occurrence(state: str, n: int = 1) -> None:
    """Scheduled tasks (vopix/core/tasks): an occurrence became due, ran late, or was missed."""
    if n:
        TASK_OCCURRENCES.labels(_label(state)).inc(n)


LATE_AFTER_S = 60.0


async def observe_task_occurrence(run: Awaitable[Any], late_s: float) -> Any:
    """Awaits one task occurrence (the task worker's `process`) and counts it: `due` for each
    one handled, `late` when it ran over a minute after its time, `missed` when it was recorded
    missed (late beyond the grace period). Deferred (quiet hours) and lost ones come back, and
    are counted then."""
    result = await run
    outcome = str(getattr(result, "outcome", ""))
    if outcome not in ("deferred", "lost"):
        TASK_OCCURRENCES.labels("due").inc()
        if outcome == "missed":
            TASK_OCCURRENCES.labels("missed").inc()
        elif late_s > LATE_AFTER_S and outcome != "refused":
            TASK_OCCURRENCES.labels("late").inc()
    return result


def sandbox_result(failed_to_run: bool, timed_out: bool, exit_code: int | None) -> None:
    outcome = "error" if failed_to_run else "timeout" if timed_out else "ok" if exit_code == 0 else "failed"
    SANDBOX_RUNS.labels(outcome).inc()


def mail_sent() -> None:
    MAIL_SENT.inc()


def mail_failed(permanent: bool) -> None:
    MAIL_FAILURES.labels("true" if permanent else "false").inc()


def stripe_events(result: str, n: int) -> None:
    if n:
        STRIPE_EVENTS.labels(_label(result)).inc(n)


# ------------------------------------------------------------------ agent turns and providers

F = TypeVar("F", bound=Callable[..., Any])


def instrument_turn(fn: F) -> F:
    """Decorates an agent-turn async generator (runtime.run_turn, runtime.respond): counts the
    turn by channel and outcome, times its first text, and gives its log lines one id."""
    from vopix.core import log_format
    from vopix.core.kinds import TurnEventKind

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        channel = _label(kwargs.get("channel", "web"))
        started = time.perf_counter()
        outcome = "failed"
        first = True
        token = log_format.bind_if_unset("turn")
        try:
            async for event in fn(*args, **kwargs):
                if event.kind == TurnEventKind.TEXT and first:
                    first = False
                    TURN_FIRST_TOKEN.labels(channel).observe(time.perf_counter() - started)
                elif event.kind == TurnEventKind.DONE:
                    outcome = "stopped" if event.data.get("stopped") else "complete"
                elif event.kind == TurnEventKind.ERROR:
                    outcome = "notice"  # quota, no provider, provider failure: told to the person
                yield event
        except GeneratorExit:
            outcome = "abandoned" if outcome == "failed" else outcome
            raise
        finally:
            TURNS.labels(channel, outcome).inc()
            log_format.unbind(token)

    return wrapper  # type: ignore[return-value]


class _TimedProvider:
    """A provider whose streams are timed to their first event and whose errors are counted."""

    def __init__(self, inner: Any, kind: str) -> None:
        self._inner = inner
        self._kind = _label(kind)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        started = time.perf_counter()
        first = True
        try:
            async for event in self._inner.stream(*args, **kwargs):
                if first:
                    first = False
                    PROVIDER_LATENCY.labels(self._kind).observe(time.perf_counter() - started)
                yield event
        except GeneratorExit:
            raise
        except Exception as exc:
            PROVIDER_ERRORS.labels(self._kind, _label(type(exc).__name__)).inc()
            raise


def instrument_provider(provider: Any, kind: str) -> Any:
    return _TimedProvider(provider, kind)


# ------------------------------------------------------------------ scrape time
# The database collector and the exposition (vopix/core/metrics_scrape.py), under these names.
from vopix.core.metrics_scrape import DatabaseCollector, names, render, sample  # noqa: E402

__all__ = ["DatabaseCollector", "names", "render", "sample"]
