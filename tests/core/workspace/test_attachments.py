"""Attachments: saved into inbox/ under a clean dated name, metered, named in the message the
agent reads, and readable with its file tools."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.core.agent.conftest import collect
from tests.core.workspace.conftest import chunk_count
from tests.fakes.ai_provider import Reply, tool_call
from vopix.core import attachments
from vopix.core.agent import history, profile, runtime
from vopix.core.workspace import store
from vopix.core.workspace.base import FileTooLarge, QuotaExceeded

pytestmark = pytest.mark.asyncio
LATE_EVENING_UTC = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)


@dataclass
class Piece:
    filename: str
    offset: int
    data: bytes


async def stream(*files: tuple[str, bytes]):
    for name, data in files:
        yield Piece(name, 0, data)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\notes.txt", "notes.txt"),
        ("a\u202egnp.exe", "agnp.exe"),  # a right-to-left override would disguise the name
        ('what?<is>"this".txt', "whatisthis.txt"),
        ("  spaced\u00a0 out . ", "spaced out"),
        ("con.txt", "file"),  # a Windows device name
        ("", "file"),
        ("...", "file"),
    ],
)
async def test_a_senders_name_is_never_trusted_as_a_path(raw: str, expected: str) -> None:
    assert attachments.clean_name(raw) == expected


async def test_a_long_name_keeps_its_extension() -> None:
    name = attachments.clean_name("x" * 400 + ".jpeg")
    assert name.endswith(".jpeg") and len(name) <= attachments.MAX_NAME_CHARS


async def test_saved_in_inbox_under_the_persons_date_and_numbered_when_taken(ws_user: int) -> None:
    profile.update_persona(ws_user, name="Kit", personality="", language="English", timezone="Asia/Tokyo")
    first = attachments.inbox_path(ws_user, "photo.jpg", now=LATE_EVENING_UTC)
    assert first == "inbox/2026-12-03 photo.jpg"  # already the 3rd in Tokyo
    store.write_bytes(ws_user, first, b"one")
    assert attachments.inbox_path(ws_user, "photo.jpg", now=LATE_EVENING_UTC) == "inbox/2026-12-03 photo (2).jpg"
    taken = ["inbox/2026-12-03 photo (2).jpg"]
    assert attachments.inbox_path(ws_user, "PHOTO.JPG", now=LATE_EVENING_UTC, taken=taken) == (
        "inbox/2026-12-03 PHOTO (3).JPG"
    )


async def test_a_saved_attachment_counts_against_storage(ws_user: int) -> None:
    before = store.usage(ws_user)
    saved = attachments.save(ws_user, None, [b"\xff\xd8" + b"j" * 5000], default=attachments.PHOTO_NAME)
    assert saved.name.endswith(" photo.jpg") and saved.content_type == "image/jpeg"
    after = store.usage(ws_user)
    assert (after.bytes_used - before.bytes_used, after.files - before.files) == (5002, 1)


async def test_over_the_limits_nothing_is_kept_and_the_reason_is_clear(ws_user, storage_limit, settings_env) -> None:
    storage_limit(store.storage_used(ws_user) + 1000)
    before = chunk_count()
    with pytest.raises(QuotaExceeded, match="only 1000 bytes of your storage is free"):
        attachments.save(ws_user, "big.bin", [b"x" * 600, b"y" * 600])
    settings_env(VOPIX_MAX_FILE_BYTES="500")
    with pytest.raises(FileTooLarge, match="the largest file allowed is 500 bytes"):
        attachments.save(ws_user, "big.bin", [b"x" * 800])
    assert chunk_count() == before and not store.exists(ws_user, attachments.INBOX)


async def test_composer_files_each_become_a_new_inbox_file(ws_user: int) -> None:
    saved, refused = await attachments.receive(
        ws_user, stream(("notes.txt", b"first"), ("notes.txt", b"second"), ("../x.md", b"# x"))
    )
    assert refused == []
    names = [a.name.split(" ", 1)[1] for a in saved]
    assert names == ["notes.txt", "notes (2).txt", "x.md"]
    assert [store.read_text(ws_user, a.path)[1] for a in saved] == ["first", "second", "# x"]


async def test_the_note_round_trips_through_the_stored_message(ws_user: int) -> None:
    files = [attachments.Attachment("inbox/2026-12-02 photo (2).jpg", "image/jpeg", "120 KB"),
             attachments.Attachment("inbox/2026-12-02 a.pdf", "application/pdf", "3 MB")]
    content = attachments.with_note("Look at these", files)
    assert content == (
        "Look at these\n\nAttached: inbox/2026-12-02 photo (2).jpg (image/jpeg, 120 KB)\n"
        "Attached: inbox/2026-12-02 a.pdf (application/pdf, 3 MB)"
    )
    assert attachments.split_note(content) == ("Look at these", files)
    assert attachments.split_note("Attached: my thoughts (long, sorry)") == (
        "Attached: my thoughts (long, sorry)", []
    )


async def test_the_agent_is_told_and_reads_the_file_with_its_tools(agent_user, fake_ai) -> None:
    saved, _ = await attachments.receive(agent_user, stream(("list.txt", b"milk\neggs\n")))
    fake_ai.script(tool_call("read_file", {"path": saved[0].path}), Reply("You need milk and eggs."))
    await collect(runtime.run_turn(agent_user, attachments.with_note("What is on it?", saved)))
    sent = json.dumps(fake_ai.requests[0].body["messages"], ensure_ascii=False)
    assert f"Attached: {saved[0].path} (text/plain, 10 bytes)" in sent
    results = [m["content"] for m in fake_ai.requests[-1].body["messages"] if m["role"] == "tool"]
    assert "milk\neggs" in results[0]
    [conv] = history.list_conversations(agent_user)
    page, _ = history.messages_page(agent_user, conv.id)
    assert attachments.split_note(page[0].content)[1] == saved


async def test_the_conversation_title_leaves_the_attachment_lines_out(ws_user: int) -> None:
    files = [attachments.Attachment("inbox/2026-12-02 photo.jpg", "image/jpeg", "120 KB")]
    first = history.create_conversation(ws_user)
    history.add_message(ws_user, first.id, "user", attachments.with_note("Where was this taken?", files))
    alone = history.create_conversation(ws_user)
    history.add_message(ws_user, alone.id, "user", attachments.with_note("", files))
    titles = {c.id: c.title for c in history.list_conversations(ws_user)}
    assert (titles[first.id], titles[alone.id]) == ("Where was this taken?", "2026-12-02 photo.jpg")
