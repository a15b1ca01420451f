"""A token GitHub or Slack refuses (GitHub's 401 "Bad credentials", Slack's invalid_auth or
token_revoked) stops the connection and raises the security alert Google's invalid_grant
raises: once per connection, however many calls were refused. Slack's token_revoked is shown as
"revoked"; a GitHub 401 does not tell a revoked token from an expired one, so it is "needs
reconnecting"."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select

from tests.core.integrations.test_slack import slack  # noqa: F401  (fixture)
from tests.fakes.github import FakeGitHub
from tests.fakes.slack import FakeSlack
from vopix.core.agent.tools import ToolContext, get_tool, run_tool
from vopix.core.integrations import connections, oauth
from vopix.core.kinds import ConnectionStatus, MailKind, NoticeKind
from vopix.db import session_scope
from vopix.models import MailOutbox, Notice

PAT = "github_pat_11REFUSED0123456789_abcd"
REFUSED = "no longer accepts your agent's access"


def _alerts(user_id: int) -> list[str]:
    """The reconnect alerts: the mails and the in-app notices, which must agree."""
    with session_scope() as s:
        mails = s.exec(select(MailOutbox.text_body).where(
            MailOutbox.user_id == user_id, MailOutbox.kind == MailKind.SECURITY)).all()
        notices = s.exec(select(Notice.text).where(
            Notice.user_id == user_id, Notice.kind == NoticeKind.SECURITY, col(Notice.text).contains(REFUSED)
        )).all()
    found = [m for m in mails if REFUSED in m]
    assert len(found) == len(notices)
    return found


def _calls(user_id: int, *calls: tuple[str, dict]) -> list[tuple[str, bool]]:
    """The tool calls at once, as one turn making them in parallel would."""
    async def all_of() -> list[tuple[str, bool]]:
        tools = [(get_tool(name), args) for name, args in calls]
        ctx = ToolContext(user_id, 0, "telegram", confirmed=True)
        done = await asyncio.gather(*(run_tool(tool, ctx, args) for tool, args in tools if tool is not None))
        return [(o.text, o.failed) for o in done]

    return asyncio.run(all_of())


def _api_calls(fake: FakeGitHub | FakeSlack, path: str) -> int:
    return sum(1 for r in fake.requests if r.path == path)


def _github_user(github: FakeGitHub, make_user, settings_env) -> int:
    settings_env(VOPIX_GITHUB_CLIENT_ID="", VOPIX_GITHUB_CLIENT_SECRET="")
    user_id, _, _ = make_user()
    github.add_token(PAT, "octocat", scopes=None)
    asyncio.run(oauth.connect_with_token(user_id, "github", PAT))
    return user_id


def test_a_github_401_alerts_once_for_the_connection(github_fake, make_user, settings_env) -> None:
    user_id = _github_user(github_fake, make_user, settings_env)
    assert _alerts(user_id) == []
    github_fake.revoke(PAT)  # 401 "Bad credentials" from now on
    before = _api_calls(github_fake, "/user/repos")
    outcomes = _calls(user_id, ("github_list_repos", {}), ("github_list_repos", {}))
    assert all(failed for _, failed in outcomes)
    refused = sum("GitHub refused the saved token" in text for text, _ in outcomes)
    assert refused >= 1  # both, unless one call saw the connection already marked
    assert connections.list_connections(user_id)["github"].status == ConnectionStatus.NEEDS_RECONNECT
    [alert] = _alerts(user_id)
    assert "GitHub (octocat)" in alert and PAT not in alert and "revoked" not in alert
    # Each refused call went out once (GitHub's tokens are not refreshed: nothing to retry with).
    assert _api_calls(github_fake, "/user/repos") - before == refused
    before += refused
    # Later calls do not reach GitHub nor alert again; marking it again is a no-op.
    text, failed = _calls(user_id, ("github_list_repos", {}))[0]
    assert failed and "needs reconnecting" in text
    assert _api_calls(github_fake, "/user/repos") == before
    assert connections.mark_needs_reconnect(user_id, "github") is False
    assert len(_alerts(user_id)) == 1


def test_reconnecting_then_a_second_refusal_alerts_again(github_fake, make_user, settings_env) -> None:
    user_id = _github_user(github_fake, make_user, settings_env)
    github_fake.revoke(PAT)
    _calls(user_id, ("github_list_repos", {}))
    github_fake.add_token(PAT, "octocat", scopes=None)
    asyncio.run(oauth.connect_with_token(user_id, "github", PAT))  # connected again
    github_fake.revoke(PAT)
    _calls(user_id, ("github_list_repos", {}))
    assert len(_alerts(user_id)) == 2  # one per time the connection stopped working


def test_slack_invalid_auth_alerts_once_and_asks_to_reconnect(slack, make_user) -> None:  # noqa: F811
    user_id, _, _ = make_user()
    token = slack.add_token("xoxb-1111-2222-refusedlater")
    asyncio.run(oauth.connect_with_token(user_id, "slack", token))
    del slack.tokens[token]  # Slack no longer knows it: invalid_auth
    outcomes = _calls(user_id, ("slack_list_channels", {}), ("slack_read_channel", {"channel": "#general"}))
    assert all(failed for _, failed in outcomes)
    refused = sum("Slack refused the saved token" in text for text, _ in outcomes)
    assert refused >= 1
    assert connections.list_connections(user_id)["slack"].status == ConnectionStatus.NEEDS_RECONNECT
    [alert] = _alerts(user_id)
    assert "Slack (Acme)" in alert and token not in alert and "revoked" not in alert
    # A bot token without rotation has nothing to refresh with: no second call was made.
    assert _api_calls(slack, "/api/conversations.list") == refused


def test_slack_token_revoked_is_shown_as_revoked(slack, make_user) -> None:  # noqa: F811
    user_id, _, _ = make_user()
    token = slack.add_token("xoxb-1111-2222-revokedlater")
    asyncio.run(oauth.connect_with_token(user_id, "slack", token))
    slack.revoke(token)  # the app was uninstalled: token_revoked
    text, failed = _calls(user_id, ("slack_post_message", {"channel": "#general", "text": "hi"}))[0]
    assert failed and "revoked" in text and slack.posted == []
    assert connections.list_connections(user_id)["slack"].status == ConnectionStatus.REVOKED
    [alert] = _alerts(user_id)
    assert "Slack (Acme), which says the access was revoked" in alert
    text, failed = _calls(user_id, ("slack_list_channels", {}))[0]
    assert failed and "revoked the access: reconnect it" in text
    assert len(_alerts(user_id)) == 1
