"""Structured logs (issue 17): one JSON object per line when VOPIX_LOG_FORMAT=json (plain text
stays the default for local use), each line carrying the id of the request, webhook event or
agent turn that caused it.

The id lives in a context variable: the HTTP middleware binds one per request or socket
("req-..." / "ws-..."), the channel worker one per inbound event ("evt-...", derived from the
channel and the provider's delivery id, so the webhook that stored an event and the turn that
answers it share it), and an agent turn that has no event id binds its own ("turn-...").
`asyncio.to_thread` and new tasks copy the context, so the id follows the work into threads.

The scrubbing of vopix/core/log_scrub.py still applies: it rewrites each record when it is
created, before any formatter sees it; the JSON formatter scrubs what it adds once more.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import logging
import os
import random
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from vopix.core import log_scrub

_event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("vopix_event_id", default=None)
Token = contextvars.Token
F = TypeVar("F", bound=Callable[..., Any])
_MARK = "_vopix_event_factory"
_lock = threading.Lock()


def current() -> str | None:
    return _event_id.get()


def new_id(prefix: str) -> str:
    """A correlation id, unique but not secret: drawn from the `random` module's generator
    (seeded from the OS at start and again in each forked child), not from os.urandom. One
    getrandom() system call per request cost ~50 us of CPU per webhook on the loaded machine
    (bench/observability.py: +13 % on a 0.4 ms request), against ~1 us here."""
    return f"{prefix}-{random.getrandbits(48):012x}"


def event_id_for(channel: str, external_id: str) -> str:
    """The id of one inbound delivery (stable: the webhook and the worker compute the same)."""
    digest = hashlib.sha256(f"{channel}:{external_id}".encode()).hexdigest()[:12]
    return f"evt-{channel[:2]}-{digest}"


def bind(value: str) -> Token[str | None]:
    return _event_id.set(value)


def bind_new(prefix: str) -> Token[str | None]:
    return _event_id.set(new_id(prefix))


def bind_if_unset(prefix: str) -> Token[str | None] | None:
    """A turn's id: kept when an inbound event's id is bound already, new otherwise."""
    value = _event_id.get()
    if value is not None and value.startswith("evt-"):
        return None
    return _event_id.set(new_id(prefix))


def unbind(token: Token[str | None] | None) -> None:
    if token is not None:
        try:
            _event_id.reset(token)
        except ValueError:  # reset from another context (a generator closed elsewhere)
            _event_id.set(None)


def with_event_id(key: Callable[..., tuple[str, str]]) -> Callable[[F], F]:
    """Decorates a coroutine function that handles one inbound event: its lines (and those of
    the threads and tasks it starts) carry the event's id; `key(*args)` gives (channel, id)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = bind(event_id_for(*key(*args, **kwargs)))
            try:
                return await fn(*args, **kwargs)
            finally:
                unbind(token)

        return wrapper  # type: ignore[return-value]

    return decorate


def fmt() -> str:
    value = os.environ.get("VOPIX_LOG_FORMAT", "text").strip().lower()
    return "json" if value == "json" else "text"


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, event_id (and exc for a traceback), one object a line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event_id = getattr(record, "event_id", None) or _event_id.get()
        if event_id:
            out["event_id"] = event_id
        if record.exc_info and record.exc_info[0] is not None:
            out["exc"] = log_scrub.scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            out["exc"] = log_scrub.scrub(record.exc_text)
        if record.stack_info:
            out["stack"] = log_scrub.scrub(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def _stamp_factory(previous: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.event_id = _event_id.get()
        return record

    setattr(factory, _MARK, True)
    return factory


def _all_handlers() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    known = list(logging.Logger.manager.loggerDict.values())
    loggers += [lg for lg in known if isinstance(lg, logging.Logger)]
    return [h for lg in loggers for h in list(lg.handlers)]


def install(stream: Any = None) -> None:
    """Stamp every record with the current id and, in JSON mode, format every handler's lines
    as JSON (a root handler on stderr is added when there is none). Idempotent: call it at
    import and again in each worker's lifespan (servers reconfigure logging per worker)."""
    with _lock:
        current_factory = logging.getLogRecordFactory()
        if not getattr(current_factory, _MARK, False):
            logging.setLogRecordFactory(_stamp_factory(current_factory))
        log_scrub.install()  # the scrubber wraps outermost: it sees the finished record
        if fmt() != "json":
            return
        root = logging.getLogger()
        if not root.handlers:
            handler = logging.StreamHandler(stream or sys.stderr)
            root.addHandler(handler)
            if root.level == logging.WARNING:
                root.setLevel(logging.INFO)
        formatter = JsonFormatter()
        for handler in _all_handlers():
            if not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(formatter)
        log_scrub.install()  # the new handler gets the scrub filter too
