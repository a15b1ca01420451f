"""Turning what a person types into a full-text query, the same way for every search, and
showing where a found text matches.

Only word characters survive, so neither FTS5 nor tsquery syntax can be injected; each word
matches as a prefix ("tomat" finds "tomatoes"). The snippet of a hit is cut here, in Python,
the same way on SQLite and PostgreSQL: a window of the text that always holds the first match,
split into plain and marked parts so the page can show the marks as elements (never as markup
built from the message's text).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 12
SNIPPET_CHARS = 140  # the longest snippet, ellipses aside
CONTEXT_BEFORE = 40  # at most this much text before the first match


@dataclass(frozen=True)
class Part:
    """A piece of a snippet: plain text, or a word that matched the query."""

    text: str
    marked: bool


def query_words(query: str | None) -> list[str]:
    return _WORD.findall(query or "")[:MAX_WORDS]


def fts5_match(words: list[str]) -> str:
    """SQLite FTS5: every word, as a quoted prefix."""
    return " ".join(f'"{w}"*' for w in words)


def prefix_tsquery(words: list[str]) -> str:
    """PostgreSQL to_tsquery: every word, as a prefix."""
    return " & ".join(f"{w}:*" for w in words)


def fold(word: str) -> str:
    """Case and accents folded away, as FTS5's `remove_diacritics` tokenizer compares."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS) -> list[Part]:
    """A one-line window of `text` (at most `width` characters plus ellipses) around its first
    word that starts with one of `words`, with every such word marked. Without a match the
    window is the start of the text."""
    flat = " ".join(text.split())
    prefixes = [p for p in (fold(w) for w in words) if p]
    spans = [
        (m.start(), m.end())
        for m in _WORD.finditer(flat)
        if any(fold(m.group()).startswith(p) for p in prefixes)
    ]
    start, end = _window(flat, spans[0] if spans else None, width)
    parts: list[Part] = []
    if start > 0:
        parts.append(Part("… ", False))
    at = start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        if a > at:
            parts.append(Part(flat[at:a], False))
        parts.append(Part(flat[a:b], True))
        at = b
    if end > at:
        parts.append(Part(flat[at:end], False))
    if end < len(flat):
        parts.append(Part(" …", False))
    return _merged(parts)


def _window(flat: str, first: tuple[int, int] | None, width: int) -> tuple[int, int]:
    if len(flat) <= width:
        return 0, len(flat)
    if first is None:
        start = 0
    else:
        a, b = first
        # Some text before the match, never so much that the match itself falls out; near
        # the end of the text, more of it before the match.
        start = max(0, min(max(a - CONTEXT_BEFORE, b - width), len(flat) - width))
        if start > 0:  # begin on a word
            space = flat.find(" ", start, a)
            start = space + 1 if space != -1 else start
    end = min(len(flat), start + width)
    if end < len(flat):  # end on a word, after the match
        keep = first[1] if first is not None and first[1] > start else start
        space = flat.rfind(" ", keep, end)
        end = space if space > keep else end
    return start, end


def _merged(parts: list[Part]) -> list[Part]:
    out: list[Part] = []
    for p in parts:
        if out and out[-1].marked == p.marked and not p.marked:
            out[-1] = Part(out[-1].text + p.text, False)
        else:
            out.append(p)
    return out


def plain(parts: list[Part]) -> str:
    return "".join(p.text for p in parts)
