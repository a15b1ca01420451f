"""No log line holds a credential: cookies, Authorization headers, tokens, passwords, keys.

Scrubbing happens in the logging layer, on the finished message (arguments formatted in),
so it does not depend on every caller being careful: Reflex itself logs whole events with
their router headers (the session cookie among them) when an event names no handler.

`install()` puts the scrubber in a log record factory. A filter on handlers would miss the
handlers made after start-up, and granian re-runs `logging.config.dictConfig` in each worker,
which replaces them; the record factory sees every record any logger creates, whatever
handler later writes it. A `ScrubFilter` also goes on the handlers present at install time,
for records that bypass the factory (`logging.makeLogRecord`, records from other processes).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import re
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

REDACTED = "<redacted>"
_DONE = "_vopix_scrubbed"  # (msg, args) of a record once scrubbed: the filter then skips it
_MARK = "_vopix_scrub"  # set on our factory and wrappers: install() stays idempotent

# Words that make a key name secret, matched against its parts (access_token, currentPassword,
# X-Telegram-Bot-Api-Secret-Token, hub.verify_token), so "max_tokens" or "passage" are not.
_SECRET_PARTS = frozenset(
    {
        "password", "passwd", "passphrase", "secret", "token", "cookie", "authorization",
        "signature", "credential", "credentials", "apikey", "nonce",
    }
)
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("vault", "key"),
     ("signing", "key")}
)
# The session cookie's name (vopix.core.sessions.COOKIE_NAME; kept literal to import nothing).
_SECRET_NAMES = frozenset({"vopix_session"})
# Header values hold spaces and semicolons: "Cookie: a=1; b=2", "Authorization: Bearer x".
_WHOLE_LINE_PARTS = frozenset({"cookie", "authorization"})

# A key and its separator: 'key': / "key": / \"key\": / key= / key: / (b'key', b'...').
_KEY_RE = re.compile(
    r"""(?<![\w.\-\\])(?P<bq>b(?=['"]))?(?P<q>\\?["']|)(?P<key>[A-Za-z_][\w.\-]{0,63})(?P=q)"""
    r"""(?P<sep>\s*[:=]\s*|(?<=['"]),\s*)"""
)
_QUOTED_VALUE = re.compile(
    r"""b?(?:'(?P<s>(?:\\.|[^'\\])*)'|"(?P<d>(?:\\.|[^"\\])*)"|\\"(?P<e>.*?)\\")"""
)
_BARE_VALUE = re.compile(r"""[^\s&;,'"()\[\]{}<>=][^\s&;,'"()\[\]{}<>]*""")
_LINE_VALUE = re.compile(r"""[^\r\n'"]+""")
_LIST_VALUE = re.compile(r"""[^\s&;'"()\[\]{}<>=][^\s&;'"()\[\]{}<>]*""")  # t=1,v1=<sig>
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_PARTS = re.compile(r"[_.\-]+")

# Credentials recognisable by their shape wherever they appear.
_SHAPES: list[tuple[re.Pattern[str], str]] = [
    # Telegram puts the bot token in the API URL: https://api.telegram.org/bot<id>:<secret>/...
    (re.compile(r"/bot\d{3,}:[A-Za-z0-9_-]{20,}"), "/bot" + REDACTED),
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}"), REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE), r"\1 " + REDACTED),
    # Password in a URL: postgresql://user:password@host/db
    (re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@'\"]*:)[^\s@/'\"]+@"), r"\1" + REDACTED + "@"),
    # API keys and OAuth tokens by prefix: OpenAI / Anthropic, Stripe, Slack, GitHub, Google, JWT.
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{10,}"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxapp-[A-Za-z0-9-]{10,}"), REDACTED),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED),
    (re.compile(r"\bya29\.[A-Za-z0-9_-]{20,}|\bAIza[0-9A-Za-z_-]{35}|\b1//[0-9A-Za-z_-]{20,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # 32 bytes in base64: a vault key ("<id>:<base64>"), the development key file included.
    (re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])"), REDACTED),
]


@functools.lru_cache(maxsize=1024)
def is_secret_key(key: str) -> bool:
    """Whether a field, header or parameter of this name holds a credential."""
    lowered = key.lower()
    if lowered in _SECRET_NAMES:
        return True
    parts = [p for p in _PARTS.split(_CAMEL.sub(r"\1_\2", key).lower()) if p]
    if any(p in _SECRET_PARTS for p in parts):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(parts))


