"""Operator commands: `staff grant|revoke|list` and `policy publish`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from vopix.cli import main
from vopix.core.clock import utcnow
from vopix.core.privacy import staff
from vopix.db import session_scope
from vopix.models import MailOutbox, PolicyVersion, StaffRole


@pytest.mark.promise("P17")
def test_roles_are_granted_listed_and_revoked_by_the_operator_command(make_user, capsys) -> None:
    user_id, email, _ = make_user()
    assert main(["staff", "grant", "--email", email, "--role", "support"]) == 0
    assert staff.role_of(user_id) == "support"
    assert main(["staff", "list"]) == 0
    out = capsys.readouterr().out
    assert email in out and "support" in out
    with session_scope() as s:
        row = s.exec(select(StaffRole)).one()
        assert row.granted_by.startswith("operator ")
    assert main(["staff", "revoke", "--email", email]) == 0
    assert staff.role_of(user_id) is None
    assert "holds no role now" in capsys.readouterr().out
    assert main(["staff", "grant", "--email", "ghost@example.com", "--role", "admin"]) == 1
    assert "no account" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse refuses an unknown role
        main(["staff", "grant", "--email", email, "--role", "root"])


@pytest.mark.promise("P34")
def test_policy_publish_refuses_short_notice_and_publishes_with_mails(make_user, tmp_path: Path, capsys) -> None:
    make_user()
    text = tmp_path / "policy.txt"
    text.write_text("The whole policy.", encoding="utf-8")
    soon = (utcnow() + timedelta(days=5)).date().isoformat()
    # Accounts made a moment ago get the notice (they signed up before this publication).
    args = ["policy", "publish", "--file", str(text), "--summary", "Logs kept 20 days."]
    assert main([*args, "--effective", soon]) == 1
    assert "14 days' notice" in capsys.readouterr().err
    assert main([*args, "--effective", "next week"]) == 1
    assert "YYYY-MM-DD" in capsys.readouterr().err
    with session_scope() as s:
        assert s.exec(select(func.count()).select_from(PolicyVersion)).one() == 0
    assert main([*args, "--effective", soon, "--minor", "--version", "v2"]) == 0
    out = capsys.readouterr().out
    assert "published policy version v2 (minor" in out and "1 notice mail queued" in out
    with session_scope() as s:
        row = s.exec(select(PolicyVersion)).one()
        assert (row.body, row.material) == ("The whole policy.", False)
        assert row.published_by.startswith("operator ")
        assert s.exec(select(func.count()).select_from(MailOutbox).where(MailOutbox.kind == "policy")).one() == 1
