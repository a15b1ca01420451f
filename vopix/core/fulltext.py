"""Turning what a person types into a full-text query, the same way for every search.

Only word characters survive, so neither FTS5 nor tsquery syntax can be injected; each word
matches as a prefix ("tomat" finds "tomatoes").
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 12


def query_words(query: str | None) -> list[str]:
    return _WORD.findall(query or "")[:MAX_WORDS]


def fts5_match(words: list[str]) -> str:
    """SQLite FTS5: every word, as a quoted prefix."""
    return " ".join(f'"{w}"*' for w in words)


def prefix_tsquery(words: list[str]) -> str:
    """PostgreSQL to_tsquery: every word, as a prefix."""
    return " & ".join(f"{w}:*" for w in words)
