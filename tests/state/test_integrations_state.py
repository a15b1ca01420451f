"""The Integrations page's state, without a browser: the pasted-token path (only where no GitHub
OAuth app is set up, so the browser tests, whose server has one, cannot show it), what the page
says on the way back from a callback, the disconnect question, and one person's events never
touching another's connection."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from tests.core.integrations.conftest import github  # noqa: F401  (fixture)
from tests.fakes.github import FakeGitHub
from tests.state.conftest import state_of
from vopix.core import sessions
from vopix.core.integrations import connections
from vopix.state.integrations import IntegrationsState

pytestmark = pytest.mark.asyncio

PAT = "github_pat_11ABCDEFG0123456789_wxyz"


def _page(make_user, path: str = "/integrations") -> tuple[int, IntegrationsState]:
    user_id, _, _ = make_user()
    token, _ = sessions.start_session(user_id)
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": f"{sessions.COOKIE_NAME}={token}"}, "asPath": path}
    )
    return user_id, root.get_substate(IntegrationsState.get_full_name().split(".")[1:])


def _card(state: IntegrationsState, service_id: str = "github") -> dict[str, str]:
    return next(c for c in state.cards if c["id"] == service_id)


@pytest.fixture
def no_oauth_app(github: FakeGitHub, settings_env) -> FakeGitHub:  # noqa: F811
    settings_env(VOPIX_GITHUB_CLIENT_ID="", VOPIX_GITHUB_CLIENT_SECRET="")
    github.add_token(PAT, "octocat", scopes=None)  # a fine-grained token of octocat's
    return github


async def test_without_a_session_every_event_sends_to_login() -> None:
    state = state_of(IntegrationsState)
    for event in (state.load(), state.connect("github"), state.paste_token({"service": "github", "token": PAT}),
                  state.confirm_disconnect(), state.filter_log("github"), state.older_log()):
        assert "/login" in str(await event)
    assert state.cards == []


async def test_without_an_oauth_app_github_connects_with_a_checked_pasted_token(
    no_oauth_app, make_user
) -> None:
    user_id, state = _page(make_user)
    await state.load()
    card = _card(state)
    # The paste form instead of the button, saying which token to paste.
    assert card["state"] == "Not connected" and card["oauth"] == "" and card["offered"] == "yes"
    assert card["paste"] == "Fine-grained personal access token"
    assert "Fine-grained tokens" in card["paste_hint"]
    assert "/login" not in str(await state.connect("github"))
    assert state.error == "GitHub cannot be connected with a sign-in here (no OAuth app is set up)."

    # Checked against GitHub before it is saved: a token GitHub refuses is not saved.
    await state.paste_token({"service": "github", "token": "github_pat_not_a_real_one_0000"})
    assert state.error == "GitHub did not accept the token: check that it is complete and still valid."
    assert not connections.is_connected(user_id, "github")
    await state.paste_token({"service": "github", "token": f"{PAT} and a note"})
    assert state.error == "Paste the whole token, with nothing else."

    await state.paste_token({"service": "github", "token": f"  {PAT}\n"})
    assert state.error == "" and state.message == "GitHub is connected as octocat."
    card = _card(state)
    assert card["state"] == "Connected as octocat" and card["connected"] == "yes"
    assert card["hint"] == "Token ending in wxyz"
    assert PAT not in str(state.cards) and connections.is_connected(user_id, "github")

    # Disconnecting says, before and after, that a pasted token is revoked only on GitHub.
    state.ask_disconnect("github")
    assert state.asking_disconnect == "github"
    assert card["disconnect_question"] == (
        "Disconnect GitHub? Your agent can no longer use it; the token is deleted here, and only "
        "GitHub itself can revoke it.")
    await state.confirm_disconnect()
    assert state.error.startswith("GitHub is disconnected and the token deleted here.")
    assert "revoked on GitHub itself" in state.error
    assert _card(state)["state"] == "Not connected" and not connections.is_connected(user_id, "github")
    assert no_oauth_app.revoked == []  # nothing GitHub could revoke: a pasted token is the person's


async def test_a_service_not_offered_here_takes_no_token(no_oauth_app, make_user) -> None:
    user_id, state = _page(make_user)
    await state.load()
    await state.paste_token({"service": "myspace", "token": "xoxb-1-2-3"})
    assert state.error == "That service is not offered here." and state.message == ""
    assert connections.list_connections(user_id) == {}


async def test_the_way_back_from_a_callback_says_how_it_went_once(github, make_user) -> None:  # noqa: F811
    _, state = _page(make_user, "/integrations?service=github&error=state")
    await state.load()
    assert state.error.startswith("This connect link is not valid") and state.message == ""
    _, state = _page(make_user, "/integrations?service=github&error=<b>Call 555-0100</b>")
    await state.load()
    assert state.error == "GitHub did not accept the sign-in. Try again."  # never the URL's text
    _, state = _page(make_user, "/integrations?connected=github")
    await state.load()
    assert state.message == "GitHub is connected." and state.error == ""


async def test_the_disconnect_question_for_oauth_and_where_the_focus_goes(github, make_user) -> None:  # noqa: F811
    user_id, state = _page(make_user)
    connections.save(user_id, "github", method="oauth", account="octocat", account_id="1", scopes="repo",
                     access_token="gho_browserless0000")
    await state.load()
    assert _card(state)["disconnect_question"] == (
        "Disconnect GitHub? Your agent can no longer use it, and the token is revoked at GitHub.")
    # Slack revokes a pasted bot token as well (auth.revoke): its question says so.
    connections.save(user_id, "slack", method="token", account="Acme", account_id="T1", scopes="",
                     access_token="xoxb-pasted-0000")
    await state.load()
    assert _card(state, "slack")["disconnect_question"] == (
        "Disconnect Slack? Your agent can no longer use it, and the token is revoked at Slack.")
    # "Keep it" closes the question and hands the focus back to the card's Disconnect button.
    state.ask_disconnect("github")
    assert state.focus_service == ""
    state.keep_connection()
    assert state.asking_disconnect == "" and state.focus_service == "github"
    assert connections.is_connected(user_id, "github")


async def test_one_person_cannot_disconnect_another(github, make_user) -> None:  # noqa: F811
    owner, _ = _page(make_user)
    connections.save(owner, "github", method="oauth", account="octocat", account_id="1", scopes="repo",
                     access_token="gho_owners_token_0000")
    _, other = _page(make_user)
    await other.load()
    assert _card(other)["state"] == "Not connected"
    other.ask_disconnect("github")
    await other.confirm_disconnect()
    assert other.error == "GitHub was not connected."
    assert connections.is_connected(owner, "github")


async def test_a_refused_token_says_so_and_offers_to_reconnect(github, make_user) -> None:  # noqa: F811
    user_id, state = _page(make_user)
    connections.save(user_id, "github", method="oauth", account="octocat", account_id="1", scopes="repo",
                     access_token="gho_refused_later_0000")
    await state.load()
    assert _card(state)["problem"] == "" and _card(state)["needs_reconnect"] == ""
    connections.mark_needs_reconnect(user_id, "github")
    await state.load()
    card = _card(state)
    assert card["state"] == "Needs reconnecting" and card["needs_reconnect"] == "yes"
    assert card["problem"] == (
        "GitHub refused the saved token of octocat: reconnect to let your agent use GitHub again.")
    # Reconnecting is the same sign-in as connecting.
    script = str(await state.connect("github"))
    assert f"{github.url}/login/oauth/authorize" in script and state.error == ""


async def test_a_revoked_token_says_revoked_and_offers_to_reconnect(github, make_user) -> None:  # noqa: F811
    user_id, state = _page(make_user)
    connections.save(user_id, "slack", method="token", account="Acme", account_id="T1", scopes="",
                     access_token="xoxb-1111-2222-revoked0000")
    connections.save(user_id, "github", method="oauth", account="octocat", account_id="1", scopes="repo",
                     access_token="gho_refused_later_1111")
    assert connections.mark_needs_reconnect(user_id, "slack", revoked=True)  # as on Slack's token_revoked
    connections.mark_needs_reconnect(user_id, "github")  # a 401: revoked or expired, GitHub does not say
    await state.load()
    slack, github_card = _card(state, "slack"), _card(state)
    assert slack["state"] == "Revoked — reconnect" and slack["needs_reconnect"] == "yes"
    assert slack["problem"] == (
        "Slack says the access of Acme was revoked there: reconnect to let your agent use Slack again.")
    assert slack["hint"] == "Token ending in 0000"
    assert github_card["state"] == "Needs reconnecting" and github_card["needs_reconnect"] == "yes"
