"""Single-use links: stored only as a hash, one purpose, an expiry, used at most once even
when two clicks arrive together."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import SessionsClock
from vopix.core import action_tokens
from vopix.core.action_tokens import TokenInvalid
from vopix.core.clock import utcnow
from vopix.core.kinds import TokenPurpose
from vopix.db import session_scope
from vopix.models import ActionToken

RESET = TokenPurpose.PASSWORD_RESET


def _issue(user_id: int, purpose: TokenPurpose = RESET, ttl: timedelta = timedelta(minutes=30)) -> str:
    with session_scope() as s:
        return action_tokens.issue(s, user_id, purpose, ttl, data="d")


def _redeem(token: str, purpose: TokenPurpose = RESET) -> action_tokens.Redeemed:
    with session_scope() as s:
        return action_tokens.redeem(s, token, purpose)


def _reason(token: str, purpose: TokenPurpose = RESET) -> str:
    with pytest.raises(TokenInvalid) as refused:
        _redeem(token, purpose)
    return refused.value.reason


def test_only_the_hash_is_stored_and_a_token_is_used_once(make_user) -> None:
    user_id, _, _ = make_user()
    token = _issue(user_id)
    with session_scope() as s:
        [row] = s.exec(select(ActionToken)).all()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert action_tokens.peek(token, RESET) == action_tokens.Redeemed(user_id, "d")  # peeking uses nothing
    assert _redeem(token) == action_tokens.Redeemed(user_id, "d")
    assert _reason(token) == "used"
    assert _reason(token, TokenPurpose.NOT_ME) == "unknown"  # one purpose only
    assert _reason(token[:-1]) == "unknown" and _reason("") == "unknown"


def test_a_token_expires(make_user, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SessionsClock(utcnow())
    monkeypatch.setattr(action_tokens, "utcnow", clock)
    user_id, _, _ = make_user()
    token = _issue(user_id, ttl=timedelta(minutes=30))
    clock.advance(minutes=30)
    assert _reason(token) == "expired"


def test_revoke_all_ends_the_earlier_links_of_that_purpose_only(make_user) -> None:
    user_id, _, _ = make_user()
    other_id, _, _ = make_user()
    first, second = _issue(user_id), _issue(user_id)
    not_me, others = _issue(user_id, TokenPurpose.NOT_ME), _issue(other_id)
    with session_scope() as s:
        action_tokens.revoke_all(s, user_id, RESET)
    assert _reason(first) == "used" and _reason(second) == "used"
    assert _redeem(not_me, TokenPurpose.NOT_ME).user_id == user_id
    assert _redeem(others).user_id == other_id


def test_two_clicks_at_once_use_a_token_once(make_user, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both requests find the unused token before either marks it used: one wins."""
    user_id, _, _ = make_user()
    token = _issue(user_id)
    both_found = threading.Barrier(2, timeout=10)
    real_find = action_tokens._find

    def find_then_wait(s, raw, purpose):  # type: ignore[no-untyped-def]
        row = real_find(s, raw, purpose)
        both_found.wait()
        return row

    monkeypatch.setattr(action_tokens, "_find", find_then_wait)
    outcomes: list[str] = []

    def click() -> None:
        try:
            _redeem(token)
            outcomes.append("redeemed")
        except TokenInvalid as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["redeemed", "used"]
