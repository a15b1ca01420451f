"""What every workspace module shares: the errors people see, the views handed to callers."""

from __future__ import annotations

import codecs
import mimetypes
from dataclasses import dataclass
from datetime import datetime


class WorkspaceError(ValueError):
    """A refusal whose message is written for the person (or the agent) to read."""


class NotFound(WorkspaceError):
    """No such file or folder in this person's workspace (another person's paths look the same)."""


class AlreadyExists(WorkspaceError):
    pass


class Conflict(WorkspaceError):
    """The file changed since it was read; the write was not made."""


class FileTooLarge(WorkspaceError):
    pass


class QuotaExceeded(WorkspaceError):
    pass


@dataclass(frozen=True)
class EntryView:
    path: str
    kind: str  # file | folder
    size: int
    content_type: str
    is_text: bool
    sha256: str
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def depth(self) -> int:
        return self.path.count("/")

    @property
    def is_folder(self) -> bool:
        return self.kind == "folder"


@dataclass(frozen=True)
class UsageView:
    bytes_used: int
    files: int
    limit_bytes: int  # 0: no limit
    max_file_bytes: int
    plan_name: str

    @property
    def percent(self) -> int:
        if not self.limit_bytes:
            return 0
        return min(100, round(self.bytes_used * 100 / self.limit_bytes))


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{int(value)} byte{'s' if int(value) != 1 else ''}"
            return f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024
    return f"{n} bytes"


_EXTRA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".py": "text/x-python",
    ".sh": "text/x-shellscript",
    ".yaml": "text/yaml",
    ".yml": "text/yaml",
    ".toml": "text/plain",
    ".ts": "text/plain",
    ".log": "text/plain",
}


def content_type_for(name: str, is_text: bool) -> str:
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    guessed = _EXTRA_TYPES.get(ext) or mimetypes.guess_type(name, strict=False)[0]
    if guessed:
        return guessed[:120]
    return "text/plain" if is_text else "application/octet-stream"


def looks_like_text(head: bytes, complete: bool) -> bool:
    """UTF-8 without NUL bytes. `complete` is False when `head` is only the start of the file,
    so a character cut at its end is not held against it."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True
