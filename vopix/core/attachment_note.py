"""The note a message carries about its attachments, made and read here only: one line per
file at the end of the person's text, ``Attached: inbox/2026-12-02 photo.jpg (image/jpeg,
120 KB)``, which the agent reads (and can follow with its file tools) and the chat shows as a
list of files. Plain text functions: history (titles) and the pages use them without the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

NOTE_PREFIX = "Attached: "
_NOTE_LINE = re.compile(r"^Attached: (?P<path>inbox/.+) \((?P<type>[^,()]+), (?P<size>[^()]+)\)$")


@dataclass(frozen=True)
class Attachment:
    """A saved attachment as the message names it."""

    path: str
    content_type: str
    size_text: str

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


def note(attachments: Iterable[Attachment]) -> str:
    return "\n".join(f"{NOTE_PREFIX}{a.path} ({a.content_type}, {a.size_text})" for a in attachments)


def with_note(text: str, attachments: Iterable[Attachment]) -> str:
    """The message as stored and as the model reads it: the person's text, then one line per
    attachment."""
    lines = note(attachments)
    text = (text or "").strip()
    if not lines:
        return text
    return f"{text}\n\n{lines}" if text else lines


def split_note(content: str) -> tuple[str, list[Attachment]]:
    """The person's text and the attachments named at the end of a stored message."""
    lines = (content or "").split("\n")
    found: list[Attachment] = []
    while lines and (m := _NOTE_LINE.match(lines[-1])):
        found.append(Attachment(m["path"], m["type"], m["size"]))
        lines.pop()
    if not found:
        return content, []
    return "\n".join(lines).rstrip(), found[::-1]


def title_text(content: str) -> str:
    """What a conversation's title is made of: the person's text, or the files' names when
    they sent files alone."""
    text, files = split_note(content)
    return text if text.strip() or not files else ", ".join(a.name for a in files)
