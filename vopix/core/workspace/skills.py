"""Skills and long-term notes: what the agent's system prompt says about the workspace.

A skill is a folder under skills/ with a SKILL.md whose front matter gives a name and a
description. The prompt lists only those two lines per skill (the full text would crowd the
model's context); the agent loads a skill's instructions with the load_skill tool when a
request matches. MEMORY.md at the top of the workspace is always given in full (up to a bound),
newest notes kept when it has to be cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, bindparam, func, or_, select

from vopix.core.workspace.paths import path_key
from vopix.core.workspace.storage import get_storage
from vopix.db import core, session_scope
from vopix.models import WorkspaceEntry

SKILLS_FOLDER = "skills"
SKILL_FILE = "SKILL.md"
MEMORY_FILE = "MEMORY.md"
MAX_SKILLS_IN_PROMPT = 50
MAX_DESCRIPTION_CHARS = 300
MEMORY_MAX_CHARS = 8_000
SKILL_MAX_BYTES = 256 * 1024
_ENTRY = WorkspaceEntry.__table__  # type: ignore[attr-defined]
_SKILLS_PREFIX = path_key(SKILLS_FOLDER) + "/"
_FOR_PROMPT = select(
    *(_ENTRY.c[f] for f in ("path", "path_key", "kind", "size", "is_text", "sha256", "blob_id"))
).where(
    _ENTRY.c.user_id == bindparam("u"),
    or_(
        _ENTRY.c.path_key == path_key(MEMORY_FILE),
        func.substr(_ENTRY.c.path_key, 1, len(_SKILLS_PREFIX)) == _SKILLS_PREFIX,
    ),
)


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    folder: str  # e.g. skills/meeting-notes
    path: str  # its SKILL.md


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---` / `key: value` lines / `---` at the very top; returns (fields, the rest). A small
    subset of YAML on purpose: skills are written by people, and one-line values are enough."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    fields: dict[str, str] = {}
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return fields, "\n".join(lines[i + 1 :])
        key, sep, value = line.partition(":")
        if sep and key.strip() and not line.startswith((" ", "\t", "#")):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[key.strip().lower()] = value
    return {}, text  # no closing line: not front matter


def list_skills(user_id: int) -> list[Skill]:
    return _skills_from(_prompt_entries(user_id)[0], user_id)


def _prompt_entries(user_id: int) -> tuple[list[Row[Any]], Row[Any] | None]:
    """The SKILL.md entries under skills/ (tree order) and MEMORY.md, in one query of plain
    columns: this runs for every turn's system prompt."""
    with session_scope() as s:
        rows = core(s).execute(_FOR_PROMPT, {"u": user_id}).all()
    memory = next((r for r in rows if r.path_key == path_key(MEMORY_FILE)), None)
    skill_files = []
    for r in rows:
        parts = r.path.split("/")
        if r.kind == "file" and len(parts) == 3 and path_key(parts[2]) == path_key(SKILL_FILE):
            skill_files.append(r)
    skill_files.sort(key=lambda r: r.path_key.split("/"))
    return skill_files, memory


def _skills_from(entries: list[Row[Any]], user_id: int) -> list[Skill]:
    skills = []
    for e in entries:
        if not e.is_text or e.size > SKILL_MAX_BYTES:
            continue  # what store.read_text refuses
        parts = e.path.split("/")
        name, description = _front_matter_of(user_id, e.blob_id, e.size, e.sha256)
        skills.append(
            Skill(
                (name or parts[1])[:80],
                description[:MAX_DESCRIPTION_CHARS] or "(no description: add one to its SKILL.md)",
                "/".join(parts[:2]),
                e.path,
            )
        )
    return skills


def _read(user_id: int, blob_id: str | None, size: int) -> bytes:
    return b"".join(get_storage().iter_chunks(user_id, blob_id, size)) if blob_id and size else b""


# Content is immutable per blob id (every write stores a new blob), so what a SKILL.md or
# MEMORY.md says can be kept by blob id and read from storage again only when it changes.
@lru_cache(maxsize=512)
def _front_matter_of(user_id: int, blob_id: str | None, size: int, sha256: str) -> tuple[str, str]:
    fields, _ = parse_front_matter(_read(user_id, blob_id, size).decode("utf-8", errors="replace"))
    return " ".join(fields.get("name", "").split()), " ".join(fields.get("description", "").split())


def find_skill(user_id: int, name: str) -> Skill | None:
    wanted = " ".join((name or "").split()).casefold()
    for skill in list_skills(user_id):
        if wanted in (skill.name.casefold(), skill.folder.rpartition("/")[2].casefold()):
            return skill
    return None


def read_memory(user_id: int) -> str | None:
    return _memory_from(_prompt_entries(user_id)[1], user_id)


def _memory_from(entry: Row[Any] | None, user_id: int) -> str | None:
    if entry is None or entry.kind != "file" or not entry.is_text:
        return None
    return _memory_text(user_id, entry.blob_id, entry.size, entry.sha256)


@lru_cache(maxsize=256)
def _memory_text(user_id: int, blob_id: str | None, size: int, sha256: str) -> str:
    if size <= 4 * MEMORY_MAX_CHARS:
        text = _read(user_id, blob_id, size).decode("utf-8", errors="replace")
    else:
        # Keep only the last part of a big file without holding all of it.
        tail = b""
        for chunk in get_storage().iter_chunks(user_id, blob_id or "", size):
            tail = (tail + chunk)[-4 * MEMORY_MAX_CHARS :]
        text = tail.decode("utf-8", errors="ignore")
    if len(text) > MEMORY_MAX_CHARS:
        text = "(…older notes left out; read MEMORY.md for all of them)\n" + text[-MEMORY_MAX_CHARS:]
    return text.strip()


WORKSPACE_GUIDE = """\
## Your workspace
You have a private workspace of files, shared with the person (they see it on the Workspace page \
of the web app). Use the tools list_files, read_file, search_files, write_file, append_file, \
move_file and delete_file to work with it; writing counts against the person's storage.
- skills/: each skill is a folder with a SKILL.md of instructions. When a request matches a skill \
listed below, call load_skill with its name first and follow what it says.
- scripts/: the person's scripts (see "Running scripts" below for whether you can run them). \
Never say you ran a script or know its output unless a run tool gave it to you.
- MEMORY.md: your long-term notes about the person, given to you below at the start of every \
conversation. When they tell you something worth remembering (or ask you to remember), add one \
short dated line with append_file on MEMORY.md."""


def prompt_section(user_id: int) -> str | None:
    parts = [WORKSPACE_GUIDE]
    skill_entries, memory_entry = _prompt_entries(user_id)
    skills = _skills_from(skill_entries, user_id)
    if skills:
        lines = [f"- {s.name}: {s.description}" for s in skills[:MAX_SKILLS_IN_PROMPT]]
        if len(skills) > MAX_SKILLS_IN_PROMPT:
            lines.append(f"- … and {len(skills) - MAX_SKILLS_IN_PROMPT} more (list_files on skills/)")
        parts.append("Skills available (name: description):\n" + "\n".join(lines))
    else:
        parts.append("There are no skills in the workspace yet.")
    memory = _memory_from(memory_entry, user_id)
    if memory:
        parts.append(f"Your long-term notes (MEMORY.md):\n<<<\n{memory}\n>>>")
    return "\n\n".join(parts)
