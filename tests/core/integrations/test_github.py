"""GitHub for the agent: OAuth (state bound to the login session, single use, PKCE), a pasted
token, the tools (reads, confirmed writes), the activity log, revocation on disconnect, and no
way to another person's connection."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from tests.core.integrations.conftest import query_of
from vopix.core import sessions
from vopix.core.agent.tools import ToolContext, get_tool, run_tool, tools_for
from vopix.core.clock import utcnow
from vopix.core.integrations import activity, connections, disconnect, oauth
from vopix.core.kinds import ConnectionStatus, MailKind
from vopix.db import session_scope
from vopix.models import IntegrationConnection, MailOutbox, Secret


def _login(make_user) -> tuple[int, int]:
    user_id, _, _ = make_user()
    _, info = sessions.start_session(user_id)
    return user_id, info.session_id


def _connect(github, user_id: int, session_id: int) -> connections.ConnectionView:
    url = oauth.begin(user_id, session_id, "github")
    q = query_of(url)
    code = github.authorize(redirect_uri=q["redirect_uri"], scope=q.get("scope", ""), state=q["state"],
                            code_challenge=q.get("code_challenge"), code_challenge_method=q.get("code_challenge_method"))
    return asyncio.run(oauth.finish("github", state=q["state"], code=code, user_id=user_id, session_id=session_id))


def _ctx(user_id: int, conversation_id: int = 0, channel: str = "web") -> ToolContext:
    return ToolContext(user_id=user_id, conversation_id=conversation_id, channel=channel, confirmed=True)


def _run(name: str, ctx: ToolContext, **args) -> tuple[str, bool]:
    tool = get_tool(name)
    assert tool is not None
    outcome = asyncio.run(run_tool(tool, ctx, args))
    return outcome.text, outcome.failed


@pytest.mark.promise("P05")
@pytest.mark.promise("P18")
def test_oauth_connects_with_pkce_and_keeps_the_token_only_in_the_vault(github, make_user) -> None:
    user_id, session_id = _login(make_user)
    url = oauth.begin(user_id, session_id, "github")
    q = query_of(url)
    assert url.startswith(f"{github.url}/login/oauth/authorize?")
    assert q["client_id"] == github.client_id and q["code_challenge_method"] == "S256"
    assert q["redirect_uri"] == "http://testserver/api/integrations/github/callback"
    code = github.authorize(redirect_uri=q["redirect_uri"], state=q["state"], code_challenge=q["code_challenge"],
                            code_challenge_method="S256")
    view = asyncio.run(oauth.finish("github", state=q["state"], code=code, user_id=user_id, session_id=session_id))
    assert (view.account, view.status, view.method) == ("octocat", ConnectionStatus.CONNECTED, "oauth")
    [token] = [t for t in github.tokens if t.startswith("gho_")]
    with session_scope() as s:
        row = s.exec(select(IntegrationConnection).where(IntegrationConnection.user_id == user_id)).one()
        stored = json.dumps(row.model_dump(), default=str)
        secret = s.get(Secret, row.access_secret_id)
        assert secret is not None and token.encode() not in secret.ciphertext
        assert token not in stored
        alert = s.exec(select(MailOutbox).where(MailOutbox.user_id == user_id,
                                                MailOutbox.kind == MailKind.SECURITY)).first()
        assert alert is not None and "GitHub as octocat" in alert.text_body and token not in alert.text_body
    assert view.token_hint == token[-4:] and connections.is_connected(user_id, "github")


@pytest.mark.parametrize("case", ["forged", "reused", "other session", "other person", "expired", "other service"])
def test_a_bad_state_ends_the_flow_before_any_code_is_exchanged(github, make_user, case) -> None:
    from datetime import timedelta

    user_id, session_id = _login(make_user)
    q = query_of(oauth.begin(user_id, session_id, "github"))
    code = github.authorize(redirect_uri=q["redirect_uri"], state=q["state"], code_challenge=q["code_challenge"],
                            code_challenge_method="S256")
    state, who, session, now, service = q["state"], user_id, session_id, None, "github"
    if case == "forged":
        state = "not-a-state-we-made"
    elif case == "reused":
        with pytest.raises(oauth.ConnectFailed):  # someone used it with a bad code first
            asyncio.run(oauth.finish("github", state=state, code="", user_id=who, session_id=session))
    elif case == "other session":
        _, other = sessions.start_session(user_id)
        session = other.session_id
    elif case == "other person":
        who, session = _login(make_user)
    elif case == "expired":
        now = utcnow() + timedelta(minutes=11)
    elif case == "other service":
        service = "slack"
    exchanges = sum(1 for r in github.requests if r.path == "/login/oauth/access_token")
    with pytest.raises(oauth.ConnectFailed) as refused:
        asyncio.run(oauth.finish(service, state=state, code=code, user_id=who, session_id=session, now=now))
    assert refused.value.code == "state"
    assert sum(1 for r in github.requests if r.path == "/login/oauth/access_token") == exchanges
    assert not connections.is_connected(user_id, "github") and not connections.is_connected(who, "github")


def test_the_fake_checks_the_pkce_verifier(github, make_user) -> None:
    user_id, session_id = _login(make_user)
    q = query_of(oauth.begin(user_id, session_id, "github"))
    code = github.authorize(redirect_uri=q["redirect_uri"], state=q["state"],
                            code_challenge="a-challenge-of-another-verifier", code_challenge_method="S256")
    with pytest.raises(oauth.ConnectFailed) as refused:
        asyncio.run(oauth.finish("github", state=q["state"], code=code, user_id=user_id, session_id=session_id))
    assert refused.value.code == "exchange" and not connections.is_connected(user_id, "github")


def test_a_pasted_token_is_checked_before_it_is_saved(github, make_user, settings_env) -> None:
    settings_env(VOPIX_GITHUB_CLIENT_ID="", VOPIX_GITHUB_CLIENT_SECRET="")
    user_id, _ = _login(make_user)
    with pytest.raises(oauth.ConnectFailed) as refused:
        asyncio.run(oauth.connect_with_token(user_id, "github", "github_pat_not_a_real_token_at_all"))
    assert refused.value.code == "token" and not connections.is_connected(user_id, "github")
    with pytest.raises(oauth.ConnectFailed):
        asyncio.run(oauth.connect_with_token(user_id, "github", "two words"))
    github.add_token("github_pat_11AAAAAAA0123456789abcdef", scopes=None)
    view = asyncio.run(oauth.connect_with_token(user_id, "github", "  github_pat_11AAAAAAA0123456789abcdef "))
    assert (view.account, view.method, view.token_hint) == ("octocat", "token", "cdef")
    with pytest.raises(oauth.ConnectFailed) as no_app:
        oauth.begin(user_id, 1, "github")
    assert no_app.value.code == "no_app"


@pytest.mark.promise("P19")
def test_the_tools_act_for_the_person_and_each_call_is_logged(github, make_user, no_waits) -> None:
    from vopix.core.agent import history

    user_id, session_id = _login(make_user)
    assert "github_create_issue" not in {t.name for t in tools_for(user_id)}  # not connected yet
    _connect(github, user_id, session_id)
    assert {"github_list_repos", "github_create_issue"} <= {t.name for t in tools_for(user_id)}
    conversation = history.create_conversation(user_id, "Bugs").id
    ctx = _ctx(user_id, conversation, "telegram")
    text, failed = _run("github_list_repos", ctx)
    assert not failed and "octocat/hello" in text
    text, failed = _run("github_list_issues", ctx, repo="octocat/hello")
    assert not failed and "#1 [issue, open] Crash on start" in text
    github.rate_limit_next(secondary=True, seconds=2)
    text, failed = _run("github_create_issue", ctx, repo="octocat/hello", title="Docs typo", body="In README")
    assert not failed and text.startswith("Created issue #2") and no_waits == [2.0]  # waited as told
    assert [i["title"] for i in github.issues("octocat/hello")][-1] == "Docs typo"
    text, failed = _run("github_read_issue", ctx, repo="octocat/nope", number=1)
    assert failed and "not found" in text
    text, failed = _run("github_comment", ctx, repo="octocat/hello", number=2, body="Fixed in #3")
    assert not failed and github.comments("octocat/hello", 2)[-1]["body"] == "Fixed in #3"
    rows, more = activity.list_activity(user_id)
    assert [(r.action, r.outcome) for r in rows] == [
        ("commented on #2 in octocat/hello", "ok"),
        ("read #1 in octocat/nope", "failed"),
        ("created issue #2 in octocat/hello", "ok"),
        ("listed 1 issues in octocat/hello", "ok"),
        ("listed 1 repositories", "ok"),
    ]
    assert not more and rows[0].conversation_title == "Bugs" and rows[0].channel == "telegram"
    page, more = activity.list_activity(user_id, limit=2)
    older, _ = activity.list_activity(user_id, limit=2, before_id=page[-1].id)
    assert more and [r.id for r in page + older] == [r.id for r in rows[:4]]
    assert activity.list_activity(user_id, service="slack") == ([], False)
    assert get_tool("github_create_issue").needs_confirmation and get_tool("github_comment").needs_confirmation
    assert not get_tool("github_list_issues").needs_confirmation


def test_a_refused_token_marks_the_connection_and_its_tools_go(github, make_user) -> None:
    user_id, session_id = _login(make_user)
    _connect(github, user_id, session_id)
    [token] = [t for t in github.tokens if t.startswith("gho_")]
    github.revoke(token)  # revoked on github.com
    text, failed = _run("github_list_repos", _ctx(user_id))
    assert failed and "reconnect GitHub" in text
    assert connections.list_connections(user_id)["github"].status == ConnectionStatus.NEEDS_RECONNECT
    assert "github_list_repos" not in {t.name for t in tools_for(user_id)}


def test_another_persons_connection_is_never_reachable(github, make_user) -> None:
    owner, session_id = _login(make_user)
    _connect(github, owner, session_id)
    stranger, _ = _login(make_user)
    assert "github_list_repos" not in {t.name for t in tools_for(stranger)}
    text, failed = _run("github_list_repos", _ctx(stranger))  # even called by name
    assert failed and "not connected" in text
    assert asyncio.run(disconnect.disconnect(stranger, "github")) is None
    assert connections.is_connected(owner, "github")


def test_disconnect_revokes_an_oauth_token_and_deletes_it(github, make_user) -> None:
    user_id, session_id = _login(make_user)
    _connect(github, user_id, session_id)
    [token] = [t for t in github.tokens if t.startswith("gho_")]
    done = asyncio.run(disconnect.disconnect(user_id, "github"))
    assert done is not None and done.revoked and "revoked" in done.message
    assert token in github.revoked and "github" not in connections.list_connections(user_id)
    with session_scope() as s:
        assert s.exec(select(Secret).where(Secret.user_id == user_id)).all() == []


def test_disconnecting_a_pasted_token_says_where_to_revoke_it(github, make_user, settings_env) -> None:
    settings_env(VOPIX_GITHUB_CLIENT_ID="", VOPIX_GITHUB_CLIENT_SECRET="")
    user_id, _ = _login(make_user)
    github.add_token("github_pat_11BBBBBBB0123456789abcdef", scopes=None)
    asyncio.run(oauth.connect_with_token(user_id, "github", "github_pat_11BBBBBBB0123456789abcdef"))
    done = asyncio.run(disconnect.disconnect(user_id, "github"))
    assert done is not None and not done.revoked and "delete it there too" in done.message


def test_only_a_tool_in_a_turn_reads_a_token() -> None:
    """The one reader of integration tokens is connections.credential, which takes the turn's
    ToolContext; only the tools call it (the disconnect reads the token to revoke it)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "vopix"
    callers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                     if "connections.credential(" in p.read_text() or "credential, ctx" in p.read_text())
    assert callers == ["core/integrations/acting.py"]


