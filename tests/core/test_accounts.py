"""Sign-up, login checks, throttling and account changes."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.core.mail.helpers import mailed_token
from vopix.core import accounts, email_change
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind
from vopix.core.mail import preferences
from vopix.db import session_scope
from vopix.models import User
from vopix.settings import get_settings


@pytest.mark.promise("P01")
@pytest.mark.promise("P16")
def test_account_holds_email_bcrypt_hash_and_status_never_the_password(make_user) -> None:
    user_id, _email, password = make_user("  Alice@Example.COM ")
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        assert user.email == "alice@example.com"
        assert user.password_hash.startswith("$2b$")
        assert password not in user.password_hash
        assert user.subscription_status == "free"
        row_text = " ".join(str(v) for v in user.model_dump().values())
        assert password not in row_text


@pytest.mark.promise("P33")
def test_sign_up_requires_age_confirmation() -> None:
    with pytest.raises(accounts.AccountError, match="16 or older"):
        accounts.sign_up("kid@example.com", "a-long-enough-pass", age_confirmed=False)
    with session_scope() as s:
        assert s.exec(select(User)).first() is None


@pytest.mark.promise("P13")
def test_marketing_opt_in_defaults_off_and_can_change(make_user) -> None:
    user_id, _, _ = make_user()
    assert accounts.get_user(user_id).marketing_opt_in is False
    preferences.set_choice(user_id, MailKind.PRODUCT_NEWS, True)
    assert accounts.get_user(user_id).marketing_opt_in is True
    preferences.set_choice(user_id, MailKind.PRODUCT_NEWS, False)
    assert accounts.get_user(user_id).marketing_opt_in is False


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10"),
        ("1234567890", "too common"),
        ("aaaaaaaaaaaa", "too common"),
        ("é" * 40, "at most 72 bytes"),
        ("x" * 73, "at most 72 bytes"),
    ],
)
def test_weak_or_oversized_passwords_get_a_clear_message(password: str, message: str) -> None:
    with pytest.raises(accounts.AccountError, match=message):
        accounts.sign_up("p@example.com", password, age_confirmed=True)
    assert accounts.find_user_id("p@example.com") is None


def test_emails_are_normalised_and_unique(make_user) -> None:
    make_user("bob@example.com")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.sign_up(" BOB@example.com ", "another-good-pass", age_confirmed=True)


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "a b@c.de", "x" * 250 + "@e.com"])
def test_invalid_emails_are_refused(email: str) -> None:
    with pytest.raises(accounts.AccountError, match="valid email"):
        accounts.sign_up(email, "a-long-enough-pass", age_confirmed=True)


def test_login_unknown_email_and_wrong_password_answer_alike(make_user) -> None:
    _, email, password = make_user()
    assert accounts.check_credentials(email.upper(), password).email == email
    messages = []
    for who, pw in [(email, "wrong-password-1"), ("nobody@example.com", password)]:
        with pytest.raises(accounts.AccountError) as err:
            accounts.check_credentials(who, pw)
        messages.append(str(err.value))
    assert messages[0] == messages[1] == accounts.LOGIN_FAILED


def test_login_with_oversized_password_is_a_plain_failure(make_user) -> None:
    _, email, _ = make_user()
    with pytest.raises(accounts.AccountError, match="incorrect"):
        accounts.check_credentials(email, "x" * 500)


def test_repeated_failures_lock_the_account_for_a_while(make_user, settings_env) -> None:
    settings_env(VOPIX_LOGIN_MAX_FAILURES="3", VOPIX_LOGIN_LOCKOUT_MINUTES="15")
    _, email, password = make_user()
    for _ in range(3):
        with pytest.raises(accounts.AccountError, match="incorrect"):
            accounts.check_credentials(email, "wrong-password-x")
    with pytest.raises(accounts.LoginThrottled, match="Try again in 15 minutes"):
        accounts.check_credentials(email, password)  # even the right password waits
    # Unknown emails are throttled the same way, so the lock reveals nothing.
    for _ in range(3):
        with pytest.raises(accounts.AccountError):
            accounts.check_credentials("ghost@example.com", "whatever-pass")
    with pytest.raises(accounts.LoginThrottled):
        accounts.check_credentials("ghost@example.com", "whatever-pass")


def test_parallel_guesses_cannot_outrun_the_lock(make_user, settings_env, monkeypatch) -> None:
    """Failures used to be recorded only after the (slow) bcrypt check, so guesses sent in
    parallel (one socket each) all passed the throttle before any failure was counted."""
    from concurrent.futures import ThreadPoolExecutor

    settings_env(VOPIX_LOGIN_MAX_FAILURES="3")
    _, email, _ = make_user()
    checked = []

    def slow_wrong(password: str, password_hash: str | None) -> bool:
        checked.append(password)
        time.sleep(0.5)  # bcrypt at production cost, roughly
        return False

    monkeypatch.setattr(accounts, "verify_password", slow_wrong)

    def guess(i: int) -> str:
        try:
            accounts.check_credentials(email, f"guess-number-{i}")
        except accounts.LoginThrottled:
            return "throttled"
        except accounts.AccountError:
            return "incorrect"
        return "in"

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(guess, range(12)))
    assert len(checked) <= 3 and answers.count("incorrect") <= 3
    assert answers.count("throttled") >= 9
    with pytest.raises(accounts.LoginThrottled):
        accounts.check_credentials(email, "one-more-guess")


def test_lock_expires_and_success_clears_failures(make_user, settings_env, monkeypatch) -> None:
    settings_env(
        VOPIX_LOGIN_MAX_FAILURES="2", VOPIX_LOGIN_LOCKOUT_MINUTES="1", VOPIX_LOGIN_WINDOW_MINUTES="1"
    )
    _, email, password = make_user()
    for _ in range(2):
        with pytest.raises(accounts.AccountError):
            accounts.check_credentials(email, "wrong-password-x")
    from datetime import timedelta

    from vopix.core import clock

    real = clock.utcnow
    monkeypatch.setattr(accounts, "utcnow", lambda: real() + timedelta(minutes=2))
    assert accounts.check_credentials(email, password).email == email


def test_unknown_email_costs_a_bcrypt_check(make_user, settings_env, monkeypatch) -> None:
    settings_env(VOPIX_BCRYPT_ROUNDS="8", VOPIX_LOGIN_MAX_FAILURES="100")
    _, email, _ = make_user()
    # Not a timing assertion: we count that bcrypt runs for unknown users too, at the same cost.
    import bcrypt

    calls = []
    original = bcrypt.checkpw

    def counting(pw: bytes, hashed: bytes) -> bool:
        calls.append(hashed[:7])
        return original(pw, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    for who in (email, "nobody@example.com"):
        with pytest.raises(accounts.AccountError):
            accounts.check_credentials(who, "wrong-password-x")
    assert calls == [b"$2b$08$", b"$2b$08$"]


@pytest.mark.promise("P31")
def test_change_password_needs_the_current_one(make_user) -> None:
    user_id, email, password = make_user()
    with pytest.raises(accounts.AccountError, match="current password"):
        accounts.change_password(user_id, "not-the-password", "brand-new-pass-9")
    with pytest.raises(accounts.AccountError, match="at least 10"):
        accounts.change_password(user_id, password, "short")
    accounts.change_password(user_id, password, "brand-new-pass-9")
    assert accounts.check_credentials(email, "brand-new-pass-9").id == user_id
    with pytest.raises(accounts.AccountError):
        accounts.check_credentials(email, password)


@pytest.mark.promise("P31")
def test_change_email(make_user) -> None:
    user_id, _, password = make_user()
    make_user("taken@example.com")
    with pytest.raises(accounts.AccountError, match="already uses"):
        accounts.change_email(user_id, password, "TAKEN@example.com")
    with pytest.raises(accounts.AccountError, match="current password"):
        accounts.change_email(user_id, "wrong-pass-000", "new@example.com")
    assert accounts.change_email(user_id, password, " New@Example.com").new_email == "new@example.com"
    email_change.confirm(mailed_token("new@example.com", "/confirm-email"))  # from the new address
    assert accounts.check_credentials("new@example.com", password).id == user_id


def _change(what: str, user_id: int, password: str, **kw) -> accounts.AccountChange:
    if what == "email":  # asked with the password, done by the link mailed to the new address
        accounts.change_email(user_id, password, "moved@example.com")
        done = email_change.confirm(mailed_token("moved@example.com", "/confirm-email"), **kw)
        return accounts.AccountChange(accounts.get_user(user_id), done.sessions_ended)
    return accounts.change_password(user_id, password, "a-brand-new-pass-7", **kw)


@pytest.mark.promise("P16")
@pytest.mark.parametrize("what", ["email", "password"])
def test_guessing_the_current_password_in_a_session_is_throttled_like_a_login(
    what: str, make_user, monkeypatch
) -> None:
    """Twelve wrong guesses, then the right password, used to change the account's email."""
    user_id, email, password = make_user()
    answers = []
    for i in range(12):
        with pytest.raises(accounts.AccountError) as err:
            _change(what, user_id, f"wrong-guess-{i:02d}")
        answers.append(type(err.value))
    assert answers.count(accounts.LoginThrottled) == 12 - get_settings().login_max_failures
    with pytest.raises(accounts.LoginThrottled) as in_session:
        _change(what, user_id, password)  # the right one waits too
    assert accounts.get_user(user_id).email == email
    with pytest.raises(accounts.LoginThrottled) as at_login:
        accounts.check_credentials(email, password)  # the same lock, the same answer
    assert str(in_session.value) == str(at_login.value)
    # Once the lock has passed, the old password still opens the account: nothing changed.
    cfg = get_settings()
    later = utcnow() + timedelta(minutes=max(cfg.login_lockout_minutes, cfg.login_window_minutes) + 1)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert accounts.check_credentials(email, password).id == user_id


