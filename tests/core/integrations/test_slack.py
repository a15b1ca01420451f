"""Slack for the agent: OAuth install (scopes with commas) or a pasted bot token, the tools
(channels, recent messages, a confirmed post), Slack's ok:false errors as sentences, 429s
honoured, and auth.revoke on disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.core.integrations.conftest import query_of
from tests.fakes.slack import FakeSlack
from vopix.core import sessions
from vopix.core.agent.tools import ToolContext, get_tool, run_tool, tools_for
from vopix.core.integrations import activity, connections, disconnect, oauth
from vopix.core.kinds import ConnectionStatus


@pytest.fixture
def slack(settings_env) -> Iterator[FakeSlack]:
    with FakeSlack(team_name="Acme") as fake:
        settings_env(VOPIX_SLACK_CLIENT_ID=fake.client_id, VOPIX_SLACK_CLIENT_SECRET=fake.client_secret,
                     VOPIX_SLACK_BASE_URL=fake.url)
        fake.add_channel("general", messages=["hello", "standup at 10"])
        fake.add_channel("random", member=False)
        yield fake


def _person(make_user) -> tuple[int, int]:
    user_id, _, _ = make_user()
    _, info = sessions.start_session(user_id)
    return user_id, info.session_id


def _install(slack: FakeSlack, user_id: int, session_id: int) -> connections.ConnectionView:
    q = query_of(oauth.begin(user_id, session_id, "slack"))
    assert q["scope"] == "channels:read,channels:history,groups:read,groups:history,chat:write"
    assert "code_challenge" not in q  # Slack takes no PKCE
    code = slack.authorize(redirect_uri=q["redirect_uri"], scope=q["scope"], state=q["state"])
    return asyncio.run(oauth.finish("slack", state=q["state"], code=code, user_id=user_id, session_id=session_id))


def _run(name: str, user_id: int, **args) -> tuple[str, bool]:
    tool = get_tool(name)
    assert tool is not None
    outcome = asyncio.run(run_tool(tool, ToolContext(user_id, 0, "whatsapp", confirmed=True), args))
    return outcome.text, outcome.failed


@pytest.mark.promise("P19")
def test_install_then_list_read_and_post(slack, make_user, monkeypatch) -> None:
    from vopix.core import http

    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(http, "default_sleep", record)
    user_id, session_id = _person(make_user)
    view = _install(slack, user_id, session_id)
    assert (view.account, view.method) == ("Acme", "oauth")
    assert {"slack_list_channels", "slack_post_message"} <= {t.name for t in tools_for(user_id)}
    text, failed = _run("slack_list_channels", user_id)
    assert not failed and "#general" in text and "#random (the app is not in it)" in text
    slack.rate_limit_next(retry_after=3)
    text, failed = _run("slack_read_channel", user_id, channel="#general")
    assert not failed and "standup at 10" in text and waits == [3.0]
    text, failed = _run("slack_post_message", user_id, channel="general", text="Deploy at 5")
    assert not failed and slack.posted[-1]["text"] == "Deploy at 5"
    text, failed = _run("slack_post_message", user_id, channel="#random", text="hi")
    assert failed and "invite it there first" in text
    text, failed = _run("slack_read_channel", user_id, channel="#nowhere")
    assert failed and "no channel #nowhere" in text
    assert [(a.action, a.outcome) for a in activity.list_activity(user_id, service="slack")[0]] == [
        ("read recent messages in #nowhere", "failed"),
        ("post in #random: “hi”", "failed"),
        ("posted in #general", "ok"),
        ("read 2 messages in #general", "ok"),
        ("listed 2 channels", "ok"),
    ]
    assert get_tool("slack_post_message").needs_confirmation


def test_a_pasted_bot_token_is_checked_and_revoked_on_disconnect(slack, make_user) -> None:
    user_id, _ = _person(make_user)
    with pytest.raises(oauth.ConnectFailed):
        asyncio.run(oauth.connect_with_token(user_id, "slack", "xoxb-not-a-token-slack-knows"))
    token = slack.add_token("xoxb-1111-2222-pastedtoken")
    view = asyncio.run(oauth.connect_with_token(user_id, "slack", token))
    assert (view.account, view.method) == ("Acme", "token")
    done = asyncio.run(disconnect.disconnect(user_id, "slack"))
    assert done is not None and done.revoked and slack.tokens[token].revoked
    assert "slack" not in connections.list_connections(user_id)


def test_a_revoked_token_marks_slack_as_revoked(slack, make_user) -> None:
    user_id, session_id = _person(make_user)
    _install(slack, user_id, session_id)
    for value in list(slack.tokens):
        slack.revoke(value)
    text, failed = _run("slack_list_channels", user_id)
    assert failed and "reconnect Slack" in text
    assert connections.list_connections(user_id)["slack"].status == ConnectionStatus.REVOKED
