"""Password reset by mail and the "this wasn't me" link: what arrives at a real SMTP server,
and what following its link does."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.conftest import SessionsClock
from tests.fakes.smtp import FakeSMTP, Received
from vopix.core import accounts, action_tokens, password_reset, security_alerts, sessions
from vopix.core.action_tokens import TokenInvalid
from vopix.core.agent import profile
from vopix.core.clock import utcnow
from vopix.core.kinds import TokenPurpose
from vopix.core.mail import worker
from vopix.db import session_scope
from vopix.models import MailOutbox, User

pytestmark = pytest.mark.asyncio

NEW_PASSWORD = "lantern-quietly-93-moss"
RESET_SUBJECT = "Reset your VOPIX password"
ALERT_SUBJECT = "VOPIX security alert: password changed"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SessionsClock:
    """Links, throttles and sessions on one stopped clock."""
    c = SessionsClock(utcnow())
    for module in (password_reset, action_tokens, sessions):
        monkeypatch.setattr(module, "utcnow", c)
    return c


def _link(mail: Received, path: str = "/reset") -> str:
    match = re.search(rf"http://testserver{path}\?token=([A-Za-z0-9_-]+)", mail.text)
    assert match, mail.text
    assert f'href="{match.group(0)}"' in mail.html
    return match.group(1)


async def _mails(smtp: FakeSMTP, subject: str | None = None) -> list[Received]:
    await worker.drain()
    return [m for m in smtp.received if subject is None or m.message["Subject"] == subject]


def _queued() -> int:
    with session_scope() as s:
        return len(s.exec(select(MailOutbox.id)).all())


async def _reset_token(smtp: FakeSMTP, email: str, ip: str = "198.51.100.7") -> str:
    before = len(await _mails(smtp, RESET_SUBJECT))
    assert password_reset.request_reset(email, ip=ip) == password_reset.ANSWER
    mails = await _mails(smtp, RESET_SUBJECT)
    assert len(mails) == before + 1
    return _link(mails[-1])


@pytest.mark.promise("P16")
async def test_unknown_address_gets_the_same_answer_and_no_mail(smtp: FakeSMTP, make_user) -> None:
    make_user("ada@example.com")
    assert password_reset.request_reset("nobody@example.com") == password_reset.ANSWER
    assert password_reset.ANSWER.startswith("If an account exists for that address")
    assert await _mails(smtp) == [] and _queued() == 0


@pytest.mark.promise("P16")
async def test_the_mail_goes_to_the_account_and_its_link_sets_a_new_password(smtp: FakeSMTP, make_user) -> None:
    user_id, email, old_password = make_user("Ada@Example.com")
    assert password_reset.request_reset("  ADA@example.com ") == password_reset.ANSWER
    [mail] = await _mails(smtp)
    assert mail.rcpt_tos == ["ada@example.com"] and mail.message["Subject"] == RESET_SUBJECT
    assert "works once, for 30 minutes" in mail.text and "ada@example.com" in mail.text
    token = _link(mail)
    assert password_reset.link_problem(token, TokenPurpose.PASSWORD_RESET) == ""

    password_reset.reset_password(token, NEW_PASSWORD, NEW_PASSWORD, ip="203.0.113.9")
    assert accounts.check_credentials(email, NEW_PASSWORD).id == user_id
    with pytest.raises(accounts.AccountError):
        accounts.check_credentials(email, old_password)
    with session_scope() as s:
        stored = s.get(User, user_id)
        assert stored is not None
    # Reset, not reveal: only a bcrypt hash is kept, and no mail ever held a password.
    assert stored.password_hash.startswith("$2b$") and NEW_PASSWORD not in stored.password_hash
    assert all(NEW_PASSWORD not in m.text and old_password not in m.text for m in await _mails(smtp))


async def test_the_mail_is_in_the_persons_language(smtp: FakeSMTP, make_user) -> None:
    user_id, email, _ = make_user()
    profile.update_persona(user_id, name="Vopi", personality="", language="Spanish", timezone="UTC")
    password_reset.request_reset(email)
    [mail] = await _mails(smtp)
    assert mail.message["Subject"] == "Restablece tu contraseña de VOPIX"
    assert "Elegir una contraseña nueva" in mail.text
    _link(mail)


@pytest.mark.promise("P16")
async def test_a_link_works_once(smtp: FakeSMTP, make_user) -> None:
    _, email, _ = make_user()
    token = await _reset_token(smtp, email)
    password_reset.reset_password(token, NEW_PASSWORD, NEW_PASSWORD)
    with pytest.raises(TokenInvalid) as used:
        password_reset.reset_password(token, "another-fine-99-phrase", "another-fine-99-phrase")
    assert used.value.reason == "used"
    assert "already used" in password_reset.link_problem(token, TokenPurpose.PASSWORD_RESET)
    accounts.check_credentials(email, NEW_PASSWORD)  # the second try changed nothing


async def test_a_link_expires_after_30_minutes(smtp: FakeSMTP, make_user, clock: SessionsClock) -> None:
    _, email, password = make_user()
    token = await _reset_token(smtp, email)
    clock.advance(minutes=29)
    assert password_reset.link_problem(token, TokenPurpose.PASSWORD_RESET) == ""
    clock.advance(minutes=1, seconds=1)
    assert "expired" in password_reset.link_problem(token, TokenPurpose.PASSWORD_RESET)
    with pytest.raises(TokenInvalid) as expired:
        password_reset.reset_password(token, NEW_PASSWORD, NEW_PASSWORD)
    assert expired.value.reason == "expired"
    accounts.check_credentials(email, password)  # unchanged


async def test_a_wrong_link_is_unknown(smtp: FakeSMTP, make_user) -> None:
    _, email, _ = make_user()
    token = await _reset_token(smtp, email)
    for wrong in (token[:-2], "", "x" * 5000, token + "A"):
        with pytest.raises(TokenInvalid) as bad:
            password_reset.reset_password(wrong, NEW_PASSWORD, NEW_PASSWORD)
        assert bad.value.reason == "unknown"
        assert "not valid" in password_reset.link_problem(wrong, TokenPurpose.PASSWORD_RESET)
    # A not-me link is no reset link, nor the other way round.
    with pytest.raises(TokenInvalid):
        password_reset.not_me(token)
    assert password_reset.link_problem(token, TokenPurpose.PASSWORD_RESET) == ""


@pytest.mark.promise("P12")
@pytest.mark.promise("P16")
async def test_using_the_link_ends_every_session_clears_the_lock_and_alerts(smtp: FakeSMTP, make_user) -> None:
    user_id, email, _ = make_user()
    tokens = [sessions.start_session(user_id, ip="198.51.100.7")[0] for _ in range(2)]
    nonce = accounts.issue_login_nonce(user_id)  # a password check not yet traded for a cookie
    for _ in range(6):  # locks the account for logins
        with pytest.raises(accounts.AccountError):
            accounts.check_credentials(email, "wrong-guess-123456")
    token = await _reset_token(smtp, email)

    done = password_reset.reset_password(
        token, NEW_PASSWORD, NEW_PASSWORD, ip="203.0.113.77",
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    )
    assert done.sessions_ended == 2
    assert all(sessions.resolve(t) is None for t in tokens)
    assert accounts.redeem_login_nonce(nonce) is None
    assert accounts.check_credentials(email, NEW_PASSWORD).id == user_id  # no lock left
    [alert] = await _mails(smtp, ALERT_SUBJECT)
    assert alert.rcpt_tos == [email]
    assert "The password of your account was changed." in alert.text
    assert "From: Firefox on Linux, 203.0.113.x" in alert.text
    _link(alert, "/not-me")


async def test_a_new_link_revokes_the_earlier_one(smtp: FakeSMTP, make_user) -> None:
    _, email, _ = make_user()
    first = await _reset_token(smtp, email)
    second = await _reset_token(smtp, email)
    assert "already used, or a newer link" in password_reset.link_problem(first, TokenPurpose.PASSWORD_RESET)
    password_reset.reset_password(second, NEW_PASSWORD, NEW_PASSWORD)


async def test_three_mails_per_account_an_hour(smtp: FakeSMTP, make_user, clock: SessionsClock) -> None:
    _, email, _ = make_user()
    for _ in range(3):
        last = await _reset_token(smtp, email, ip=f"198.51.100.{len(smtp.received)}")
    assert password_reset.request_reset(email, ip="192.0.2.1") == password_reset.ANSWER
    assert len(await _mails(smtp)) == 3  # same answer, no fourth mail
    assert password_reset.link_problem(last, TokenPurpose.PASSWORD_RESET) == ""  # still works
    clock.advance(minutes=61)
    await _reset_token(smtp, email)


async def test_one_address_cannot_flood_many_accounts(smtp: FakeSMTP, make_user) -> None:
    emails = [make_user()[1] for _ in range(password_reset.IP_LIMIT + 1)]
    for email in emails:
        assert password_reset.request_reset(email, ip="192.0.2.50") == password_reset.ANSWER
    assert len(await _mails(smtp)) == password_reset.IP_LIMIT
    password_reset.request_reset(emails[-1], ip="192.0.2.51")  # another address is not held up
    assert len(await _mails(smtp)) == password_reset.IP_LIMIT + 1


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the email address"),
        ("   ", "Enter the email address"),
        ("not-an-address", "like name@example.com"),
        ("ada@example", "does not look like an email address"),
        ("Ada <ada@example.com>", "one plain email address"),
        ("a" * 250 + "@example.com", "longer than 254"),
        ("x" * 5000, "too long"),
        ("ada@example.com\r\nBcc: eve@example.com", "line break"),
        ("ada@example.com\n", "line break"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_sends_nothing(smtp: FakeSMTP, make_user, typed: str, says: str) -> None:
    make_user("ada@example.com")
    with pytest.raises(accounts.AccountError) as refused:
        password_reset.request_reset(typed)
    assert says in str(refused.value)
    assert await _mails(smtp) == [] and _queued() == 0


@pytest.mark.promise("P16")
async def test_the_new_password_follows_the_sign_up_rules(smtp: FakeSMTP, make_user) -> None:
    _, email, password = make_user()
    token = await _reset_token(smtp, email)
    for new, repeat, says in [
        ("short-1", "short-1", "at least 10 characters"),
        ("1234567890", "1234567890", "too common"),
        ("é" * 40, "é" * 40, "at most 72 bytes"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "not the same"),
    ]:
        with pytest.raises(accounts.AccountError) as refused:
            password_reset.reset_password(token, new, repeat)
        assert says in str(refused.value)
    accounts.check_credentials(email, password)  # unchanged, and the link still works:
    password_reset.reset_password(token, NEW_PASSWORD, NEW_PASSWORD)


@pytest.mark.promise("P12")
async def test_this_wasnt_me_ends_every_session_and_sends_a_reset_link(smtp: FakeSMTP, make_user) -> None:
    user_id, email, _ = make_user()
    login, _ = sessions.start_session(user_id, ip="198.51.100.7")
    with session_scope() as s:
        security_alerts.raise_alert(s, user_id, security_alerts.AlertKind.PASSWORD_CHANGED, ip="203.0.113.5")
    [alert] = await _mails(smtp, ALERT_SUBJECT)
    not_me = _link(alert, "/not-me")
    assert password_reset.link_problem(not_me, TokenPurpose.NOT_ME) == ""

    for _ in range(3):  # the reset throttle does not hold back the owner's own link
        password_reset.request_reset(email)
    done = password_reset.not_me(not_me)
    assert done.user_id == user_id and done.sessions_ended >= 1
    assert sessions.resolve(login) is None
    resets = await _mails(smtp, RESET_SUBJECT)
    assert len(resets) == 4 and resets[-1].rcpt_tos == [email]
    password_reset.reset_password(_link(resets[-1]), NEW_PASSWORD, NEW_PASSWORD)

    with pytest.raises(TokenInvalid) as used:
        password_reset.not_me(not_me)
    assert used.value.reason == "used"
    assert "already used" in password_reset.link_problem(not_me, TokenPurpose.NOT_ME)
    with pytest.raises(TokenInvalid) as wrong:
        password_reset.not_me(not_me[:-3])
    assert wrong.value.reason == "unknown"


async def test_a_this_wasnt_me_link_expires_after_7_days(smtp: FakeSMTP, make_user, clock: SessionsClock) -> None:
    user_id, _, _ = make_user()
    with session_scope() as s:
        security_alerts.raise_alert(s, user_id, security_alerts.AlertKind.PASSWORD_CHANGED)
    [alert] = await _mails(smtp, ALERT_SUBJECT)
    clock.advance(days=7, seconds=1)
    with pytest.raises(TokenInvalid) as expired:
        password_reset.not_me(_link(alert, "/not-me"))
    assert expired.value.reason == "expired"
    assert await _mails(smtp, RESET_SUBJECT) == []
