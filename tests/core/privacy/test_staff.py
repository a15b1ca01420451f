"""Staff roles, what a look shows, and the audit log the person reads (P17, P33)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from vopix.core import account_standing, vault
from vopix.core.agent import history
from vopix.core.privacy import audit, staff
from vopix.core.privacy.staff import NotStaff, StaffError
from vopix.core.workspace import entries, store
from vopix.db import session_scope
from vopix.models import AgentProfile, ChannelLink, IntegrationConnection, StaffAudit, StaffRole, User

pytestmark = pytest.mark.promise("P17")

TOKEN = "ghp_SECRETtoken0123456789abcdefSECRET"
CHAT_ID = "987654321"


def _audit_rows() -> list[StaffAudit]:
    with session_scope() as s:
        return list(s.exec(select(StaffAudit).order_by(StaffAudit.id)).all())


def seed_private_things(user_id: int) -> dict[str, str]:
    """A message, a workspace file, an integration token and a linked chat: what staff must
    never see. Returns each secret text by name."""
    conv = history.create_conversation(user_id, "Doctor")
    history.add_message(user_id, conv.id, "user", "my secret diagnosis is XYZZY-42")
    store.write_text(user_id, "notes/private.md", "file body PLUGH-77")
    secret_id = vault.put_secret(user_id, "github_token", TOKEN)
    with session_scope() as s:
        s.add(IntegrationConnection(user_id=user_id, service="github", status="connected",
                                    method="token", account="octo", access_secret_id=secret_id))
        s.add(ChannelLink(user_id=user_id, channel="telegram", external_id=CHAT_ID))
        password_hash = s.get(User, user_id).password_hash  # type: ignore[union-attr]
    return {"message": "XYZZY-42", "file": "PLUGH-77", "token": TOKEN, "chat": CHAT_ID,
            "hash": password_hash, "conversation": "Doctor"}


@pytest.fixture
def support(make_user) -> int:
    user_id, email, _ = make_user()
    staff.grant(email, "support", by="operator@host")
    return user_id


@pytest.fixture
def admin(make_user) -> int:
    user_id, email, _ = make_user()
    staff.grant(email, "admin", by="operator@host")
    return user_id


def test_roles_are_granted_revoked_and_listed_with_who_and_when(make_user) -> None:
    user_id, email, _ = make_user()
    assert staff.role_of(user_id) is None
    row = staff.grant(email, "support", by="root@ops1")
    assert (row.role, row.granted_by) == ("support", "root@ops1")
    assert staff.role_of(user_id) == "support"
    staff.grant(email, "admin", by="root@ops1")
    assert [(r.email, r.role) for r in staff.list_roles()] == [(email, "admin")]
    assert staff.revoke(email, by="root@ops2")
    assert staff.role_of(user_id) is None
    assert not staff.revoke(email, by="root@ops2")
    assert staff.list_roles() == []
    with pytest.raises(StaffError, match="role must be"):
        staff.grant(email, "owner", by="root@ops1")
    with pytest.raises(StaffError, match="no account"):
        staff.grant("nobody@example.com", "support", by="root@ops1")


def test_a_person_without_a_role_can_do_nothing_and_nothing_is_logged(make_user) -> None:
    plain, _, _ = make_user()
    other, other_email, _ = make_user()
    with pytest.raises(NotStaff):
        staff.look_up(plain, other_email, "curious")
    with pytest.raises(NotStaff):
        staff.suspend(plain, other, "because")
    with pytest.raises(NotStaff):
        staff.set_plan(plain, other, "pro", "because")
    with pytest.raises(NotStaff):
        staff.delete_child_account(plain, other, "because")
    assert account_standing.is_active(other)
    assert _audit_rows() == []


def test_a_revoked_role_stops_working_at_once(make_user, support) -> None:
    _, email, _ = make_user()
    with session_scope() as s:
        staff_email = s.get(User, support).email  # type: ignore[union-attr]
    assert staff.look_up(support, email, "ticket 1") is not None
    staff.revoke(staff_email, by="root")
    with pytest.raises(NotStaff):
        staff.look_up(support, email, "ticket 2")


def test_support_cannot_manage_plans_but_an_admin_can(make_user, support, admin) -> None:
    user_id, _, _ = make_user()
    with pytest.raises(NotStaff):
        staff.set_plan(support, user_id, "pro", "goodwill")
    assert staff.set_plan(admin, user_id, "pro", "goodwill, ticket 9") == "pro"
    with session_scope() as s:
        assert s.get(User, user_id).plan_id == "pro"  # type: ignore[union-attr]
    assert staff.set_plan(admin, user_id, None, "goodwill over") == "free"
    with pytest.raises(StaffError, match="no plan"):
        staff.set_plan(admin, user_id, "platinum", "typo")
    assert [r.detail for r in _audit_rows()] == ["comp pro, now pro", "comp removed, now free"]


def test_a_look_up_shows_metadata_only_and_is_logged_first(make_user, support) -> None:
    user_id, email, _ = make_user()
    secrets = seed_private_things(user_id)
    found = staff.look_up(support, email.upper(), "ticket 1234: cannot log in")
    assert found is not None
    assert (found.user_id, found.plan_id, found.standing) == (user_id, "free", "active")
    assert found.channels == ["telegram •••321"]
    assert found.integrations == ["github (connected)"]
    assert found.storage_bytes > 0
    shown = repr(dataclasses.asdict(found))
    for name, text in secrets.items():
        assert text not in shown, name
    [row] = _audit_rows()
    assert (row.staff_user_id, row.role, row.subject_user_id, row.action, row.reason) == (
        support, "support", user_id, "view", "ticket 1234: cannot log in")


def test_a_reason_is_required_for_every_look_and_action(make_user, support) -> None:
    user_id, email, _ = make_user()
    for call in (lambda: staff.look_up(support, email, "  "),
                 lambda: staff.suspend(support, user_id, ""),
                 lambda: staff.unsuspend(support, user_id, "\n")):
        with pytest.raises(ValueError, match="Give a reason"):
            call()
    assert _audit_rows() == []
    assert account_standing.is_active(user_id)


def test_unknown_email_is_none_and_logs_nothing(support) -> None:
    assert staff.look_up(support, "ghost@example.com", "ticket 5") is None
    assert _audit_rows() == []


def test_suspend_and_unsuspend_are_logged_and_shown_to_the_person_in_their_zone(make_user, support) -> None:
    user_id, email, _ = make_user()
    with session_scope() as s:
        agent = s.get(AgentProfile, user_id)
        agent.timezone = "Asia/Tokyo"  # type: ignore[union-attr]
        s.add(agent)
    staff.look_up(support, email, "abuse report 77")
    staff.suspend(support, user_id, "abuse report 77")
    assert account_standing.standing_of(user_id) == "suspended"
    assert staff.summary_after_action(support, user_id).suspended_reason == "abuse report 77"  # type: ignore[union-attr]
    staff.unsuspend(support, user_id, "report was wrong")
    assert account_standing.is_active(user_id)
    looks = audit.seen_by_staff(user_id)
    assert [(x.what, x.reason) for x in looks] == [
        ("Lifted the suspension of your account", "report was wrong"),
        ("Suspended your account", "abuse report 77"),
        ("Opened your account", "abuse report 77"),
    ]
    assert all(x.who == f"Support, staff #{support}" for x in looks)
    assert all(x.when.endswith(" JST") for x in looks)


def test_staff_cannot_suspend_themselves(support) -> None:
    with pytest.raises(StaffError):
        staff.suspend(support, support, "oops")


def test_the_person_sees_only_their_own_entries(make_user, support) -> None:
    a, a_email, _ = make_user()
    b, b_email, _ = make_user()
    staff.look_up(support, a_email, "ticket a")
    staff.look_up(support, b_email, "ticket b")
    assert [x.reason for x in audit.seen_by_staff(a)] == ["ticket a"]
    assert [x.reason for x in audit.seen_by_staff(b)] == ["ticket b"]


def test_the_audit_log_cannot_be_edited_or_deleted(make_user, support) -> None:
    _, email, _ = make_user()
    staff.look_up(support, email, "ticket 1")
    with pytest.raises(audit.AuditLogIsAppendOnly), session_scope() as s:
        row = s.exec(select(StaffAudit)).one()
        row.reason = "nothing to see"
        s.add(row)
    with pytest.raises(audit.AuditLogIsAppendOnly), session_scope() as s:
        s.delete(s.exec(select(StaffAudit)).one())
    assert [r.reason for r in _audit_rows()] == ["ticket 1"]
    # Nothing in the staff modules offers to change a row.
    public = [n for n in dir(audit) + dir(staff) if not n.startswith("_")]
    assert not [n for n in public if any(w in n.lower() for w in ("edit", "update", "remove", "erase"))]


def test_audit_rows_go_with_the_person_and_stay_when_the_staff_member_goes(make_user, support) -> None:
    user_id, email, _ = make_user()
    keep_id, keep_email, _ = make_user()
    staff.look_up(support, email, "ticket 1")
    staff.look_up(support, keep_email, "ticket 2")
    with session_scope() as s:
        s.delete(s.get(User, user_id))
    assert [r.subject_user_id for r in _audit_rows()] == [keep_id]
    with session_scope() as s:
        s.delete(s.get(User, support))
    [row] = _audit_rows()
    assert row.staff_user_id is None
    assert audit.seen_by_staff(keep_id)[0].who == "Support, a former staff member"


@pytest.mark.promise("P33")
def test_support_deletes_an_account_reported_as_a_childs_at_once(make_user, support) -> None:
    pytest.importorskip("vopix.core.privacy.purge")  # engineer B's deletion
    user_id, _, _ = make_user()
    with pytest.raises(ValueError, match="Give a reason"):
        staff.delete_child_account(support, user_id, "")
    staff.delete_child_account(support, user_id, "parent wrote in, ticket 51")
    assert account_standing.standing_of(user_id) is None
    [row] = _audit_rows()
    assert (row.subject_user_id, row.action, row.staff_user_id) == (None, "delete_account", support)
    assert row.detail == f"account #{user_id}, reported as a child's"
    with pytest.raises(StaffError, match="does not exist"):
        staff.suspend(support, user_id, "again")


@pytest.mark.promise("P24")
def test_suspension_and_plan_changes_by_staff_keep_every_piece_of_the_account(make_user, admin) -> None:
    user_id, email, _ = make_user()
    seed_private_things(user_id)
    staff.look_up(admin, email, "ticket 10")
    staff.suspend(admin, user_id, "ticket 10: abuse")
    staff.set_plan(admin, user_id, "pro", "ticket 10")
    staff.set_plan(admin, user_id, None, "ticket 10")
    staff.unsuspend(admin, user_id, "ticket 10: resolved")
    [conv] = history.list_conversations(user_id)
    messages, _ = history.messages_page(user_id, conv.id)
    assert [m.content for m in messages] == ["my secret diagnosis is XYZZY-42"]
    assert entries.read_text(user_id, "notes/private.md")[1] == "file body PLUGH-77"
    with session_scope() as s:
        assert s.exec(select(IntegrationConnection).where(IntegrationConnection.user_id == user_id)).one()
        assert s.exec(select(ChannelLink).where(ChannelLink.user_id == user_id)).one().external_id == CHAT_ID


@pytest.mark.promise("P26")
def test_the_purge_leaves_no_audit_row_or_role_naming_the_purged_person(make_user, support) -> None:
    purge = pytest.importorskip("vopix.core.privacy.purge")
    user_id, email, _ = make_user()
    other, other_email, _ = make_user()
    staff.look_up(support, email, "ticket 1")
    staff.look_up(support, other_email, "ticket 2")
    assert purge.delete_now(user_id, "test")
    assert purge.delete_now(support, "staff member leaves")
    rows = _audit_rows()
    assert [(r.subject_user_id, r.staff_user_id) for r in rows] == [(other, None)]
    with session_scope() as s:
        assert s.exec(select(StaffRole)).all() == []
    assert audit.seen_by_staff(other)[0].who == "Support, a former staff member"
