"""Path validation: a table of hostile names, each refused with a clear message and no change."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from vopix.core.workspace import store
from vopix.core.workspace.paths import MAX_DEPTH, PathError, normalize_path, path_key
from vopix.db import session_scope
from vopix.models import WorkspaceChunk, WorkspaceEntry

HOSTILE = [
    ("..", "not allowed as a name"),
    ("../secret.txt", "not allowed as a name"),
    ("notes/../../etc/passwd", "not allowed as a name"),
    ("./notes.md", "not allowed as a name"),
    ("notes/./a.md", "not allowed as a name"),
    ("/etc/passwd", "relative to your workspace"),
    ("/notes.md", "relative to your workspace"),
    ("C:/Windows/win.ini", "relative to your workspace"),
    ("notes\\a.md", "not a backslash"),
    ("..\\..\\boot.ini", "not a backslash"),
    ("a\x00b.txt", "NUL"),
    ("notes\n.md", "control character"),
    ("tab\there.md", "control character"),
    ("bell\x07.md", "control character"),
    ("del\x7f.md", "control character"),
    ("invoice\u202efdp.exe", "invisible"),
    ("zero\u200bwidth.md", "invisible"),
    ("invoice\u061cfdp.exe", "invisible"),  # Arabic letter mark: a direction mark too
    ("word\u2060joiner.md", "invisible"),
    ("soft\u00adhyphen.md", "invisible"),
    ("", "Give a file or folder name"),
    ("a//b.md", "empty folder name"),
    ("notes/", "empty folder name"),
    ("x" * 256, "255 bytes"),
    ("é" * 128, "255 bytes"),  # 256 bytes in UTF-8, 128 characters
    ("/".join(["d"] * (MAX_DEPTH + 1)), "nested at most"),
    ("/".join(["f" * 200] * 6), "1024 bytes"),
    ("CON", "reserved device name"),
    ("nul.txt", "reserved device name"),
    ("docs/Com1.md", "reserved device name"),
    ("LPT9", "reserved device name"),
    ("trailing.", "ends with a dot"),
    ("folder./a.md", "ends with a dot"),
    ("trailing ", "starts or ends with a space"),
    (" leading.md", "starts or ends with a space"),
    ("   ", "only spaces"),
    ("what?.md", "not allowed in names: ?"),
    ("a:b.md", "not allowed in names: :"),
    ('quote".md', 'not allowed in names: "'),
    ("pipe|star*.md", "not allowed in names: * |"),
    ("<script>.md", "not allowed in names: < >"),
    ("\ud800.md", "control character"),  # a lone surrogate
]


@pytest.mark.parametrize(("raw", "message"), HOSTILE, ids=[repr(r)[:40] for r, _ in HOSTILE])
def test_hostile_paths_are_refused_with_a_clear_message(raw: str, message: str) -> None:
    with pytest.raises(PathError) as err:
        normalize_path(raw)
    assert message in str(err.value)


def _snapshot(user_id: int) -> tuple:
    with session_scope() as s:
        entries = s.exec(select(WorkspaceEntry.path).where(WorkspaceEntry.user_id == user_id)).all()
        chunks = s.exec(select(func.count()).select_from(WorkspaceChunk)).one()
    return sorted(entries), chunks, store.usage(user_id).bytes_used


@pytest.mark.parametrize(("raw", "message"), HOSTILE[:12] + HOSTILE[18:26], ids=lambda v: repr(v)[:30])
def test_a_refused_path_changes_nothing(ws_user: int, raw: str, message: str) -> None:
    before = _snapshot(ws_user)
    for action in (
        lambda: store.write_text(ws_user, raw, "x"),
        lambda: store.make_folder(ws_user, raw),
        lambda: store.append_text(ws_user, raw, "x"),
        lambda: store.move(ws_user, "README.md", raw),
        lambda: store.delete(ws_user, raw),
        lambda: store.begin_write(ws_user, raw),
    ):
        with pytest.raises(PathError, match=message.replace("?", r"\?").replace("*", r"\*")):
            action()
    assert _snapshot(ws_user) == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("notes.md", "notes.md"),
        ("Projects/2024 plan/budget v2.xlsx", "Projects/2024 plan/budget v2.xlsx"),
        ("cafe\u0301.md", "café.md"),  # decomposed (macOS) becomes composed
        ("日本語/メモ.txt", "日本語/メモ.txt"),
        ("emoji 🎉.md", "emoji 🎉.md"),
        (".hidden", ".hidden"),
        ("..dots-in-name", "..dots-in-name"),
        ("console.md", "console.md"),  # only the exact device names are reserved
        ("x" * 255, "x" * 255),
        ("/".join(["d"] * MAX_DEPTH), "/".join(["d"] * MAX_DEPTH)),
    ],
)
def test_ordinary_names_pass_and_are_normalised(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected


def test_root_only_where_allowed() -> None:
    assert normalize_path("", allow_root=True) == ""
    with pytest.raises(PathError):
        normalize_path("")


def test_unicode_forms_and_case_name_the_same_file(ws_user: int) -> None:
    store.write_text(ws_user, "Cafe\u0301.md", "v1")
    assert store.read_text(ws_user, "café.md")[1] == "v1"
    assert store.read_text(ws_user, "CAFÉ.MD")[1] == "v1"
    store.write_text(ws_user, "café.md", "v2")  # overwrites, keeps the first spelling
    names = [e.path for e in store.list_entries(ws_user) if e.path.lower().startswith("caf")]
    assert names == ["Café.md"]
    assert path_key("Straße") == path_key("STRASSE")
