"""What the fake Telegram Bot API checks in what it is sent, as the real one does: HTML with
parse_mode, message length, inline keyboards. Raises ApiError (an error answer)."""

from __future__ import annotations

import html
import re
from typing import Any

_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
     "a", "code", "pre", "blockquote", "tg-emoji"}
)
_HTML_TOKEN = re.compile(
    r"<(?P<end>/?)(?P<tag>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>[^<>]*)>"
    r"|&(?P<entity>lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});"
    r"|(?P<bad>[<&])"
)


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def html_to_plain(text: str) -> str:
    """Validate Telegram HTML and return the visible text (raises ApiError 400)."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _HTML_TOKEN.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        offset = len(text[: m.start()].encode("utf-8"))
        if m.group("bad") == "<":
            raise ApiError(400, "Bad Request: can't parse entities: Unsupported start tag"
                                 f" at byte offset {offset}")
        if m.group("bad") == "&":
            raise ApiError(400, "Bad Request: can't parse entities: Character '&' is reserved"
                                 f" at byte offset {offset}")
        if m.group("entity"):
            out.append(html.unescape(m.group(0)))
            continue
        tag = m.group("tag").lower()
        if tag not in _HTML_TAGS:
            kind = "end" if m.group("end") else "start"
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported {kind} tag '
                                 f'"{tag}" at byte offset {offset}')
        if not m.group("end"):
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            raise ApiError(400, "Bad Request: can't parse entities: Unexpected end tag"
                                 f" at byte offset {offset}")
    if stack:
        raise ApiError(400, "Bad Request: can't parse entities: Can't find end tag"
                             f' corresponding to start tag "{stack[-1]}"')
    out.append(text[pos:])
    return "".join(out)


def inline_keyboard(params: dict[str, Any]) -> dict[str, Any] | None:
    """A sendMessage/edit call's inline keyboard, checked as Telegram does (callback_data 1-64
    bytes); None when the call has none."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not str(button.get("text") or "").strip():
            raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not (isinstance(data, str) and 1 <= len(data.encode()) <= 64):
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if data is None and not button.get("url"):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: Field"
                                 " \"url\" must be of type String")
    return {"inline_keyboard": rows} if rows else None

def message_text(params: dict[str, Any]) -> str:
    """A sendMessage/edit call's visible text, checked as Telegram does (HTML, 4096 units)."""
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    parse_mode = str(params.get("parse_mode") or "")
    plain = html_to_plain(text) if parse_mode.upper() == "HTML" else text
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(plain.encode("utf-16-le", errors="surrogatepass")) // 2 > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return plain