def _scrub_pairs(text: str) -> str:
    out: list[str] = []
    pos = 0
    search_at = 0
    while (m := _KEY_RE.search(text, search_at)) is not None:
        key = m.group("key")
        search_at = m.end()
        if not is_secret_key(key):
            continue  # the value may hold pairs of its own ('headers': {'cookie': ...})
        start = m.end()
        quoted = _QUOTED_VALUE.match(text, start)
        if quoted is not None:
            group = next(g for g in ("s", "d", "e") if quoted.group(g) is not None)
            inner_start, inner_end = quoted.span(group)
        else:
            parts = _PARTS.split(key.lower())
            if not m.group("q") and any(p in _WHOLE_LINE_PARTS for p in parts):
                bare = _LINE_VALUE.match(text, start)
            else:
                bare = (_LIST_VALUE if "signature" in parts else _BARE_VALUE).match(text, start)
            if bare is None:
                continue
            inner_start, inner_end = bare.span()
            while inner_end > inner_start and text[inner_end - 1] in " \t":
                inner_end -= 1
        if inner_end <= inner_start or text[inner_start:inner_end] == REDACTED:
            search_at = max(search_at, inner_end)
            continue
        out.append(text[pos:inner_start])
        out.append(REDACTED)
        pos = search_at = inner_end
    if pos == 0:
        return text
    out.append(text[pos:])
    return "".join(out)


_literal_cache: tuple[object, tuple[str, ...]] = (None, ())  # the settings object, its secrets


def _known_secrets() -> tuple[str, ...]:
    """The configured secrets themselves (settings fields kept out of repr), longest first."""
    global _literal_cache
    try:
        from vopix.settings import get_settings

        cfg = get_settings()
    except Exception:  # logging must never fail because the settings do
        return ()
    if _literal_cache[0] is cfg:  # kept alive here, so a new settings object is never mistaken
        return _literal_cache[1]
    found: set[str] = set()
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.repr or f.name == "database_url" or not isinstance(value, str):
            continue  # the URL's password is caught by its shape; the rest of it is no secret
        for spec in value.split(","):
            spec = spec.strip()
            found.update({spec, spec.partition(":")[2]} if f.name.startswith("vault") else {spec})
    secrets = tuple(sorted((s for s in found if len(s) >= 8), key=len, reverse=True))
    _literal_cache = (cfg, secrets)
    return secrets


def scrub(text: str) -> str:
    """`text` with every credential it holds replaced by <redacted>."""
    if not text:
        return text
    text = _scrub_pairs(text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    for secret in _known_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub_value(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


def _scrub_args(record: logging.LogRecord) -> bool:
    """Scrub argument by argument; True when that alone clears the message. Formatters such
    as uvicorn's access log unpack record.args, so their shape is worth keeping."""
    args = record.args
    if not isinstance(record.msg, str) or not args or not isinstance(args, tuple | Mapping):
        return False
    new_args: Any = (
        {k: _scrub_value(v) for k, v in args.items()}
        if isinstance(args, Mapping)
        else tuple(_scrub_value(a) for a in args)
    )
    try:
        candidate = record.msg % new_args
    except Exception:
        return False
    if scrub(candidate) != candidate:
        return False
    record.args = new_args
    return True


def scrub_record(record: logging.LogRecord) -> None:
    """Rewrite a record in place so that nothing a handler prints from it holds a secret."""
    done = getattr(record, _DONE, None)
    if done is not None and done[0] is record.msg and done[1] is record.args:
        return  # scrubbed already, and not changed since (makeLogRecord fills one in after)
    try:
        message = record.getMessage()
    except Exception:
        # A broken format would make the handler print msg and args raw: print them scrubbed.
        record.msg, record.args = scrub(f"{record.msg} {record.args!r}"), None
        message = record.msg
    clean = scrub(message)
    if clean != message and not _scrub_args(record):
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        trace = logging.Formatter().formatException(record.exc_info)
        clean_trace = scrub(trace)
        if clean_trace != trace:
            # Some handlers (Reflex's console sink) format exc_info themselves and ignore
            # exc_text, so the scrubbed traceback moves into the message.
            record.msg, record.args = f"{record.getMessage()}\n{clean_trace}", None
            record.exc_info, record.exc_text = None, None
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    setattr(record, _DONE, (record.msg, record.args))


class ScrubFilter(logging.Filter):
    """A handler filter that scrubs what reaches it (and never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


_FILTER = ScrubFilter()
_lock = threading.Lock()


def _make_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub_record(record)
        return record

    setattr(factory, _MARK, True)
    return factory


def _handlers() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    known = list(logging.Logger.manager.loggerDict.values())
    loggers += [lg for lg in known if isinstance(lg, logging.Logger)]
    return [h for lg in loggers for h in list(lg.handlers)]


def install() -> None:
    """Scrub every log record from now on. Idempotent; call it from each entry point."""
    with _lock:
        current = logging.getLogRecordFactory()
        if not getattr(current, _MARK, False):
            logging.setLogRecordFactory(_make_factory(current))
        for handler in _handlers():
            if not any(isinstance(f, ScrubFilter) for f in handler.filters):
                handler.addFilter(_FILTER)


def wrap_printers(module: ModuleType, *names: str) -> None:
    """Scrub the text arguments of print-like functions that bypass logging (Reflex's console
    module). Idempotent; a name the module lacks is skipped."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*(_scrub_value(a) for a in args), **kwargs)

        setattr(wrapper, _MARK, True)
        return wrapper

    with _lock:
        for name in names:
            fn = getattr(module, name, None)
            if callable(fn) and not getattr(fn, _MARK, False):
                setattr(module, name, wrap(fn))
