"""Splitting outbound text at a channel's length limit: paragraphs first, then lines,
sentences, words, and only then a hard cut; fenced code blocks stay whole where they fit, or
are closed and reopened around each cut."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

TELEGRAM_LIMIT = 4096
WHATSAPP_LIMIT = 4096

LengthFn = Callable[[str], int]
_Unit = tuple[str, str, Callable[[str], list[str]]]


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Telegram counts characters)."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


# --------------------------------------------------------------------------- fences

_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*?)\s*$")


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    code: bool
    open_line: str = ""
    close_line: str = ""
    body: str = ""
    info: str = ""


def segments(text: str) -> list[Segment]:
    """Cut ``text`` into prose and fenced-code segments (joined by one newline)."""
    lines = text.split("\n")
    segments: list[Segment] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match is None:
            prose.append(lines[i])
            i += 1
            continue
        fence = match.group("fence")
        closer = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closer.match(lines[j]):
            j += 1
        if prose:
            segments.append(Segment("\n".join(prose), code=False))
            prose = []
        closed = j < len(lines)
        segments.append(
            Segment(
                text="\n".join(lines[i : j + 1]),
                code=True,
                open_line=lines[i].rstrip(),
                close_line=lines[j].strip() if closed else fence,
                body="\n".join(lines[i + 1 : j]),
                info=match.group("info").strip(),
            )
        )
        i = j + 1
    if prose:
        segments.append(Segment("\n".join(prose), code=False))
    return segments


# --------------------------------------------------------------------------- splitting

_PROSE_LEVELS = (
    re.compile(r"(\n(?:[ \t]*\n)+)"),  # paragraphs
    re.compile(r"(\n)"),  # lines
    re.compile(r"((?<=[.!?\u2026])\s+|(?<=[\u3002\uff01\uff1f])\s*)"),  # sentences (+CJK)
    re.compile(r"(\s+)"),  # words
)
_LEADING_BLANK_LINES = re.compile(r"^(?:[ \t]*\n)+")


def _pack(units: list[_Unit], limit: int, length: LengthFn) -> list[str]:
    """Greedily join ``(separator, text, splitter)`` units into parts of <= limit."""
    out: list[str] = []
    cur, cur_len = "", 0
    for sep, text, splitter in units:
        text_len = length(text)
        if cur and cur_len + length(sep) + text_len <= limit:
            cur, cur_len = cur + sep + text, cur_len + length(sep) + text_len
            continue
        if cur:
            out.append(cur)
            cur, cur_len = "", 0
        if text_len <= limit:
            cur, cur_len = text, text_len
            continue
        pieces = splitter(text)
        out.extend(pieces[:-1])
        if pieces:
            cur, cur_len = pieces[-1], length(pieces[-1])
    if cur:
        out.append(cur)
    return out


def _glued(text: str, i: int) -> bool:
    """Whether cutting between ``text[i-1]`` and ``text[i]`` would break a grapheme."""
    ch, prev = text[i], text[i - 1]
    return (
        unicodedata.combining(ch) > 0
        or ch in "\u200d\ufe0e\ufe0f"
        or prev == "\u200d"
        or 0x1F3FB <= ord(ch) <= 0x1F3FF
        or (0xDC00 <= ord(ch) <= 0xDFFF)
    )


def _hard_cut(text: str, limit: int, length: LengthFn) -> list[str]:
    out: list[str] = []
    start, n = 0, len(text)
    while start < n:
        end, size = start, 0
        while end < n and size + length(text[end]) <= limit:
            size += length(text[end])
            end += 1
        end = max(end, start + 1)
        cut = end
        while start + 1 < cut < n and _glued(text, cut):
            cut -= 1
        if cut < n and _glued(text, cut):
            cut = end
        out.append(text[start:cut])
        start = cut
    return out


def _units(parts: list[str], splitter: Callable[[str], list[str]]) -> list[_Unit]:
    """Turn ``re.split`` output (text, sep, text, ...) into packable units."""
    units: list[_Unit] = []
    sep = ""
    for idx, part in enumerate(parts):
        if idx % 2:
            sep += part
        elif part:
            units.append((sep, part, splitter))
            sep = ""
    return units


def _split_prose(text: str, limit: int, length: LengthFn, level: int) -> list[str]:
    if level >= len(_PROSE_LEVELS):
        return _hard_cut(text, limit, length)

    def deeper(t: str) -> list[str]:
        return _split_prose(t, limit, length, level + 1)

    return _pack(_units(_PROSE_LEVELS[level].split(text), deeper), limit, length)


def _split_code(seg: Segment, limit: int, length: LengthFn) -> list[str]:
    """Split a fenced block on line boundaries, closing and reopening the fence."""
    overhead = length(seg.open_line) + length(seg.close_line) + 2
    budget = limit - overhead
    if budget < 8:
        return _split_prose(seg.text, limit, length, 1)

    def cut(t: str) -> list[str]:
        return _hard_cut(t, budget, length)

    units: list[_Unit] = [("\n", line, cut) for line in seg.body.split("\n")]
    pieces = _pack(units, budget, length)
    return [f"{seg.open_line}\n{piece}\n{seg.close_line}" for piece in pieces]


def split_message(text: str, limit: int = 4096, *, length: LengthFn = len) -> list[str]:
    """Split ``text`` into non-empty parts whose ``length`` is <= ``limit``.

    Boundaries are tried in order: paragraphs, lines, sentences, whitespace, and a
    hard cut (which avoids separating combining marks, ZWJ sequences and skin-tone
    modifiers). Fenced code blocks are kept whole when they fit; otherwise they are
    split on lines and every part is closed and reopened with the original fence.
    Only whitespace at the cut points is dropped. ``length`` defaults to counting
    code points; pass :func:`utf16_len` for Telegram (see :func:`split_for_telegram`).
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    units: list[_Unit] = []
    pending = ""
    for idx, seg in enumerate(segments(text)):
        if idx:
            pending += "\n"
        if seg.code:

            def code_splitter(_t: str, seg: Segment = seg) -> list[str]:
                return _split_code(seg, limit, length)

            units.append((pending, seg.text, code_splitter))
            pending = ""
            continue

        def prose_splitter(t: str) -> list[str]:
            return _split_prose(t, limit, length, 1)

        seg_units = _units(_PROSE_LEVELS[0].split(seg.text), prose_splitter)
        if seg_units:
            first_sep, first_text, first_split = seg_units[0]
            seg_units[0] = (pending + first_sep, first_text, first_split)
            pending = ""
        units.extend(seg_units)
    parts = (_LEADING_BLANK_LINES.sub("", p.rstrip()) for p in _pack(units, limit, length))
    return [p for p in parts if p.strip()]


def split_for_telegram(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """:func:`split_message` counting UTF-16 code units, as Telegram does."""
    return split_message(text, limit, length=utf16_len)


