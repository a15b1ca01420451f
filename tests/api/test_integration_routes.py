"""GET /api/integrations/{service}/callback: the login cookie says who, the state must be that
login's, and the answer is always a redirect to /integrations with a code, never free text."""

from __future__ import annotations

import warnings

from tests.core.integrations.conftest import github, query_of  # noqa: F401  (fixture)
from vopix.api.app import build_api
from vopix.core import sessions
from vopix.core.integrations import connections, oauth

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

COOKIE = sessions.COOKIE_NAME


def _client() -> TestClient:
    return TestClient(build_api(), base_url="http://testserver", follow_redirects=False)


def _begin(github, make_user) -> tuple[int, str, dict[str, str], str]:  # noqa: F811
    user_id, _, _ = make_user()
    token, info = sessions.start_session(user_id)
    q = query_of(oauth.begin(user_id, info.session_id, "github"))
    code = github.authorize(redirect_uri=q["redirect_uri"], state=q["state"], code_challenge=q["code_challenge"],
                            code_challenge_method="S256")
    return user_id, token, q, code


def test_the_callback_connects_and_sends_the_person_back_to_the_page(github, make_user) -> None:  # noqa: F811
    user_id, token, q, code = _begin(github, make_user)
    r = _client().get("/api/integrations/github/callback", params={"state": q["state"], "code": code},
                      headers={"cookie": f"{COOKIE}={token}"})
    assert r.status_code == 303 and r.headers["location"] == "/integrations?connected=github"
    assert r.headers["cache-control"] == "no-store" and connections.is_connected(user_id, "github")


def test_a_callback_from_another_login_or_a_denial_connects_nothing(github, make_user) -> None:  # noqa: F811
    user_id, _, q, code = _begin(github, make_user)
    other, _, _ = make_user()
    other_token, _ = sessions.start_session(other)
    client = _client()
    r = client.get("/api/integrations/github/callback", params={"state": q["state"], "code": code},
                   headers={"cookie": f"{COOKIE}={other_token}"})
    assert r.headers["location"] == "/integrations?service=github&error=state"
    r = client.get("/api/integrations/github/callback",
                   params={"error": "access_denied", "error_description": "<b>Call 555-0100 now</b>"},
                   headers={"cookie": f"{COOKIE}={other_token}"})
    assert r.headers["location"] == "/integrations?service=github&error=denied"  # no text from the URL
    r = client.get("/api/integrations/github/callback", params={"state": q["state"], "code": code})
    assert r.status_code == 303 and r.headers["location"] == "/login"  # no cookie: nobody
    assert not connections.is_connected(user_id, "github") and not connections.is_connected(other, "github")
    r = client.get("/api/integrations/nothing/callback", headers={"cookie": f"{COOKIE}={other_token}"})
    assert r.headers["location"] == "/integrations?error=exchange"
    assert oauth.message_for("denied", "github") == (
        "GitHub was not connected: the sign-in was cancelled or refused on GitHub.")
