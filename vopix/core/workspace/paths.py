"""Workspace paths: validated and normalised before anything touches the store.

A path is relative to the person's workspace, uses `/` between folders, and is stored in Unicode
NFC so that the same name typed on macOS (decomposed) and elsewhere (composed) is one file. The
rules also keep every name portable: a zip of the workspace unpacks on Windows, macOS and Linux.
A refused path raises PathError with a message meant for the person (or the agent) to read.
"""

from __future__ import annotations

import re
import unicodedata

from vopix.core.workspace.base import WorkspaceError

MAX_PATH_BYTES = 1024
MAX_NAME_BYTES = 255
MAX_DEPTH = 16
# Characters Windows refuses in file names; allowing them would make exports unpackable there.
_WINDOWS_FORBIDDEN = set('<>:"|?*')
# Unicode's Default_Ignorable_Code_Point: characters that render as nothing, so a name holding one
# looks exactly like the name without it ("a\u200db.md" and "ab.md"). unicodedata has no such
# property; these ranges are copied from DerivedCoreProperties.txt, Unicode 17.0
# (https://www.unicode.org/Public/17.0.0/ucd/DerivedCoreProperties.txt). Emoji ZWJ sequences
# (U+200D) and emoji presentation selectors (U+FE0F) are refused with the rest: a joiner allowed
# for emoji could hide a character between any two others.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero width space, non-joiner, joiner; direction marks
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidirectional isolates
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors 1-16
    (0xFEFF, 0xFEFF),  # zero width no-break space (byte order mark)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol beams and phrases
    (0xE0000, 0xE0FFF),  # tag characters, variation selectors 17-256, reserved
)
# Refused by earlier releases already, so no stored name holds them: refused even when looking
# up what is stored (see `existing` below).
_ALWAYS_REFUSED = {
    "\u200b", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff",
    "\u061c", "\u00ad", "\u180e", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",
}  # fmt: skip
# Not default-ignorable, yet drawn as blank space.
_BLANK_LOOKING = {"\u2800", "\U0001d159"}  # Braille pattern blank, musical null notehead
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


class PathError(WorkspaceError):
    """A path the workspace refuses; the message says why, in plain words."""


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name.lower()})" if name else "")


def _is_default_ignorable(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _DEFAULT_IGNORABLE)


def _check_character(ch: str, existing: bool) -> None:
    if ch == "\x00":
        raise PathError("The path contains a NUL character, which is not allowed.")
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cs"):
        raise PathError(f"The path contains an invisible or control character ({_describe(ch)}).")
    if ch.isascii() or (existing and ch not in _ALWAYS_REFUSED):
        return
    if cat == "Cf" or ch in _BLANK_LOOKING or _is_default_ignorable(ord(ch)):
        raise PathError(
            f"The path contains an invisible character ({_describe(ch)}), which would let two names "
            "look the same. Remove it."
        )
    if cat in ("Zs", "Zl", "Zp"):  # U+0020 is ASCII and passed above
        raise PathError(
            f"The path contains {_describe(ch)}, which looks like a space or a line break but is "
            "not a plain space. Use an ordinary space."
        )


def _check_name(name: str, original: str) -> None:
    if name in (".", ".."):
        raise PathError(f"“{original}”: “{name}” is not allowed as a name (no going up or across folders).")
    if name.strip() == "":
        raise PathError(f"“{original}”: a name cannot be only spaces.")
    if name != name.strip():
        raise PathError(f"“{original}”: “{name}” starts or ends with a space; remove it.")
    if name.endswith("."):
        raise PathError(f"“{original}”: “{name}” ends with a dot, which Windows cannot keep.")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise PathError(f"“{original[:60]}…”: a name is limited to {MAX_NAME_BYTES} bytes.")
    if _RESERVED.match(name):
        raise PathError(f"“{original}”: “{name}” is a reserved device name on Windows; choose another.")


def normalize_path(raw: str, *, allow_root: bool = False, existing: bool = False) -> str:
    """The canonical form of a workspace path, or PathError. `allow_root` accepts "" (the whole
    workspace) for listing and zips. `existing` is for finding what is already stored (reading,
    moving away, deleting): it lets through the invisible characters that older releases
    accepted, so that a file named then can still be opened, renamed or deleted."""
    if not isinstance(raw, str):
        raise PathError("A path must be text.")
    if raw == "":
        if allow_root:
            return ""
        raise PathError("Give a file or folder name.")
    for ch in raw:
        _check_character(ch, existing)
    if "\\" in raw:
        raise PathError(f"“{raw}”: use / between folders, not a backslash.")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:(/|$)", raw):
        raise PathError(f"“{raw}”: paths are relative to your workspace; remove the leading “/” or drive.")
    bad = sorted({ch for ch in raw if ch in _WINDOWS_FORBIDDEN})
    if bad:
        shown = " ".join(bad)
        raise PathError(f"“{raw}”: these characters are not allowed in names: {shown}")
    path = unicodedata.normalize("NFC", raw)
    parts = path.split("/")
    if any(p == "" for p in parts):
        raise PathError(f"“{raw}”: the path has an empty folder name (“//” or a trailing “/”).")
    if len(parts) > MAX_DEPTH:
        raise PathError(f"“{raw[:60]}…”: folders can be nested at most {MAX_DEPTH} deep.")
    for part in parts:
        _check_name(part, raw)
    if len(path.encode("utf-8")) > MAX_PATH_BYTES or len(path_key(path).encode("utf-8")) > MAX_PATH_BYTES:
        raise PathError(f"“{raw[:60]}…”: a path is limited to {MAX_PATH_BYTES} bytes.")
    return path


def path_key(path: str) -> str:
    """Case-insensitive identity of a (normalised) path: two paths with the same key are one."""
    return unicodedata.normalize("NFC", path.casefold())


def parent_of(path: str) -> str:
    return path.rpartition("/")[0]


def name_of(path: str) -> str:
    return path.rpartition("/")[2]


def ancestors(path: str) -> list[str]:
    """"a/b/c.txt" -> ["a", "a/b"] (outermost first)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def is_within(path_key_: str, folder_key: str) -> bool:
    """Is this key the folder itself or inside it (keys, not display paths)?"""
    return folder_key == "" or path_key_ == folder_key or path_key_.startswith(folder_key + "/")