def test_search_names_issues_for_github(github, make_user) -> None:
    user_id, session_id = _login(make_user)
    _connect(github, user_id, session_id)
    text, failed = _run("github_search_issues", _ctx(user_id), query="repo:octocat/hello crash")
    assert not failed and "Crash on start" in text
    searched = [r for r in github.requests if r.path == "/search/issues"][-1]
    assert "is:issue" in searched.query["q"]


@pytest.mark.promise("P06")
@pytest.mark.promise("P19")
def test_the_token_appears_in_no_log_page_tool_output_or_alert(github, make_user, caplog) -> None:
    """Only GitHub's own API gets the token, in its Authorization header; the model, the page,
    the logs and the mail never see it."""
    import logging

    from vopix.state.integrations import IntegrationsState  # noqa: F401  (the page's rows come from core)

    caplog.set_level(logging.DEBUG)
    user_id, session_id = _login(make_user)
    _connect(github, user_id, session_id)
    [token] = [t for t in github.tokens if t.startswith("gho_")]
    outputs = [_run("github_list_repos", _ctx(user_id))[0], _run("github_read_issue", _ctx(user_id),
                                                                   repo="octocat/hello", number=1)[0]]
    github.revoke(token)
    outputs.append(_run("github_list_issues", _ctx(user_id), repo="octocat/hello")[0])  # a 401's text
    shown = json.dumps([connections.list_connections(user_id)["github"].__dict__,
                        [a.__dict__ for a in activity.list_activity(user_id)[0]]], default=str)
    with session_scope() as s:
        mails = " ".join(m.text_body + m.html_body for m in s.exec(select(MailOutbox)))
    for place in (caplog.text, shown, mails, *outputs):
        assert token not in place
    used = {r.headers.get("Authorization") for r in github.requests if r.path.startswith(("/user", "/repos"))}
    assert used == {f"Bearer {token}"}
