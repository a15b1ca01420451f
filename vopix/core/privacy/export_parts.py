"""What goes into an export: a registry of parts, each a name in the ZIP, a sentence for the
README and a writer.

A feature that stores something about a person adds its part once, at install time:

    from vopix.core.privacy.export_parts import register_export_part

    def _write_tasks(w: ExportWriter) -> None:
        w.write_json("tasks.json", {"tasks": iter_my_rows(w.user_id)})

    register_export_part("tasks.json", _write_tasks, "your scheduled tasks and their runs")

Rules for a writer: read the person's rows in batches (`keyset` below), never a whole table;
write through `w` (`write_json` streams iterators as arrays, `write_csv`, `open` for bytes);
call `w.tick()` inside long loops; never write a secret (tokens, keys, password hashes, vault
ciphertexts, single-use link tokens): tests/core/privacy/test_export_secrets.py greps for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from vopix.core.privacy.export_zip import ExportWriter
from vopix.db import session_scope

BATCH = 500


@dataclass(frozen=True)
class ExportPart:
    name: str  # the file or folder in the ZIP ("conversations/", "usage.csv")
    write: Callable[[ExportWriter], None]
    describe: str  # one line of README.txt


_PARTS: list[ExportPart] = []


def register_export_part(name: str, writer: Callable[[ExportWriter], None], describe: str) -> None:
    """Add a part to every export from now on (idempotent by name; order of registration is
    the order in the ZIP and the README)."""
    if all(p.name != name for p in _PARTS):
        _PARTS.append(ExportPart(name, writer, describe))


def parts() -> list[ExportPart]:
    return list(_PARTS)


def keyset(query: Select[Any], key: InstrumentedAttribute[Any], batch: int = BATCH) -> Iterator[Any]:
    """The rows of `query` in `key` order, `batch` at a time, each batch in a short session of
    its own (no transaction stays open for the whole export, and memory holds one batch).
    `key` must be unique (a primary key); the query must not be ordered or limited already."""
    last: Any = None
    while True:
        q = query.order_by(key).limit(batch)
        if last is not None:
            q = q.where(key > last)
        with session_scope() as s:
            rows = list(s.execute(q).all())
        if not rows:
            return
        yield from rows
        last = getattr(rows[-1], key.key)
        if len(rows) < batch:
            return
