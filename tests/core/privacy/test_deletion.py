"""Deleting an account (P29): password, then at once sessions end, chats unlinked, services
revoked, Stripe cancelled, login refused; a restore link in the mail undoes it in the grace
period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.core.mail.helpers import mailed_token
from tests.core.privacy.deletion_helpers import connect_github, fill_account
from vopix.core import account_standing, accounts, sessions
from vopix.core.action_tokens import TokenInvalid
from vopix.core.agent import profile
from vopix.core.clock import local_time, utcnow
from vopix.core.integrations import connections
from vopix.core.kinds import MailKind
from vopix.core.privacy import deletion
from vopix.db import session_scope
from vopix.models import ActionToken, ChannelLink, MailOutbox, Secret, User
from vopix.settings import get_settings, load_settings


def _subscribe(fake, user_id: int) -> str:
    from vopix.core.billing import checkout

    url = checkout.start_checkout(user_id, "pro")
    cs_id = url.rsplit("/", 1)[-1]
    fake.complete_checkout(cs_id)
    return str(fake.checkout_sessions[cs_id]["subscription"])


@pytest.mark.promise("P29")
def test_deleting_ends_everything_at_once_and_refuses_login(make_user, github, stripe_fake) -> None:
    user_id, email, password = make_user()
    profile.update_persona(user_id, name="Vopi", personality="", language="English", timezone="Europe/Lisbon")
    sub_id = _subscribe(stripe_fake, user_id)
    fill_account(user_id, email, github=github)
    [gh_token] = [t for t in github.tokens if t.startswith("gho_")]
    token_a, _ = sessions.start_session(user_id)
    token_b, _ = sessions.start_session(user_id)

    done = deletion.request_deletion(user_id, password)

    assert done.notes == ()
    assert done.purge_after - utcnow() > timedelta(days=6, hours=23)  # 7 days by default
    assert sessions.resolve(token_a) is None and sessions.resolve(token_b) is None
    assert account_standing.standing_of(user_id) == "deleting"
    with pytest.raises(accounts.AccountError, match=r"being deleted.*restore it until"):
        accounts.check_credentials(email, password)
    assert gh_token in github.revoked
    assert connections.list_connections(user_id) == {}
    assert stripe_fake.subscriptions[sub_id]["status"] == "canceled"
    with session_scope() as s:
        assert s.exec(select(ChannelLink).where(ChannelLink.user_id == user_id)).all() == []
        assert s.exec(select(Secret).where(Secret.user_id == user_id, Secret.purpose.startswith("integration"))).all() == []  # type: ignore[attr-defined]
        mail = s.exec(select(MailOutbox).where(MailOutbox.to_address == email,
                                               MailOutbox.kind == MailKind.ACCOUNT)).one()
    assert mail.subject == "Your VOPIX account is being deleted"
    assert "/restore-account?token=" in mail.text_body
    assert "stay disconnected" in mail.text_body
    assert local_time(done.purge_after, "Europe/Lisbon") in mail.text_body  # the person's zone
    # The data waits for the purge.
    assert accounts.get_user(user_id) is not None


@pytest.mark.promise("P29")
def test_a_wrong_password_changes_nothing_and_is_throttled_like_login(make_user) -> None:
    user_id, _email, password = make_user()
    token, _ = sessions.start_session(user_id)
    with pytest.raises(accounts.AccountError, match="current password is not correct"):
        deletion.request_deletion(user_id, "not-my-password-1")
    assert account_standing.is_active(user_id) and sessions.resolve(token) is not None
    for _ in range(get_settings().login_max_failures - 1):
        with pytest.raises(accounts.AccountError):
            deletion.request_deletion(user_id, "not-my-password-1")
    # Locked now: even the right password is refused for a while, as at login.
    with pytest.raises(accounts.LoginThrottled, match="Too many failed attempts"):
        deletion.request_deletion(user_id, password)
    assert account_standing.is_active(user_id) and sessions.resolve(token) is not None
    with session_scope() as s:
        assert s.exec(select(MailOutbox).where(MailOutbox.kind == MailKind.ACCOUNT)).all() == []


@pytest.mark.promise("P29")
def test_the_restore_link_undoes_it_once_and_the_person_logs_in_afresh(make_user, github) -> None:
    user_id, email, password = make_user()
    connect_github(github, user_id)
    old, _ = sessions.start_session(user_id)
    deletion.request_deletion(user_id, password)
    token = mailed_token(email, "/restore-account")

    assert deletion.restore_problem(token) == ""
    restored = deletion.restore(token)
    assert (restored.user_id, restored.email) == (user_id, email)
    assert account_standing.is_active(user_id)
    assert accounts.check_credentials(email, password).id == user_id
    assert sessions.resolve(old) is None  # no old session comes back
    assert connections.list_connections(user_id) == {}  # services stay disconnected

    with pytest.raises(TokenInvalid) as used:
        deletion.restore(token)
    assert "already used" in deletion.RESTORE_PROBLEMS[used.value.reason]
    assert "already used" in deletion.restore_problem(token)
    with pytest.raises(TokenInvalid) as unknown:
        deletion.restore("made-up-token")
    assert "not valid" in deletion.RESTORE_PROBLEMS[unknown.value.reason]


@pytest.mark.promise("P29")
def test_a_restore_link_after_the_grace_period_is_refused(make_user) -> None:
    user_id, email, password = make_user()
    deletion.request_deletion(user_id, password)
    token = mailed_token(email, "/restore-account")
    past = utcnow() - timedelta(minutes=1)
    with session_scope() as s:
        s.exec(update(ActionToken).where(ActionToken.user_id == user_id).values(expires_at=past))  # type: ignore[call-overload]
        s.exec(update(User).where(User.id == user_id).values(purge_after=past))  # type: ignore[call-overload]
    assert "expired" in deletion.restore_problem(token)
    with pytest.raises(TokenInvalid) as expired:
        deletion.restore(token)
    assert expired.value.reason == "expired"
    assert account_standing.standing_of(user_id) == "deleting"


def test_deleting_twice_is_refused_clearly(make_user) -> None:
    user_id, _, password = make_user()
    deletion.request_deletion(user_id, password)
    with pytest.raises(deletion.DeletionError, match="already being deleted"):
        deletion.begin(user_id, grace_period=timedelta(days=1), restorable=True)


@pytest.mark.promise("P26")
@pytest.mark.parametrize(("value", "ok"), [("0", True), ("23", True), ("24", False), ("-1", False)])
def test_the_grace_period_is_refused_at_start_up_beyond_23_days(monkeypatch, value: str, ok: bool) -> None:
    monkeypatch.setenv("VOPIX_DELETION_GRACE_DAYS", value)
    if ok:
        assert load_settings().deletion_grace_days == int(value)
        return
    with pytest.raises(ValueError, match="VOPIX_DELETION_GRACE_DAYS must be between 0 and 23"):
        load_settings()


def test_the_cancelled_plan_sends_no_plan_ended_mail_to_an_account_being_deleted(make_user, stripe_fake) -> None:
    from vopix.core.billing import sync

    user_id, email, password = make_user()
    _subscribe(stripe_fake, user_id)
    sync.sync_user(user_id)
    deletion.request_deletion(user_id, password)
    result = sync.sync_user(user_id)  # what the customer.subscription.deleted webhook leads to
    assert result is not None and result.plan_id == "free"
    with session_scope() as s:
        kinds = [m.kind for m in s.exec(select(MailOutbox).where(MailOutbox.to_address == email)).all()]
    assert MailKind.BILLING not in kinds and MailKind.ACCOUNT in kinds


@pytest.mark.promise("P26")
def test_the_purge_deletes_the_stripe_customer_and_retries_while_stripe_is_away(
    make_user, stripe_fake, monkeypatch
) -> None:
    from vopix.core.billing import stripe_api
    from vopix.core.privacy import purge
    from vopix.models import BillingAccount

    user_id, _, password = make_user()
    sub_id = _subscribe(stripe_fake, user_id)
    with session_scope() as s:
        customer_id = s.get(BillingAccount, user_id).customer_id
    done = deletion.request_deletion(user_id, password)
    assert stripe_fake.subscriptions[sub_id]["status"] == "canceled"
    assert not stripe_fake.customers[customer_id].get("deleted")  # kept while it can be restored

    # Stripe away at the purge: the account waits for the next run, nothing half-done.
    monkeypatch.setattr(stripe_api, "_client", lambda key, base: stripe_api.stripe.StripeClient(
        key, base_addresses={"api": "http://127.0.0.1:9"}, max_network_retries=0))
    after = done.purge_after + timedelta(seconds=1)
    assert purge.purge_due(after) == 0
    with session_scope() as s:
        assert s.get(User, user_id) is not None
    monkeypatch.undo()

    assert purge.purge_due(after) == 1
    assert stripe_fake.customers[customer_id] == {"id": customer_id, "object": "customer", "deleted": True}
    with session_scope() as s:
        assert s.get(User, user_id) is None
