"""Export everything (issue 12): what the ZIP holds, part by part, and the mail saying it is
ready."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.core.privacy.export_helpers import json_of as j
from tests.core.privacy.export_helpers import no_export_files, read_zip, run_export, seed_account
from vopix.core.clock import local_time
from vopix.core.kinds import MailKind
from vopix.core.privacy import export, export_parts, export_worker
from vopix.db import session_scope
from vopix.models import MailOutbox

__all__ = ["no_export_files"]  # autouse fixture


@pytest.mark.promise("P28")
@pytest.mark.promise("P30")
def test_the_zip_holds_every_part_the_issue_lists(make_user) -> None:
    user_id, email, _ = make_user()
    seeded = seed_account(user_id, email)
    _, path = run_export(user_id)
    files = read_zip(path)

    base = f"conversations/{seeded.conversation_id}-trip-to-porto-trains"
    for name in ("README.txt", "account.json", "agent.json", f"{base}.json", f"{base}.md",
                 "workspace/notes/travel/porto.md", "workspace/images/pixel.bin", "integrations.json",
                 "usage.csv", "channels.json", "security.json", "billing.json", "sandbox.json", "mail.json"):
        assert name in files, name
    readme = files["README.txt"].decode()
    assert email in readme and "conversations/" in readme and "workspace/" in readme

    account = j(files, "account.json")
    assert account["email"] == email and account["plan"]["id"] == "free"
    assert account["notifications"]["quota_warnings"] is True and "signed_up_at" in account
    agent = j(files, "agent.json")
    assert (agent["name"], agent["timezone"], agent["provider_kind"], agent["model"]) == (
        "Ada's agent", "Europe/Lisbon", "openai", "gpt-test")
    assert agent["own_api_key"] == "stored (not exported)"

    conv = j(files, f"{base}.json")
    assert conv["title"] == seeded.conversation_title
    roles = [(m["role"], m["channel"]) for m in conv["messages"]]
    assert roles == [("user", "web"), ("tool", "web"), ("assistant", "telegram")]
    tool = conv["messages"][1]["tool_call"]
    assert tool == {"tool": "workspace_search", "call_id": "call_1", "arguments": {"query": "porto"}}
    assert all("time" in m for m in conv["messages"])
    md = files[f"{base}.md"].decode()
    assert "# Trip to Porto: trains?" in md and "Which train goes to Porto?" in md and "Alfa Pendular" in md

    assert files["workspace/notes/travel/porto.md"] == b"# Porto\nTrain at 9:00.\n"
    assert files["workspace/images/pixel.bin"] == bytes((i * 37 + 1) % 256 for i in range(1024))

    integrations = j(files, "integrations.json")
    [conn] = integrations["connections"]
    assert (conn["service"], conn["account"], conn["scopes"]) == ("github", "octocat", "repo")
    assert isinstance(integrations["activity"], list)

    usage = list(csv.reader(io.StringIO(files["usage.csv"].decode())))
    assert usage[0][:4] == ["day", "model", "messages", "ai_calls"] and usage[1][1:4] == ["gpt-test", "2", "3"]
    assert j(files, "channels.json")["links"][0]["external_id"] == "424242"

    security = j(files, "security.json")
    assert [e["path"] for e in security["access_log"]] == ["/chat"]  # the last 30 days only
    assert isinstance(security["sessions"], list)
    billing = j(files, "billing.json")
    assert billing["plan"] == "free" and billing["invoices"] == []
    assert j(files, "sandbox.json")["runs"][0]["stdout"] == "hello\n"


def test_the_ready_mail_links_the_privacy_page_with_the_expiry_in_the_persons_zone(make_user) -> None:
    user_id, email, _ = make_user()
    seed_account(user_id, email)  # Europe/Lisbon
    view, _ = run_export(user_id)
    with session_scope() as s:
        mails = s.exec(select(MailOutbox).where(MailOutbox.kind == MailKind.PRIVACY)).all()
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to_address == email and mail.subject == "Your VOPIX export is ready"
    assert "http://testserver/privacy" in mail.text_body
    assert view.expires_at is not None
    assert local_time(view.expires_at, "Europe/Lisbon") in mail.text_body
    assert view.expires_at - view.finished_at == timedelta(days=7)  # type: ignore[operator]


def test_progress_counts_every_part_and_the_bytes(make_user) -> None:
    user_id, email, _ = make_user()
    seed_account(user_id, email)
    view, path = run_export(user_id)
    assert view.parts_total == len(export_parts.parts()) + 1  # README first
    assert view.parts_done == view.parts_total
    assert view.bytes_written == path.stat().st_size > 0


def test_a_later_feature_adds_its_part_by_registering_it(make_user, monkeypatch) -> None:
    monkeypatch.setattr(export_parts, "_PARTS", list(export_parts._PARTS))

    def write_notes(w) -> None:
        w.write_json("sticky-notes.json", {"notes": iter([{"id": 1, "owner": w.user_id}])})

    export_parts.register_export_part("sticky-notes.json", write_notes, "your sticky notes")
    export_parts.register_export_part("sticky-notes.json", write_notes, "registered twice: once")
    user_id, _, _ = make_user()
    _, path = run_export(user_id)
    files = read_zip(path)
    assert j(files, "sticky-notes.json") == {"notes": [{"id": 1, "owner": user_id}]}
    readme = files["README.txt"].decode()
    assert "sticky-notes.json" in readme and "your sticky notes" in readme and "twice" not in readme


def test_an_empty_account_exports_too(make_user) -> None:
    user_id, email, _ = make_user()
    _, path = run_export(user_id)
    files = read_zip(path)
    assert j(files, "account.json")["email"] == email
    assert "conversations/" in files and "workspace/" in files
    assert list(csv.reader(io.StringIO(files["usage.csv"].decode())))[1:] == []


def test_a_part_that_fails_fails_the_export_cleanly_and_another_can_start(make_user, monkeypatch) -> None:
    monkeypatch.setattr(export_parts, "_PARTS", list(export_parts._PARTS))

    def broken(w) -> None:
        raise RuntimeError("disk on fire")

    export_parts.register_export_part("broken.json", broken, "breaks")
    user_id, _, _ = make_user()
    export.request_export(user_id)
    assert export_worker.drain() == 1
    view = export.latest_export(user_id)
    assert view is not None and view.status == "failed" and "could not be finished" in view.error
    assert list(export.export_dir().glob(f"export-{view.id}-*")) == []  # no partial file left
    with pytest.raises(export.ExportUnavailable, match="could not be finished"):
        export.download_path(user_id, view.id)
    again = export.request_export(user_id)  # a failed export does not block the next
    assert again.status == "queued"


@pytest.mark.promise("P17")
@pytest.mark.promise("P28")
def test_staff_looks_at_the_account_are_in_the_export_and_no_one_elses(make_user) -> None:
    from vopix.core.privacy import audit

    user_id, _, _ = make_user()
    other_id, _, _ = make_user()
    staff_id, _, _ = make_user()
    with session_scope() as s:
        audit.record(s, staff_user_id=staff_id, role="support", subject_user_id=user_id,
                     action=audit.Action.VIEW, reason="ticket 881: cannot log in")
        audit.record(s, staff_user_id=staff_id, role="support", subject_user_id=other_id,
                     action=audit.Action.VIEW, reason="ticket 882")
    _, path = run_export(user_id)
    part = j(read_zip(path), "staff_access.json")
    assert [(r["role"], r["staff_user_id"], r["action"], r["reason"]) for r in part["staff_access"]] == [
        ("support", staff_id, "view", "ticket 881: cannot log in")
    ]
    assert part["policy_notices_dismissed"] == []
