"""Skill files: the front matter that names and describes a skill."""

from __future__ import annotations

from vopix.core.workspace import skills, store
from vopix.core.workspace.skills import parse_front_matter

SKILL = """---
name: Trip planner
description: "Plan a trip: dates, budget, bookings."
---
# Trip planner
"""


def test_front_matter_parsing() -> None:
    fields, body = parse_front_matter(SKILL)
    assert fields == {"name": "Trip planner", "description": "Plan a trip: dates, budget, bookings."}
    assert body.startswith("# Trip planner")
    assert parse_front_matter("# no front matter\nname: x") == ({}, "# no front matter\nname: x")
    assert parse_front_matter("---\nname: unterminated\n") == ({}, "---\nname: unterminated\n")


def test_skills_are_found_only_as_skill_md_one_folder_down(ws_user: int) -> None:
    store.write_text(ws_user, "skills/a/SKILL.md", "---\nname: alpha\ndescription: first\n---\n")
    store.write_text(ws_user, "skills/b/skill.md", "no front matter at all")
    store.write_text(ws_user, "skills/c/deeper/SKILL.md", "---\nname: too-deep\n---\n")
    store.write_text(ws_user, "skills/SKILL.md", "---\nname: too-shallow\n---\n")
    store.write_bytes(ws_user, "skills/d/SKILL.md", b"\x00\x01binary")
    found = {s.name: s.description for s in skills.list_skills(ws_user)}
    assert found == {
        "alpha": "first",
        "b": "(no description: add one to its SKILL.md)",
        "meeting-notes": "Turn rough meeting notes into a short summary with decisions and action items.",
    }
    assert skills.find_skill(ws_user, "B").path == "skills/b/skill.md"


def test_a_long_memory_keeps_its_newest_notes(ws_user: int) -> None:
    lines = "".join(f"- note {i}\n" for i in range(5000))
    store.write_text(ws_user, "MEMORY.md", lines)
    memory = skills.read_memory(ws_user)
    assert memory.startswith("(…older notes left out") and memory.endswith("- note 4999")
    assert len(memory) < skills.MEMORY_MAX_CHARS + 100