def test_failed_logins_lock_the_in_session_check_too(make_user, settings_env) -> None:
    settings_env(VOPIX_LOGIN_MAX_FAILURES="3")
    user_id, email, password = make_user()
    for _ in range(3):
        with pytest.raises(accounts.AccountError):
            accounts.check_credentials(email, "wrong-password-x")
    with pytest.raises(accounts.LoginThrottled):
        accounts.verify_current_password(user_id, password)
    assert accounts.get_user(user_id).email == email


def test_a_right_password_in_a_session_clears_the_count(make_user, settings_env) -> None:
    settings_env(VOPIX_LOGIN_MAX_FAILURES="3")
    user_id, email, password = make_user()
    for _ in range(2):
        with pytest.raises(accounts.AccountError, match="current password"):
            accounts.verify_current_password(user_id, "wrong-password-x")
    assert accounts.verify_current_password(user_id, password).id == user_id
    for _ in range(2):
        with pytest.raises(accounts.AccountError, match="incorrect"):
            accounts.check_credentials(email, "wrong-password-x")
    assert accounts.check_credentials(email, password).id == user_id


@pytest.mark.promise("P12")
@pytest.mark.parametrize("what", ["email", "password"])
def test_a_change_signs_out_every_other_session_and_raises_a_notice(what: str, make_user) -> None:
    from vopix.core import sessions, usage

    user_id, _, password = make_user()
    other_id, _, _ = make_user()
    _, here = sessions.start_session(user_id, user_agent="Firefox")
    _, phone = sessions.start_session(user_id, user_agent="Android")
    _, laptop = sessions.start_session(user_id, user_agent="Chrome")
    _, someone_else = sessions.start_session(other_id)
    change = _change(what, user_id, password, keep_session_id=here.session_id)
    assert change.sessions_ended == 2
    assert sessions.is_active(here.session_id, user_id)
    assert not sessions.is_active(phone.session_id, user_id)
    assert not sessions.is_active(laptop.session_id, user_id)
    assert sessions.is_active(someone_else.session_id, other_id)
    # The phone and laptop sign-ins were new devices: those alerts are not the change's.
    (notice,) = [n for n in usage.unread_notices(user_id) if not n.key.startswith("security:new_sign_in:")]
    assert notice.key.startswith(f"security:{what}_changed:") and notice.link == "/account"
    assert "If that was not you" in notice.text
    assert usage.unread_notices(other_id) == []


