"""Login sessions: one opaque rotating token per device, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from tests.conftest import rotate_token
from vopix.core import sessions
from vopix.db import session_scope
from vopix.models import AuthSession, RefreshToken, metadata

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def _session_row(session_id: int) -> AuthSession:
    with session_scope() as s:
        row = s.get(AuthSession, session_id)
        assert row is not None
        return row


def test_start_and_resolve(make_user, sessions_clock) -> None:
    user_id, _, _ = make_user()
    token, info = sessions.start_session(user_id, ip="198.51.100.7", user_agent=CHROME_LINUX)
    assert info.user_id == user_id
    assert info.expires_at == sessions_clock.now + timedelta(days=30)
    found = sessions.resolve(token)
    assert found is not None
    assert (found.user_id, found.session_id) == (user_id, info.session_id)
    assert sessions.is_active(info.session_id, user_id)
    assert not sessions.is_active(info.session_id, user_id + 1)


@pytest.mark.parametrize("bad", ["", "not-a-token", "x" * 500])
def test_unknown_or_oversized_tokens_resolve_to_nobody(make_user, bad: str) -> None:
    user_id, _, _ = make_user()
    sessions.start_session(user_id)
    assert sessions.resolve(bad) is None
    assert sessions.refresh(bad) is None


def test_refresh_rotates_only_once_the_token_is_old_enough(make_user, sessions_clock) -> None:
    user_id, _, _ = make_user()
    token, _ = sessions.start_session(user_id)
    early = sessions.refresh(token)
    assert early is not None and early.new_token is None  # default: rotate after 900 s
    sessions_clock.advance(seconds=899)
    assert sessions.refresh(token).new_token is None
    sessions_clock.advance(seconds=1)
    new = rotate_token(token)
    assert new != token
    assert sessions.resolve(new).user_id == user_id


def test_rotation_with_zero_interval_and_sliding_expiry(make_user, settings_env, sessions_clock) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0")
    user_id, _, _ = make_user()
    token, info = sessions.start_session(user_id)
    sessions_clock.advance(days=10)
    result = sessions.refresh(token)
    assert result is not None and result.new_token not in (None, token)
    assert result.info.session_id == info.session_id
    assert result.info.expires_at == sessions_clock.now + timedelta(days=30)
    assert _session_row(info.session_id).expires_at == sessions_clock.now + timedelta(days=30)


def test_reused_rotated_token_after_grace_revokes_the_whole_session(make_user, settings_env, sessions_clock) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0")
    user_id, _, _ = make_user()
    first, info = sessions.start_session(user_id)
    second = rotate_token(first)
    newest = rotate_token(second)
    sessions_clock.advance(seconds=31)  # default grace is 30 s
    assert sessions.refresh(first) is None
    assert sessions.resolve(newest) is None, "a thief's replay must log out every holder"
    assert sessions.refresh(newest) is None
    assert not sessions.is_active(info.session_id, user_id)
    assert _session_row(info.session_id).revoked_reason == "token_reuse"


def test_reuse_via_resolve_with_zero_grace_also_revokes(make_user, settings_env, sessions_clock) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0", VOPIX_TOKEN_REUSE_GRACE_SECONDS="0")
    user_id, _, _ = make_user()
    old, info = sessions.start_session(user_id)
    new = rotate_token(old)
    sessions_clock.advance(seconds=1)
    assert sessions.resolve(old) is None
    assert sessions.resolve(new) is None
    assert not sessions.is_active(info.session_id, user_id)


def test_old_token_within_grace_is_accepted_without_revoking(make_user, settings_env, sessions_clock) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0")
    user_id, _, _ = make_user()
    old, info = sessions.start_session(user_id)
    new = rotate_token(old)
    sessions_clock.advance(seconds=5)  # a second tab refreshing with the cookie it had
    again = sessions.refresh(old)
    assert again is not None and again.new_token is None  # no second branch of the family
    assert sessions.resolve(old).user_id == user_id
    assert sessions.resolve(new).user_id == user_id
    assert _session_row(info.session_id).revoked_at is None


def test_socket_accepts_a_recently_rotated_token_without_revoking(make_user, settings_env, sessions_clock) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0", VOPIX_TOKEN_REUSE_GRACE_SECONDS="0")
    user_id, _, _ = make_user()
    handshake, info = sessions.start_session(user_id)
    new = rotate_token(handshake)  # a page load in another tab rotated the cookie
    sessions_clock.advance(hours=1)
    found = sessions.resolve(handshake, proven_on_open_socket=True)
    assert found is not None and found.session_id == info.session_id
    assert sessions.resolve(new).user_id == user_id
    assert _session_row(info.session_id).revoked_at is None
    sessions_clock.advance(hours=12)
    assert sessions.resolve(handshake, proven_on_open_socket=True) is None
    assert sessions.resolve(new) is not None


def test_expired_sessions_do_not_resolve(make_user, settings_env, sessions_clock) -> None:
    settings_env(VOPIX_SESSION_DAYS="1")
    user_id, _, _ = make_user()
    token, info = sessions.start_session(user_id)
    sessions_clock.advance(hours=23)
    assert sessions.resolve(token) is not None
    sessions_clock.advance(hours=1)
    assert sessions.resolve(token) is None
    assert sessions.refresh(token) is None
    assert not sessions.is_active(info.session_id, user_id)
    assert sessions.list_sessions(user_id, info.session_id) == []


def test_end_session_refuses_another_users_session(make_user) -> None:
    alice, _, _ = make_user()
    mallory, _, _ = make_user()
    token, info = sessions.start_session(alice)
    assert sessions.end_session(info.session_id, user_id=mallory) is False
    assert sessions.resolve(token).user_id == alice
    assert sessions.end_session(info.session_id, user_id=alice) is True
    assert sessions.resolve(token) is None
    assert _session_row(info.session_id).revoked_reason == "logout"
    assert sessions.end_session(info.session_id, user_id=alice) is False  # already ended


def test_end_other_sessions_keeps_the_current_one(make_user) -> None:
    user_id, _, _ = make_user()
    other_user, _, _ = make_user()
    current, info = sessions.start_session(user_id)
    laptop, _ = sessions.start_session(user_id)
    phone, _ = sessions.start_session(user_id)
    bystander, _ = sessions.start_session(other_user)
    assert sessions.end_other_sessions(user_id, info.session_id) == 2
    assert sessions.resolve(current).user_id == user_id
    assert sessions.resolve(laptop) is None
    assert sessions.resolve(phone) is None
    assert sessions.resolve(bystander).user_id == other_user
    assert [r.id for r in sessions.list_sessions(user_id, info.session_id)] == [info.session_id]


def test_list_sessions_shows_device_ip_and_current(make_user, sessions_clock) -> None:
    user_id, _, _ = make_user()
    _, desktop = sessions.start_session(user_id, ip="198.51.100.7", user_agent=CHROME_LINUX)
    sessions_clock.advance(minutes=5)
    phone_token, phone = sessions.start_session(user_id, ip="203.0.113.20", user_agent="")
    rows = sessions.list_sessions(user_id, current_session_id=desktop.session_id)
    assert [r.id for r in rows] == [phone.session_id, desktop.session_id]  # most recent first
    by_id = {r.id: r for r in rows}
    assert by_id[desktop.session_id].device == "Chrome on Linux"
    assert by_id[desktop.session_id].ip == "198.51.100.7"
    assert by_id[desktop.session_id].current is True
    assert by_id[phone.session_id].device == "Unknown device"
    assert by_id[phone.session_id].current is False
    # Using the session from a new network shows the new address.
    sessions.resolve(phone_token, ip="192.0.2.44")
    rows = sessions.list_sessions(user_id, current_session_id=desktop.session_id)
    assert {r.id: r.ip for r in rows}[phone.session_id] == "192.0.2.44"


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (CHROME_LINUX, "Chrome on Linux"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
         "Firefox on Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Safari/605.1.15", "Safari on macOS"),
        ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
    ],
)
def test_describe_user_agent(user_agent: str, device: str) -> None:
    assert sessions.describe_user_agent(user_agent) == device


def test_only_sha256_hashes_of_tokens_are_stored(make_user, settings_env) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0")
    user_id, _, _ = make_user()
    first, _ = sessions.start_session(user_id, ip="198.51.100.7", user_agent=CHROME_LINUX)
    second = rotate_token(first)
    with session_scope() as s:
        hashes = {t.token_hash for t in s.exec(select(RefreshToken)).all()}
        dump = []
        for table in metadata.sorted_tables:
            for row in s.connection().execute(text(f'SELECT * FROM "{table.name}"')):
                dump.extend(str(v) for v in row)
    assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in (first, second)}
    everything = "\n".join(dump)
    assert first not in everything
    assert second not in everything


def test_token_from_cookie_header() -> None:
    assert sessions.token_from_cookie_header("a=1; vopix_session=abc-DEF_1; b=2") == "abc-DEF_1"
    assert sessions.token_from_cookie_header("other=1") == ""
    assert sessions.token_from_cookie_header(None) == ""


@pytest.mark.promise("P12")
def test_token_reuse_and_password_change_raise_security_alerts(make_user, settings_env) -> None:
    from vopix.core import accounts, usage

    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0", VOPIX_TOKEN_REUSE_GRACE_SECONDS="0")
    user_id, _, password = make_user()
    old, _ = sessions.start_session(user_id, ip="203.0.113.9", user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/150")
    assert sessions.refresh(old).new_token
    assert sessions.refresh(old) is None  # replayed: the login is revoked
    alerts = usage.unread_notices(user_id)
    # The alert shows the network, not the exact address (security_alerts.approximate_ip).
    assert len(alerts) == 1 and "Chrome on Linux, 203.0.113.x" in alerts[0].text
    accounts.change_password(user_id, password, "a-completely-new-pass")
    assert any("password of your account was changed" in n.text for n in usage.unread_notices(user_id))
