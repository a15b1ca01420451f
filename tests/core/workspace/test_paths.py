"""Path validation: a table of hostile names, each refused with a clear message and no change."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.core.workspace.conftest import chunk_count
from vopix.core.workspace import store
from vopix.core.workspace.base import NotFound
from vopix.core.workspace.paths import MAX_DEPTH, PathError, normalize_path, path_key
from vopix.db import session_scope
from vopix.models import WorkspaceEntry

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


# Characters that show as nothing or as a plain space, so that two names could look the same.
# Each is refused with a message that names it.
LOOKALIKE = [
    ("a\u200db.md", "U+200D (zero width joiner)"),
    ("family 👨\u200d👩\u200d👧.md", "U+200D (zero width joiner)"),  # emoji ZWJ sequences too
    ("a\u200cb.md", "U+200C (zero width non-joiner)"),
    ("tag\U000e0041.md", "U+E0041 (tag latin capital letter a)"),
    ("tag\U000e007f.md", "U+E007F (cancel tag)"),
    ("tag\U000e0000.md", "U+E0000"),  # reserved: no name to show
    ("flag 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f.md", "U+E0067 (tag latin small letter g)"),
    ("\u3164.md", "U+3164 (hangul filler)"),
    ("a\u115fb.md", "U+115F (hangul choseong filler)"),
    ("a\u1160b.md", "U+1160 (hangul jungseong filler)"),
    ("a\uffa0b.md", "U+FFA0 (halfwidth hangul filler)"),
    ("\u2800.md", "U+2800 (braille pattern blank)"),
    ("a\U0001d159b.md", "U+1D159 (musical symbol null notehead)"),
    ("heart ❤\ufe0f.md", "U+FE0F (variation selector-16)"),
    ("a\ufe00b.md", "U+FE00 (variation selector-1)"),
    ("a\U000e0100b.md", "U+E0100 (variation selector-17)"),
    ("soft\u00adhyphen.md", "U+00AD (soft hyphen)"),
    ("a\u034fb.md", "U+034F (combining grapheme joiner)"),
    ("a\u180eb.md", "U+180E (mongolian vowel separator)"),
    ("a\u180bb.md", "U+180B (mongolian free variation selector one)"),
    ("a\u17b4b.md", "U+17B4 (khmer vowel inherent aq)"),
    ("word\u2060joiner.md", "U+2060 (word joiner)"),
    ("a\u2064b.md", "U+2064 (invisible plus)"),
    ("a\u206fb.md", "U+206F (nominal digit shapes)"),
    ("\ufeffbom.md", "U+FEFF (zero width no-break space)"),
    ("a\ufff0b.md", "U+FFF0"),
    ("a\U0001bca0b.md", "U+1BCA0 (shorthand format letter overlap)"),
    ("a\U0001d173b.md", "U+1D173 (musical symbol begin beam)"),
    ("a\ufff9b.md", "U+FFF9 (interlinear annotation anchor)"),  # a format character, not ignorable
    ("line\u2028sep.md", "U+2028 (line separator), which looks like a space or a line break"),
    ("para\u2029sep.md", "U+2029 (paragraph separator)"),
    ("no\u00a0break.md", "U+00A0 (no-break space), which looks like a space"),
    ("wide\u3000space.md", "U+3000 (ideographic space)"),
    ("narrow\u202fspace.md", "U+202F (narrow no-break space)"),
    ("em\u2003space.md", "U+2003 (em space)"),
    ("hair\u200aspace.md", "U+200A (hair space)"),
    ("ogham\u1680space.md", "U+1680 (ogham space mark)"),
    ("math\u205fspace.md", "U+205F (medium mathematical space)"),
    ("folder\u200d/notes.md", "U+200D (zero width joiner)"),  # in a folder name too
]


@pytest.mark.parametrize(("raw", "message"), LOOKALIKE, ids=[ascii(r)[:40] for r, _ in LOOKALIKE])
def test_invisible_and_space_like_characters_are_refused_by_name(raw: str, message: str) -> None:
    with pytest.raises(PathError) as err:
        normalize_path(raw)
    assert message in str(err.value)


def _snapshot(user_id: int) -> tuple:
    with session_scope() as s:
        entries = s.exec(select(WorkspaceEntry.path).where(WorkspaceEntry.user_id == user_id)).all()
    return sorted(entries), chunk_count(), store.usage(user_id).bytes_used


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


# One of each kind that older releases accepted (see the test of older names below).
NEWLY_REFUSED = [
    "a\u200db.md", "tag\U000e0041.md", "\u3164.md", "\u2800.md", "heart ❤\ufe0f.md",
    "line\u2028sep.md", "no\u00a0break.md", "wide\u3000space.md", "folder\u200d/notes.md",
]  # fmt: skip


@pytest.mark.parametrize("raw", NEWLY_REFUSED, ids=lambda v: ascii(v)[:30])
def test_nothing_gets_an_invisible_name_and_nothing_changes(ws_user: int, raw: str) -> None:
    before = _snapshot(ws_user)
    for action in (
        lambda: store.write_text(ws_user, raw, "x"),
        lambda: store.make_folder(ws_user, raw),
        lambda: store.append_text(ws_user, raw, "x"),
        lambda: store.move(ws_user, "README.md", raw),
        lambda: store.begin_write(ws_user, raw),
    ):
        with pytest.raises(PathError, match="U\\+"):
            action()
    with pytest.raises(NotFound):  # looked up, not refused: see the test of older names below
        store.delete(ws_user, raw)
    assert _snapshot(ws_user) == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("notes.md", "notes.md"),
        ("Projects/2024 plan/budget v2.xlsx", "Projects/2024 plan/budget v2.xlsx"),
        ("cafe\u0301.md", "café.md"),  # decomposed (macOS) becomes composed
        ("日本語/メモ.txt", "日本語/メモ.txt"),
        ("emoji 🎉.md", "emoji 🎉.md"),
        ("📄 report.md", "📄 report.md"),
        ("🇫🇷 voyage/🇯🇵.md", "🇫🇷 voyage/🇯🇵.md"),  # flags are regional indicator letters
        ("👍🏽 ok.md", "👍🏽 ok.md"),  # skin tone modifiers are visible characters
        ("Straße.md", "Straße.md"),
        ("Привет/Ελληνικά.md", "Привет/Ελληνικά.md"),
        ("مرحبا/שלום.md", "مرحبا/שלום.md"),
        ("हिन्दी/ภาษาไทย.md", "हिन्दी/ภาษาไทย.md"),  # virama and Thai vowels are visible marks
        ("한국어 메모.txt", "한국어 메모.txt"),
        ("\u1112\u1161\u11ab.md", "한.md"),  # Hangul jamo (not the fillers) compose
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


def test_a_file_named_before_the_rule_can_still_be_read_renamed_and_deleted(ws_user: int) -> None:
    old_name = "family 👨\u200d👩\u200d👧.md"
    store.write_text(ws_user, "family.md", "photos")
    with session_scope() as s:  # stored under a name that an earlier release accepted
        entry = s.exec(select(WorkspaceEntry).where(WorkspaceEntry.path == "family.md")).one()
        entry.path, entry.path_key = old_name, path_key(old_name)
        s.add(entry)
    assert store.read_text(ws_user, old_name)[1] == "photos"
    with pytest.raises(PathError, match="U\\+200D"):  # but nothing new gets such a name
        store.write_text(ws_user, old_name, "other")
    store.move(ws_user, old_name, "family photos.md")
    assert store.read_text(ws_user, "family photos.md")[1] == "photos"
    store.move(ws_user, "family photos.md", "album/family photos.md")
    with session_scope() as s:
        entry = s.exec(select(WorkspaceEntry).where(WorkspaceEntry.path == "album/family photos.md")).one()
        entry.path, entry.path_key = "album/" + old_name, path_key("album/" + old_name)
        s.add(entry)
    store.move(ws_user, "album", "photos")  # a folder moves with an old name inside it
    assert store.delete(ws_user, "photos/" + old_name) == (1, len("photos"))
