"""Account standing: a suspended or deleting account cannot log in, and none of its sessions
resolves; suspending ends every session at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from vopix.core import account_standing, accounts, sessions
from vopix.db import session_scope
from vopix.models import User


def _set(user_id: int, **values: object) -> None:
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        for key, value in values.items():
            setattr(user, key, value)
        s.add(user)


def test_a_new_account_is_active(make_user) -> None:
    user_id, _, _ = make_user()
    assert account_standing.standing_of(user_id) == "active"
    assert account_standing.is_active(user_id)
    assert account_standing.standing_of(user_id + 999) is None
    assert not account_standing.is_active(user_id + 999)


def test_suspend_ends_every_session_and_login_is_refused_with_the_support_address(
    make_user, settings_env
) -> None:
    settings_env(VOPIX_SUPPORT_EMAIL="help@vopix.example")
    user_id, email, password = make_user()
    token_a, _ = sessions.start_session(user_id)
    token_b, _ = sessions.start_session(user_id)

    assert account_standing.suspend(user_id, "  spam   reports ")
    assert account_standing.standing_of(user_id) == "suspended"
    assert sessions.resolve(token_a) is None
    assert sessions.resolve(token_b) is None
    assert sessions.refresh(token_a) is None
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None and user.suspended_reason == "spam reports"

    with pytest.raises(accounts.AccountError, match=r"suspended\. Write to help@vopix\.example"):
        accounts.check_credentials(email, password)
    # A wrong password is told the usual way: a guess learns nothing about the standing.
    with pytest.raises(accounts.AccountError, match="Email or password is incorrect"):
        accounts.check_credentials(email, "not-the-password-1")

    assert account_standing.unsuspend(user_id)
    assert account_standing.is_active(user_id)
    assert accounts.check_credentials(email, password).id == user_id
    assert sessions.resolve(token_a) is None  # the ended sessions stay ended: log in afresh


def test_suspension_needs_a_reason_and_an_account(make_user) -> None:
    user_id, _, _ = make_user()
    with pytest.raises(account_standing.StandingError, match="reason"):
        account_standing.suspend(user_id, "   ")
    with pytest.raises(account_standing.StandingError, match="under 300"):
        account_standing.suspend(user_id, "x" * 301)
    assert account_standing.is_active(user_id)
    assert account_standing.suspend(user_id + 999, "no one") is False
    assert account_standing.unsuspend(user_id + 999) is False


def test_a_deleting_account_is_refused_with_the_restore_date(make_user) -> None:
    user_id, email, password = make_user()
    token, _ = sessions.start_session(user_id)
    purge_after = datetime(2026, 12, 9, 4, 40, tzinfo=UTC)
    _set(user_id, deletion_requested_at=purge_after - timedelta(days=7), purge_after=purge_after)
    assert account_standing.standing_of(user_id) == "deleting"
    # Even a session that was not ended (it always is, by the deletion) does not resolve.
    assert sessions.resolve(token) is None
    with pytest.raises(
        accounts.AccountError,
        match=r"being deleted\. The email we sent has a link to restore it until 2026-12-09 04:40 UTC",
    ):
        accounts.check_credentials(email, password)


def test_the_filter_keeps_only_accounts_in_good_standing(make_user) -> None:
    active, _, _ = make_user()
    suspended, _, _ = make_user()
    deleting, _, _ = make_user()
    account_standing.suspend(suspended, "abuse")
    _set(deleting, deletion_requested_at=datetime.now(UTC))
    with session_scope() as s:
        ids = set(s.exec(select(User.id).where(account_standing.active_user_filter())).all())
        in_sub = set(s.exec(select(User.id).where(User.id.in_(account_standing.active_user_ids()))).all())  # type: ignore[union-attr]
    assert ids == in_sub == {active}
