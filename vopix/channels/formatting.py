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
from typing import ClassVar
from urllib.parse import urlsplit

from vopix.channels.splitting import (
    TELEGRAM_LIMIT,
    WHATSAPP_LIMIT,
    segments,
    split_for_telegram,
    split_message,
    utf16_len,
)

__all__ = [
    "TELEGRAM_LIMIT",
    "WHATSAPP_LIMIT",
    "markdown_to_telegram_html",
    "markdown_to_whatsapp",
    "split_for_telegram",
    "split_message",
    "telegram_chunks",
    "utf16_len",
    "whatsapp_chunks",
]


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
    for seg in segments(md.replace("\x00", "")):
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
    for seg in segments(md.replace("\x00", "")):
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
