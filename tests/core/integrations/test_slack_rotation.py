"""Slack with token rotation on: oauth.v2.access gives a 12-hour access token and a refresh token
(each works once). VOPIX refreshes the access through oauth.v2.access with
grant_type=refresh_token before use when it is expired or about to be, and after Slack answers
token_expired mid-call; the new pair goes to the vault; a refused refresh marks the connection
"needs reconnecting" with an alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from sqlmodel import select

from tests.core.integrations.test_slack import _install, _person, _run
from tests.fakes.slack import TOKEN_LIFETIME, FakeSlack
from vopix.core import vault
from vopix.core.clock import utcnow
from vopix.core.integrations import connections, refresh
from vopix.core.kinds import ConnectionStatus, MailKind
from vopix.db import session_scope
from vopix.models import IntegrationConnection, MailOutbox


@pytest.fixture
def slack(settings_env) -> Iterator[FakeSlack]:
    with FakeSlack(team_name="Acme", rotation=True) as fake:
        settings_env(VOPIX_SLACK_CLIENT_ID=fake.client_id, VOPIX_SLACK_CLIENT_SECRET=fake.client_secret,
                     VOPIX_SLACK_BASE_URL=fake.url)
        fake.add_channel("general", messages=["hello"])
        yield fake


def _stored(user_id: int) -> tuple[str, str, IntegrationConnection]:
    """(access token, refresh token, row) as the vault and the table hold them now."""
    with session_scope() as s:
        row = s.exec(select(IntegrationConnection).where(IntegrationConnection.user_id == user_id)).one()
        assert row.access_secret_id and row.refresh_secret_id
        return (vault.read_secret(s, user_id, row.access_secret_id),
                vault.read_secret(s, user_id, row.refresh_secret_id), row)


def _refresh_requests(slack: FakeSlack) -> list[dict[str, list[str]]]:
    return [parse_qs(r.body.decode()) for r in slack.requests
            if r.path == "/api/oauth.v2.access" and b"grant_type=refresh_token" in r.body]


def _later(monkeypatch, hours: float) -> None:
    moment = utcnow() + timedelta(hours=hours)
    monkeypatch.setattr(refresh, "utcnow", lambda: moment)


def test_an_install_with_rotation_keeps_the_refresh_token_and_the_expiry(slack, make_user) -> None:
    user_id, session_id = _person(make_user)
    _install(slack, user_id, session_id)
    access, refresh_token, row = _stored(user_id)
    assert access.startswith("xoxe.xoxb-") and refresh_token in slack.refresh_tokens
    assert row.expires_at is not None
    assert abs((row.expires_at - utcnow()).total_seconds() - TOKEN_LIFETIME) < 60


def test_an_expired_token_is_refreshed_before_use_and_the_new_pair_stored(slack, make_user, monkeypatch) -> None:
    user_id, session_id = _person(make_user)
    _install(slack, user_id, session_id)
    old_access, old_refresh, _ = _stored(user_id)
    slack.advance(TOKEN_LIFETIME + 60)  # Slack's clock: the old access token is dead
    _later(monkeypatch, 12.1)
    text, failed = _run("slack_post_message", user_id, channel="#general", text="Deploy at 5")
    assert not failed, text
    new_access, new_refresh, row = _stored(user_id)
    assert slack.refreshes == 1 and new_access != old_access and new_refresh != old_refresh
    assert slack.posted[-1]["token"] == new_access  # the post went out with the new token
    [asked] = _refresh_requests(slack)
    assert asked["grant_type"] == ["refresh_token"] and asked["refresh_token"] == [old_refresh]
    assert asked["client_id"] == [slack.client_id]
    assert row.expires_at is not None and row.expires_at > utcnow() + timedelta(hours=23)  # 12.1 h + 12 h
    # The rotated refresh token was kept: the next expiry refreshes again (the old one is spent).
    slack.advance(TOKEN_LIFETIME + 60)
    _later(monkeypatch, 24.3)
    text, failed = _run("slack_list_channels", user_id)
    assert not failed and "#general" in text and slack.refreshes == 2
    assert len(_refresh_requests(slack)) == 2


def test_a_token_near_its_expiry_is_refreshed_ahead(slack, make_user, monkeypatch) -> None:
    user_id, session_id = _person(make_user)
    _install(slack, user_id, session_id)
    _later(monkeypatch, 12 - 1 / 60)  # a minute left: inside refresh.AHEAD
    _, failed = _run("slack_list_channels", user_id)
    assert not failed and slack.refreshes == 1


def test_token_expired_mid_call_refreshes_once_and_calls_again(slack, make_user) -> None:
    user_id, session_id = _person(make_user)
    _install(slack, user_id, session_id)
    slack.advance(TOKEN_LIFETIME + 60)  # expired at Slack although VOPIX's clock says not yet
    text, failed = _run("slack_list_channels", user_id)
    assert not failed and "#general" in text and slack.refreshes == 1
    assert connections.is_connected(user_id, "slack")


def test_a_refused_refresh_marks_slack_for_reconnecting_and_tells_the_person(
    slack, make_user, monkeypatch
) -> None:
    user_id, session_id = _person(make_user)
    _install(slack, user_id, session_id)
    slack.refresh_tokens.clear()  # the refresh token no longer works: invalid_refresh_token
    slack.advance(TOKEN_LIFETIME + 60)
    _later(monkeypatch, 12.1)
    text, failed = _run("slack_post_message", user_id, channel="#general", text="Deploy at 5")
    assert failed and "reconnect Slack" in text and slack.posted == []
    assert connections.list_connections(user_id)["slack"].status == ConnectionStatus.NEEDS_RECONNECT
    with session_scope() as s:
        alerts = s.exec(select(MailOutbox.text_body).where(MailOutbox.user_id == user_id,
                                                           MailOutbox.kind == MailKind.SECURITY)).all()
    assert sum("no longer accepts your agent's access: Slack (Acme)" in body for body in alerts) == 1
    text, failed = _run("slack_list_channels", user_id)
    assert failed and "needs reconnecting" in text and len(_refresh_requests(slack)) == 1


def test_a_refresh_slack_cannot_answer_now_leaves_the_connection(slack, make_user, monkeypatch) -> None:
    user_id, session_id = _person(make_user)
    _install(slack, user_id, session_id)
    _later(monkeypatch, 12.1)
    slack.fail_next("internal_error")  # a passing failure, not a dead refresh token
    text, failed = _run("slack_list_channels", user_id)
    assert failed and "try again in a moment" in text
    assert connections.is_connected(user_id, "slack")
    text, failed = _run("slack_list_channels", user_id)
    assert not failed and slack.refreshes == 1