def test_a_refused_change_ends_no_session_and_raises_no_notice(make_user) -> None:
    from vopix.core import sessions, usage

    user_id, _, password = make_user()
    make_user("taken@example.com")
    sessions.start_session(user_id)
    _, other = sessions.start_session(user_id)
    for attempt in (
        lambda: accounts.change_email(user_id, password, "taken@example.com"),
        lambda: accounts.change_password(user_id, "wrong-password-x", "a-brand-new-pass-7"),
        lambda: accounts.change_password(user_id, password, "short"),
    ):
        with pytest.raises(accounts.AccountError):
            attempt()
    assert sessions.is_active(other.session_id, user_id)
    assert usage.unread_notices(user_id) == []


def test_login_nonce_is_single_use_and_short_lived(make_user, monkeypatch) -> None:
    user_id, _, _ = make_user()
    nonce = accounts.issue_login_nonce(user_id)
    assert accounts.redeem_login_nonce(nonce) == user_id
    assert accounts.redeem_login_nonce(nonce) is None
    late = accounts.issue_login_nonce(user_id)
    from datetime import timedelta

    real = accounts.utcnow
    monkeypatch.setattr(accounts, "utcnow", lambda: real() + timedelta(seconds=accounts.NONCE_SECONDS + 1))
    assert accounts.redeem_login_nonce(late) is None
    assert accounts.redeem_login_nonce("") is None
    assert accounts.redeem_login_nonce("x" * 1000) is None


@pytest.mark.promise("P33")
def test_operator_can_delete_a_reported_account_at_once(make_user) -> None:
    from vopix.cli import main

    user_id, email, _ = make_user()
    assert main(["delete-user", "--email", email]) == 0
    assert accounts.get_user(user_id) is None
    assert main(["delete-user", "--email", email]) == 1
