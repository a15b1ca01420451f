"""Outbound text handling for chat channels: splitting and markdown conversion.

Pipelines:

* Telegram: split the *markdown* with :func:`split_for_telegram` (UTF-16 aware), then
  convert each part with :func:`markdown_to_telegram_html` and send it with
  ``parse_mode="HTML"``. The visible length of the HTML is never larger than the
  markdown it came from, so every part stays within Telegram's limit.
  :func:`telegram_chunks` does both steps.
* WhatsApp: convert first with :func:`markdown_to_whatsapp` (links grow into
  ``text (url)``), then split with :func:`split_message`. :func:`whatsapp_chunks`
  does both steps.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

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
class _Segment:
    text: str
    code: bool
    open_line: str = ""
    close_line: str = ""
    body: str = ""
    info: str = ""


def _segments(text: str) -> list[_Segment]:
    """Cut ``text`` into prose and fenced-code segments (joined by one newline)."""
    lines = text.split("\n")
    segments: list[_Segment] = []
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
            segments.append(_Segment("\n".join(prose), code=False))
            prose = []
        closed = j < len(lines)
        segments.append(
            _Segment(
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
        segments.append(_Segment("\n".join(prose), code=False))
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


def _split_code(seg: _Segment, limit: int, length: LengthFn) -> list[str]:
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
    for idx, seg in enumerate(_segments(text)):
        if idx:
            pending += "\n"
        if seg.code:

            def code_splitter(_t: str, seg: _Segment = seg) -> list[str]:
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


# --------------------------------------------------------------------------- inline markdown

_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_BACKSLASH = re.compile(r"\\([\\`*_{}\[\]()#+\-.!~>|<])")
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(\s*<?([^()\s<>]+)>?\s*\)")
_BOLD_ITALIC = re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_ITALIC = re.compile(
    r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])"
    r"|(?<![_\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![_\w])"
)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(.*)$")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.-]{1,32}")


def _safe_url(url: str) -> str | None:
    """Return ``url`` if it is an absolute http(s) URL without dangerous characters."""
    if any(ch in url for ch in '"<>\\`') or any(ord(ch) < 0x21 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


class _Inline:
    """Inline markdown renderer; subclasses decide the output syntax."""

    def escape(self, text: str) -> str:
        return text

    def code(self, text: str) -> str:
        raise NotImplementedError

    def link(self, label: str, url: str) -> str:
        raise NotImplementedError

    def wrap(self, kind: str, inner: str) -> str:
        raise NotImplementedError

    def render(self, text: str) -> str:
        store: list[str] = []
        out = self._render(text.replace("\x00", ""), store)
        while _PLACEHOLDER.search(out):
            out = _PLACEHOLDER.sub(lambda m: store[int(m.group(1))], out)
        return out

    def _render(self, text: str, store: list[str]) -> str:
        def hold(rendered: str) -> str:
            store.append(rendered)
            return f"\x00{len(store) - 1}\x00"

        text = _CODE_SPAN.sub(lambda m: hold(self.code(m.group(2))), text)
        text = _BACKSLASH.sub(lambda m: hold(self.escape(m.group(1))), text)

        def link(m: re.Match[str]) -> str:
            label = self._render(m.group(1), store)
            url = _safe_url(m.group(2))
            return hold(self.link(label, url) if url else label)

        text = _LINK.sub(link, text)
        for pattern, kind in (
            (_BOLD_ITALIC, "bold_italic"),
            (_BOLD, "bold"),
            (_STRIKE, "strike"),
            (_ITALIC, "italic"),
        ):

            def span(m: re.Match[str], kind: str = kind) -> str:
                inner = next(g for g in m.groups() if g is not None)
                return hold(self.wrap(kind, self._render(inner, store)))

            text = pattern.sub(span, text)
        return self.escape(text)

    def line(self, line: str) -> str:
        if _RULE.match(line):
            return "———"  # never longer than the rule it replaces
        heading = _HEADING.match(line)
        if heading:
            # The whole line becomes bold: unwrap inner bold to avoid nesting <b> in <b>.
            content = _BOLD.sub(lambda m: m.group(1) or m.group(2), heading.group(1))
            return self.wrap("bold", self.render(content)) if content else ""
        bullet = _BULLET.match(line)
        if bullet:
            return f"{bullet.group(1)}• {self.render(bullet.group(2))}"
        return self.render(line)


class _TelegramInline(_Inline):
    _TAGS: ClassVar[dict[str, str]] = {"bold": "b", "italic": "i", "strike": "s"}

    def escape(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def code(self, text: str) -> str:
        return f"<code>{self.escape(text)}</code>"

    def link(self, label: str, url: str) -> str:
        return f'<a href="{self.escape(url).replace(chr(34), "&quot;")}">{label}</a>'

    def wrap(self, kind: str, inner: str) -> str:
        if kind == "bold_italic":
            return f"<b><i>{inner}</i></b>"
        tag = self._TAGS[kind]
        return f"<{tag}>{inner}</{tag}>"


class _WhatsAppInline(_Inline):
    _MARKS: ClassVar[dict[str, str]] = {"bold": "*", "italic": "_", "strike": "~"}

    def code(self, text: str) -> str:
        return f"```{text}```"

    def link(self, label: str, url: str) -> str:
        return url if label.strip() == url else f"{label} ({url})"

    def wrap(self, kind: str, inner: str) -> str:
        if kind == "bold_italic":
            return f"*_{inner}_*"
        mark = self._MARKS[kind]
        return f"{mark}{inner}{mark}"


_TG = _TelegramInline()
_WA = _WhatsAppInline()


def markdown_to_telegram_html(md: str) -> str:
    """Convert common markdown to Telegram ``parse_mode="HTML"`` text.

    Supported: ``**bold**``/``__bold__``, ``*italic*``/``_italic_``, ``~~strike~~``,
    inline code, fenced code (``<pre><code class="language-x">``), ``[text](url)``
    for http/https URLs only (other schemes keep just the text), headings as bold
    lines, ``-``/``*``/``+`` bullets as ``•``. Everything else is escaped, so no raw
    HTML from the model reaches Telegram.
    """
    out: list[str] = []
    for seg in _segments(md.replace("\x00", "")):
        if not seg.code:
            out.append("\n".join(_TG.line(line) for line in seg.text.split("\n")))
        elif seg.body.strip():
            lang = seg.info.split()[0] if seg.info else ""
            cls = f' class="language-{lang}"' if _LANGUAGE.fullmatch(lang) else ""
            out.append(f"<pre><code{cls}>{_TG.escape(seg.body)}</code></pre>")
    return "\n".join(out)


def markdown_to_whatsapp(md: str) -> str:
    """Convert common markdown to WhatsApp formatting.

    ``*bold*``, ``_italic_``, ``~strike~``, ```` ```mono``` ````; links become
    ``text (url)`` (http/https only; other schemes keep just the text); headings
    become bold lines and bullets ``•``.
    """
    out: list[str] = []
    for seg in _segments(md.replace("\x00", "")):
        if not seg.code:
            out.append("\n".join(_WA.line(line) for line in seg.text.split("\n")))
        elif seg.body.strip():
            out.append(f"```\n{seg.body}\n```")
    return "\n".join(out)


def telegram_chunks(md: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Markdown -> list of Telegram HTML messages, each within ``limit`` when rendered."""
    parts = (markdown_to_telegram_html(part) for part in split_for_telegram(md, limit))
    return [html for html in parts if html]


def whatsapp_chunks(md: str, limit: int = WHATSAPP_LIMIT) -> list[str]:
    """Markdown -> list of WhatsApp-formatted messages of at most ``limit`` characters."""
    return split_message(markdown_to_whatsapp(md), limit)
