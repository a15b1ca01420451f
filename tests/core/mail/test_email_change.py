"""An email change is confirmed from the new address; the old address is told, with an undo
link for 7 days (P12). Wrong, used and expired links, or an address taken meanwhile, change
nothing and say why."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.fakes.smtp import FakeSMTP, Received
from vopix.core import accounts, email_change, sessions
from vopix.core.clock import utcnow
from vopix.core.mail import worker

pytestmark = [pytest.mark.asyncio, pytest.mark.promise("P12")]


def _token(mail: Received, path: str) -> str:
    match = re.search(rf"http://testserver{path}\?token=([A-Za-z0-9_-]+)", mail.text)
    assert match, mail.text
    return match.group(1)


async def _mails_to(smtp: FakeSMTP, address: str) -> list[Received]:
    await worker.drain()
    return [m for m in smtp.received if m.rcpt_tos == [address]]


async def _asked(smtp: FakeSMTP, make_user, new: str = "new@example.com"):
    user_id, old, password = make_user()
    asked = accounts.change_email(user_id, password, new.upper())
    assert asked.new_email == new and asked.user.email == old
    [mail] = await _mails_to(smtp, new)
    assert mail.message["Subject"] == "Confirm your new VOPIX email address"
    assert f"instead of {old}" in mail.text
    return user_id, old, password, _token(mail, "/confirm-email")


async def test_the_change_waits_for_the_new_address_then_tells_the_old_one(smtp: FakeSMTP, make_user) -> None:
    user_id, old, password, token = await _asked(smtp, make_user)
    assert accounts.get_user(user_id).email == old  # nothing changed yet
    assert await _mails_to(smtp, old) == []
    _, here = sessions.start_session(user_id)
    _, elsewhere = sessions.start_session(user_id)
    done = email_change.confirm(
        token, keep_session_id=here.session_id, ip="203.0.113.5", device="Firefox on Linux"
    )
    assert (done.email, done.other_email, done.sessions_ended) == ("new@example.com", old, 1)
    assert accounts.check_credentials("new@example.com", password).id == user_id
    assert sessions.is_active(here.session_id, user_id) and not sessions.is_active(elsewhere.session_id, user_id)
    [alert] = await _mails_to(smtp, old)  # one mail: the alert, with the undo link
    assert alert.message["Subject"] == "Your VOPIX email address was changed"
    assert f"changed from {old} to new@example.com on " in alert.text
    assert "From: Firefox on Linux, 203.0.113.x" in alert.text
    assert "/undo-email?token=" in alert.text and "/not-me" not in alert.text
    with pytest.raises(email_change.EmailLinkError, match="already used"):
        email_change.confirm(token)


async def test_undo_puts_the_old_address_back_ends_every_session_and_sends_a_reset(
    smtp: FakeSMTP, make_user
) -> None:
    user_id, old, _, token = await _asked(smtp, make_user)
    email_change.confirm(token)
    [alert] = await _mails_to(smtp, old)
    _, mine = sessions.start_session(user_id)
    assert email_change.undo_preview(_token(alert, "/undo-email")) == old  # the page, before its button
    done = email_change.undo(_token(alert, "/undo-email"))
    assert done.email == old and accounts.get_user(user_id).email == old
    assert not sessions.is_active(mine.session_id, user_id)
    reset = [m for m in await _mails_to(smtp, old) if "/reset?token=" in m.text]
    assert len(reset) == 1
    with pytest.raises(email_change.EmailLinkError, match="already used"):
        email_change.undo(_token(alert, "/undo-email"))


async def test_an_address_taken_meanwhile_changes_nothing(smtp: FakeSMTP, make_user) -> None:
    user_id, old, _, token = await _asked(smtp, make_user)
    make_user("new@example.com")  # someone signed up with it before the link was opened
    with pytest.raises(email_change.EmailLinkError, match=re.escape("Another account started using new@example.com")):
        email_change.confirm(token)
    assert accounts.get_user(user_id).email == old
    assert await _mails_to(smtp, old) == []


async def test_undo_refuses_when_the_old_address_was_taken(smtp: FakeSMTP, make_user) -> None:
    user_id, old, _, token = await _asked(smtp, make_user)
    email_change.confirm(token)
    [alert] = await _mails_to(smtp, old)
    make_user(old)  # the old address is free now, and someone took it
    with pytest.raises(email_change.EmailLinkError, match=re.escape(f"Another account uses {old} now")):
        email_change.undo(_token(alert, "/undo-email"))
    assert accounts.get_user(user_id).email == "new@example.com"


async def test_expired_and_wrong_links_say_so(smtp: FakeSMTP, make_user, monkeypatch) -> None:
    user_id, old, _, token = await _asked(smtp, make_user)
    later = utcnow() + accounts.EMAIL_CONFIRM_TTL + timedelta(minutes=1)
    monkeypatch.setattr("vopix.core.action_tokens.utcnow", lambda: later)
    with pytest.raises(email_change.EmailLinkError, match="expired"):
        email_change.confirm(token)
    monkeypatch.undo()
    with pytest.raises(email_change.EmailLinkError, match="not valid"):
        email_change.confirm(token[:-2])
    with pytest.raises(email_change.EmailLinkError, match="not valid"):
        email_change.undo(token)  # a confirm link is no undo link
    assert accounts.get_user(user_id).email == old


async def test_a_newer_request_replaces_the_pending_link(smtp: FakeSMTP, make_user) -> None:
    user_id, old, password, first = await _asked(smtp, make_user)
    accounts.change_email(user_id, password, "other@example.com")
    with pytest.raises(email_change.EmailLinkError, match="already used"):
        email_change.confirm(first)
    assert accounts.get_user(user_id).email == old
