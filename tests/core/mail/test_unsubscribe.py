"""Unsubscribe links and mail choices (P12, P13): signed links that name one person and one
kind, survive a vault key rotation, cannot be forged or bent to another person or kind."""

from __future__ import annotations

import base64
import os
import secrets

import pytest

from tests.fakes.smtp import FakeSMTP
from vopix.core import security_alerts
from vopix.core.kinds import MailKind
from vopix.core.mail import preferences, unsubscribe, worker
from vopix.db import session_scope

pytestmark = pytest.mark.asyncio


def _new_key(kid: str) -> str:
    return f"{kid}:" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.mark.promise("P13")
async def test_product_news_goes_only_to_those_who_opted_in_and_can_be_unsubscribed(
    smtp: FakeSMTP, make_user
) -> None:
    user_id, email, _ = make_user()
    assert preferences.choices(user_id).product_news is False  # off by default
    with session_scope() as s:
        assert preferences.queue_optional(s, user_id, MailKind.PRODUCT_NEWS, "test", public_url="x") is None
    preferences.set_choice(user_id, MailKind.PRODUCT_NEWS, True)
    with session_scope() as s:
        assert preferences.queue_optional(s, user_id, MailKind.PRODUCT_NEWS, "test", public_url="x")
    await worker.drain()
    [got] = smtp.wait_for(1)
    assert got.rcpt_tos == [email]
    link = got.message["List-Unsubscribe"][1:-1]
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    preferences.unsubscribe_by_link(link.split("?t=", 1)[1])
    assert preferences.choices(user_id).product_news is False


@pytest.mark.promise("P12")
async def test_security_alerts_have_no_unsubscribe_and_cannot_be_turned_off(smtp: FakeSMTP, make_user) -> None:
    user_id, _, _ = make_user()
    with pytest.raises(preferences.ChoiceRefused, match="cannot be turned off"):
        preferences.set_choice(user_id, MailKind.SECURITY, False)
    with pytest.raises(ValueError):
        unsubscribe.token_for(user_id, MailKind.SECURITY)
    with session_scope() as s:
        security_alerts.raise_alert(s, user_id, security_alerts.AlertKind.PASSWORD_CHANGED)
    await worker.drain()
    [got] = smtp.wait_for(1)
    assert got.message["List-Unsubscribe"] is None and got.message["List-Unsubscribe-Post"] is None
    assert "unsubscribe" not in got.text.lower()
    assert preferences.choices(user_id).security is True


@pytest.mark.promise("P13")
async def test_a_link_turns_off_its_own_kind_for_its_own_person_only(make_user) -> None:
    ada, _, _ = make_user()
    bob, _, _ = make_user()
    for uid in (ada, bob):
        preferences.set_choice(uid, MailKind.PRODUCT_NEWS, True)
    target = preferences.unsubscribe_by_link(unsubscribe.token_for(ada, MailKind.QUOTA))
    assert (target.user_id, target.kind) == (ada, MailKind.QUOTA)
    assert preferences.choices(ada) == preferences.MailChoices(quota=False, product_news=True)
    assert preferences.choices(bob) == preferences.MailChoices(quota=True, product_news=True)
    preferences.unsubscribe_by_link(unsubscribe.token_for(ada, MailKind.QUOTA))  # again: harmless
    preferences.set_choice(ada, MailKind.QUOTA, True)  # and back on, from the account page
    assert preferences.choices(ada).quota is True


def _swap(token: str, part: int, value: str) -> str:
    parts = token.split(".")
    parts[part] = value
    return ".".join(parts)


@pytest.mark.promise("P13")
async def test_forged_altered_and_bent_tokens_are_refused(make_user) -> None:
    ada, _, _ = make_user()
    bob, _, _ = make_user()
    good = unsubscribe.token_for(ada, MailKind.QUOTA)
    signature = good.split(".")[2]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = [
        "", "garbage", good + "x", good[:-1], good.replace(".", "-"),
        _swap(good, 0, str(bob)),  # ada's signature, bob's id
        _swap(good, 1, "product_news"),  # quota's signature, another kind
        _swap(good, 1, "security"),  # a kind that has no link at all
        _swap(good, 2, flipped),
        _swap(good, 2, base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()),
        f" {good}", good + "\n",
    ]
    for token in forged:
        with pytest.raises(unsubscribe.BadLink):
            preferences.unsubscribe_by_link(token)
    assert preferences.choices(ada).quota is True and preferences.choices(bob).quota is True


async def test_tokens_name_no_address_and_last(make_user) -> None:
    user_id, email, _ = make_user()
    token = unsubscribe.token_for(user_id, MailKind.QUOTA)
    assert email.split("@")[0] not in token and "@" not in token
    assert token == unsubscribe.token_for(user_id, MailKind.QUOTA)  # no expiry, no state per mail
    assert unsubscribe.url_for(user_id, MailKind.QUOTA) == f"http://testserver/unsubscribe?t={token}"


async def test_links_made_under_an_old_vault_key_work_after_rotation(settings_env, make_user) -> None:
    user_id, _, _ = make_user()
    old_key = os.environ["VOPIX_VAULT_KEY"]
    sent_last_year = unsubscribe.token_for(user_id, MailKind.QUOTA)
    settings_env(VOPIX_VAULT_KEY=_new_key("test2"), VOPIX_VAULT_OLD_KEYS=old_key)
    assert unsubscribe.token_for(user_id, MailKind.QUOTA) != sent_last_year  # new mail, new key
    assert unsubscribe.read(sent_last_year) == unsubscribe.Target(user_id, MailKind.QUOTA)
    preferences.unsubscribe_by_link(sent_last_year)
    assert preferences.choices(user_id).quota is False
    # Once the old key leaves the keyring, so do its links.
    settings_env(VOPIX_VAULT_OLD_KEYS="")
    with pytest.raises(unsubscribe.BadLink):
        unsubscribe.read(sent_last_year)


async def test_a_link_of_a_deleted_account_is_refused(make_user) -> None:
    from vopix.models import User

    user_id, _, _ = make_user()
    token = unsubscribe.token_for(user_id, MailKind.QUOTA)
    with session_scope() as s:
        s.delete(s.get(User, user_id))
    with pytest.raises(unsubscribe.BadLink, match="no longer exists"):
        preferences.unsubscribe_link(token)
    with pytest.raises(unsubscribe.BadLink, match="no longer exists"):
        preferences.unsubscribe_by_link(token)
