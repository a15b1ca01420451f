"""The loopback fakes of GitHub, Slack and Google answer like the real services
(tests/fakes/github.py, slack.py, google.py): OAuth round trips, API shapes, errors, revocation."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes._oauth import s256
from tests.fakes.github import FakeGitHub
from tests.fakes.google import GMAIL_COMPOSE, GMAIL_READONLY, GMAIL_SEND, FakeGoogle
from tests.fakes.slack import FakeSlack

CALLBACK = "http://testserver/api/integrations/github/callback"


def _query(location: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}


def _form_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


# ---------------------------------------------------------------------------------- GitHub


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(client_id="Iv1.vopix", client_secret="gh-secret") as fake:
        yield fake


def test_github_oauth_round_trip_checks_pkce_and_spends_the_code(github: FakeGitHub) -> None:
    verifier = secrets.token_urlsafe(48)
    params = {"client_id": "Iv1.vopix", "redirect_uri": CALLBACK, "scope": "repo read:user",
              "state": "st-1", "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    page = httpx.get(f"{github.url}/login/oauth/authorize", params=params)
    assert page.status_code == 200
    assert "<h1>Authorize VOPIX</h1>" in page.text and ">Authorize</button>" in page.text
    back = httpx.post(f"{github.url}/login/oauth/authorize",
                      data={**_form_fields(page.text), "decision": "allow"})
    assert back.status_code == 302 and back.headers["Location"].startswith(CALLBACK + "?")
    answer = _query(back.headers["Location"])
    assert answer["state"] == "st-1"

    exchange = {"client_id": "Iv1.vopix", "client_secret": "gh-secret", "code": answer["code"],
                "redirect_uri": CALLBACK}
    json_accept = {"Accept": "application/json"}
    wrong = httpx.post(f"{github.url}/login/oauth/access_token", headers=json_accept,
                       data={**exchange, "code_verifier": "not-the-verifier"})
    assert wrong.status_code == 200  # GitHub answers token errors with 200
    assert wrong.json()["error"] == "bad_verification_code"
    again = httpx.post(f"{github.url}/login/oauth/access_token", headers=json_accept,
                       data={**exchange, "code_verifier": verifier})
    assert again.json()["error"] == "bad_verification_code"  # a code works once, even when refused

    code = github.authorize(redirect_uri=CALLBACK, scope="repo", code_challenge=s256(verifier),
                            code_challenge_method="S256")
    other_app = httpx.post(f"{github.url}/login/oauth/access_token", headers=json_accept,
                           data={**exchange, "client_secret": "nope", "code": code})
    assert other_app.json()["error"] == "incorrect_client_credentials"
    token = httpx.post(f"{github.url}/login/oauth/access_token", headers=json_accept,
                       data={**exchange, "code": code, "code_verifier": verifier}).json()
    assert token["token_type"] == "bearer" and token["scope"] == "repo"
    assert token["access_token"].startswith("gho_")
    me = httpx.get(f"{github.url}/user", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["login"] == "octocat" and me.headers["X-OAuth-Scopes"] == "repo"

    form = httpx.post(f"{github.url}/login/oauth/access_token", data={**exchange, "code": "used"})
    assert parse_qs(form.text)["error"] == ["bad_verification_code"]  # no Accept: form-encoded


def test_github_api_speaks_githubs_shapes(github: FakeGitHub) -> None:
    github.add_repo("octo/hello", issues=[{"title": "Crash on start", "labels": ["bug"]},
                                          {"title": "Old one", "state": "closed"}],
                    pulls=[{"title": "Fix the crash", "head": "fix"}])
    github.add_repo("octo/zeta")
    github.add_token("ghp_test", "octocat", scopes=["repo"])
    api = httpx.Client(base_url=github.url, headers={"Authorization": "token ghp_test"})

    page1 = api.get("/user/repos", params={"per_page": 1})
    assert [r["full_name"] for r in page1.json()] == ["octo/hello"]
    assert 'rel="next"' in page1.headers["Link"] and "page=2" in page1.headers["Link"]
    issues = api.get("/repos/octo/hello/issues").json()
    assert [(i["number"], "pull_request" in i) for i in issues] == [(3, True), (1, False)]
    assert [i["number"] for i in api.get("/repos/octo/hello/issues", params={"labels": "bug"}).json()] == [1]
    assert api.get("/repos/octo/hello/pulls/3").json()["head"]["ref"] == "fix"
    assert api.get("/repos/octo/hello/pulls/1").status_code == 404

    created = api.post("/repos/octo/hello/issues", json={"title": "Add dark mode", "body": "please"})
    assert created.status_code == 201 and created.json()["number"] == 4
    assert created.json()["user"]["login"] == "octocat"
    comment = api.post("/repos/octo/hello/issues/4/comments", json={"body": "On it"})
    assert comment.status_code == 201 and github.comments("octo/hello", 4)[0]["body"] == "On it"
    assert api.get("/repos/octo/hello/issues/4").json()["comments"] == 1

    missing = api.post("/repos/octo/hello/issues", json={"body": "no title"})
    assert missing.status_code == 422 and "\"title\" wasn't supplied" in missing.json()["message"]
    empty = api.post("/repos/octo/hello/issues", json={"title": " "})
    assert empty.json()["errors"][0]["code"] == "missing_field"
    assert api.get("/repos/octo/nope/issues").json()["message"] == "Not Found"

    found = api.get("/search/issues", params={"q": "crash repo:octo/hello is:issue"}).json()
    assert found["total_count"] == 1 and found["items"][0]["title"] == "Crash on start"
    bare = api.get("/search/issues", params={"q": "crash"})
    assert bare.status_code == 422 and "is:issue" in bare.json()["message"]

    bad = httpx.get(f"{github.url}/user", headers={"Authorization": "Bearer gho_unknown"})
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert bad.json()["documentation_url"].startswith("https://docs.github.com/")


def test_github_rate_limits_and_revocation(github: FakeGitHub) -> None:
    code = github.authorize(redirect_uri=CALLBACK, scope="repo")
    token = httpx.post(f"{github.url}/login/oauth/access_token", headers={"Accept": "application/json"},
                       data={"client_id": "Iv1.vopix", "client_secret": "gh-secret",
                             "code": code}).json()["access_token"]
    api = httpx.Client(base_url=github.url, headers={"Authorization": f"Bearer {token}"})
    assert int(api.get("/user").headers["X-RateLimit-Remaining"]) == 4999

    github.rate_limit_next(seconds=120)
    limited = api.get("/user")
    assert limited.status_code == 403 and "API rate limit exceeded" in limited.json()["message"]
    assert limited.headers["X-RateLimit-Remaining"] == "0" and int(limited.headers["X-RateLimit-Reset"]) > 0
    github.rate_limit_next(secondary=True, seconds=30)
    secondary = api.get("/user")
    assert secondary.status_code == 429 and secondary.headers["Retry-After"] == "30"
    assert api.get("/user").status_code == 200

    wrong = httpx.request("DELETE", f"{github.url}/applications/Iv1.vopix/token",
                          auth=("Iv1.vopix", "wrong"), json={"access_token": token})
    assert wrong.status_code == 401
    revoked = httpx.request("DELETE", f"{github.url}/applications/Iv1.vopix/token",
                            auth=("Iv1.vopix", "gh-secret"), json={"access_token": token})
    assert revoked.status_code == 204 and github.revoked == [token]
    assert api.get("/user").status_code == 401
    assert [r.path for r in github.requests if r.method == "DELETE"] == ["/applications/Iv1.vopix/token"] * 2


# ---------------------------------------------------------------------------------- Slack

SLACK_CALLBACK = "http://testserver/api/integrations/slack/callback"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(client_id="111.222", client_secret="sl-secret", team_name="Acme") as fake:
        yield fake


def test_slack_install_round_trip_and_web_api(slack: FakeSlack) -> None:
    general = slack.add_channel("general", messages=["hello", "standup at 10", "lunch?"])
    random = slack.add_channel("random", member=False)
    params = {"client_id": "111.222", "scope": "channels:read,channels:history,chat:write",
              "redirect_uri": SLACK_CALLBACK, "state": "st-9"}
    page = httpx.get(f"{slack.url}/oauth/v2/authorize", params=params)
    assert "<h1>Allow VOPIX</h1>" in page.text and ">Allow</button>" in page.text
    back = httpx.post(f"{slack.url}/oauth/v2/authorize",
                      data={**_form_fields(page.text), "decision": "allow"})
    answer = _query(back.headers["Location"])
    assert answer["state"] == "st-9"

    access = {"client_id": "111.222", "client_secret": "sl-secret", "code": answer["code"],
              "redirect_uri": SLACK_CALLBACK}
    bad_secret = httpx.post(f"{slack.url}/api/oauth.v2.access", data={**access, "client_secret": "x"})
    assert bad_secret.status_code == 200 and bad_secret.json() == {"ok": False, "error": "bad_client_secret"}
    install = httpx.post(f"{slack.url}/api/oauth.v2.access", data=access).json()
    assert install["ok"] and install["token_type"] == "bot" and install["access_token"].startswith("xoxb-")
    assert install["team"] == {"id": slack.team_id, "name": "Acme"} and install["bot_user_id"]
    reused = httpx.post(f"{slack.url}/api/oauth.v2.access", data=access).json()
    assert reused == {"ok": False, "error": "invalid_code"}

    api = httpx.Client(base_url=f"{slack.url}/api",
                       headers={"Authorization": f"Bearer {install['access_token']}"})
    assert api.post("/auth.test").json()["team"] == "Acme"
    first = api.get("/conversations.list", params={"limit": 1}).json()
    cursor = first["response_metadata"]["next_cursor"]
    second = api.get("/conversations.list", params={"limit": 1, "cursor": cursor}).json()
    assert [c["name"] for c in first["channels"] + second["channels"]] == ["general", "random"]
    assert second["response_metadata"]["next_cursor"] == ""
    history = api.post("/conversations.history", data={"channel": general, "limit": 2}).json()
    assert [m["text"] for m in history["messages"]] == ["lunch?", "standup at 10"] and history["has_more"]

    posted = api.post("/chat.postMessage", json={"channel": general, "text": "Done!"}).json()
    assert posted["ok"] and posted["channel"] == general and slack.posted[-1]["ts"] == posted["ts"]
    assert slack.messages(general)[-1] == "Done!"
    for data, error in [({"channel": random, "text": "hi"}, "not_in_channel"),
                        ({"channel": "C0NOPE", "text": "hi"}, "channel_not_found")]:
        failed = api.post("/chat.postMessage", data=data)
        assert failed.status_code == 200 and failed.json() == {"ok": False, "error": error}
    no_scope = api.post("/users.info", data={"user": slack.installer}).json()
    assert no_scope["error"] == "missing_scope" and no_scope["needed"] == "users:read"


def test_slack_errors_rate_limit_and_revoke(slack: FakeSlack) -> None:
    token = slack.add_token()
    api = httpx.Client(base_url=f"{slack.url}/api", headers={"Authorization": f"Bearer {token}"})
    assert httpx.post(f"{slack.url}/api/auth.test",
                      headers={"Authorization": "Bearer xoxb-nope"}).json()["error"] == "invalid_auth"
    slack.rate_limit_next(retry_after=7)
    limited = api.post("/auth.test")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert api.post("/auth.revoke").json() == {"ok": True, "revoked": True}
    assert api.post("/auth.test").json() == {"ok": False, "error": "token_revoked"}


def test_slack_rotating_tokens_expire_and_refresh_once() -> None:
    with FakeSlack(client_id="1.2", client_secret="s", rotation=True) as slack:
        code = slack.authorize(redirect_uri=SLACK_CALLBACK, scope="chat:write")
        first = httpx.post(f"{slack.url}/api/oauth.v2.access",
                           data={"client_id": "1.2", "client_secret": "s", "code": code}).json()
        assert first["expires_in"] == 43200 and first["refresh_token"].startswith("xoxe-1-")
        slack.advance(43200)
        expired = httpx.post(f"{slack.url}/api/auth.test", data={"token": first["access_token"]})
        assert expired.json()["error"] == "token_expired"
        refresh = {"client_id": "1.2", "client_secret": "s", "grant_type": "refresh_token",
                   "refresh_token": first["refresh_token"]}
        renewed = httpx.post(f"{slack.url}/api/oauth.v2.access", data=refresh).json()
        assert renewed["ok"] and renewed["access_token"] != first["access_token"]
        again = httpx.post(f"{slack.url}/api/oauth.v2.access", data=refresh).json()
        assert again == {"ok": False, "error": "invalid_refresh_token"} and slack.refreshes == 1


# ---------------------------------------------------------------------------------- Google

GOOGLE_CALLBACK = "http://testserver/api/integrations/google/callback"


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle(client_id="123.apps.googleusercontent.com", client_secret="g-secret") as fake:
        yield fake


def _exchange(google: FakeGoogle, code: str, verifier: str) -> httpx.Response:
    return httpx.post(f"{google.url}/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": GOOGLE_CALLBACK, "client_id": google.client_id, "client_secret": "g-secret"})


def test_google_consent_pkce_and_refresh_token_rules(google: FakeGoogle) -> None:
    verifier = secrets.token_urlsafe(48)
    params = {"client_id": google.client_id, "redirect_uri": GOOGLE_CALLBACK, "response_type": "code",
              "scope": f"{GMAIL_READONLY} {GMAIL_SEND}", "access_type": "offline", "state": "st-g",
              "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    no_pkce = httpx.get(f"{google.url}/o/oauth2/v2/auth",
                        params={k: v for k, v in params.items() if not k.startswith("code_")})
    assert no_pkce.status_code == 400 and "invalid_request" in no_pkce.text
    page = httpx.get(f"{google.url}/o/oauth2/v2/auth", params=params)
    assert "<h1>Sign in with Google</h1>" in page.text and ">Allow</button>" in page.text
    back = httpx.post(f"{google.url}/o/oauth2/v2/auth", data={**_form_fields(page.text), "decision": "allow"})
    answer = _query(back.headers["Location"])
    assert answer["state"] == "st-g"

    wrong = _exchange(google, answer["code"], "not-the-verifier")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    first = _exchange(google, google.authorize(redirect_uri=GOOGLE_CALLBACK, scope=params["scope"],
                                               code_challenge=s256(verifier), access_type="offline"),
                      verifier).json()
    assert first["token_type"] == "Bearer" and first["expires_in"] == 3599
    assert first["refresh_token"] and first["scope"] == f"{GMAIL_READONLY} {GMAIL_SEND}"
    again = _exchange(google, google.authorize(redirect_uri=GOOGLE_CALLBACK, code_challenge=s256(verifier),
                                               access_type="offline"), verifier).json()
    assert "refresh_token" not in again  # a second consent without prompt=consent
    forced = _exchange(google, google.authorize(redirect_uri=GOOGLE_CALLBACK, code_challenge=s256(verifier),
                                                access_type="offline", prompt="consent"), verifier).json()
    assert forced["refresh_token"] != first["refresh_token"]

    api = f"{google.url}/gmail/v1/users/me/profile"
    assert httpx.get(api, headers={"Authorization": f"Bearer {first['access_token']}"}).json()[
        "emailAddress"] == "ada@example.com"
    google.advance(3600)
    expired = httpx.get(api, headers={"Authorization": f"Bearer {first['access_token']}"})
    assert expired.status_code == 401 and expired.json()["error"]["status"] == "UNAUTHENTICATED"
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
               "client_id": google.client_id, "client_secret": "g-secret"}
    renewed = httpx.post(f"{google.url}/token", data=refresh).json()
    assert "refresh_token" not in renewed and google.refreshes == 1
    assert httpx.get(api, headers={"Authorization": f"Bearer {renewed['access_token']}"}).status_code == 200
    google.expire_grant()
    dead = httpx.post(f"{google.url}/token", data=refresh)
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"

    assert httpx.post(f"{google.url}/revoke", params={"token": forced["refresh_token"]}).status_code == 200
    assert google.revoked == [forced["refresh_token"]]
    assert httpx.get(api, headers={"Authorization": f"Bearer {forced['access_token']}"}).status_code == 401


def _b64decode(data: str) -> str:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()


def test_gmail_messages_threads_drafts_and_send(google: FakeGoogle) -> None:
    first = google.add_message("Bob <bob@example.com>", subject="Invoice 42", body="Please pay & smile.",
                               html="<p>Please pay &amp; smile.</p>")
    google.add_message("carol@example.com", subject="Lunch", body="Noon?")
    code = google.authorize(redirect_uri=GOOGLE_CALLBACK, scope=f"{GMAIL_READONLY} {GMAIL_COMPOSE}",
                            code_challenge=s256("v" * 43))
    token = _exchange(google, code, "v" * 43).json()["access_token"]
    gmail = httpx.Client(base_url=f"{google.url}/gmail/v1/users/me",
                         headers={"Authorization": f"Bearer {token}"})

    listed = gmail.get("/messages", params={"q": "invoice", "maxResults": 10}).json()
    assert listed["messages"] == [{"id": first, "threadId": first}] and listed["resultSizeEstimate"] == 1
    assert gmail.get("/messages", params={"q": "from:nobody"}).json() == {"resultSizeEstimate": 0}
    paged = gmail.get("/messages", params={"maxResults": 1}).json()
    assert "nextPageToken" in paged
    full = gmail.get(f"/messages/{first}", params={"format": "full"}).json()
    assert full["snippet"] == "Please pay &amp; smile."
    headers = {h["name"]: h["value"] for h in full["payload"]["headers"]}
    assert headers["Subject"] == "Invoice 42" and full["payload"]["mimeType"] == "multipart/alternative"
    parts = {p["mimeType"]: _b64decode(p["body"]["data"]) for p in full["payload"]["parts"]}
    assert parts["text/plain"].strip() == "Please pay & smile." and "<p>" in parts["text/html"]
    assert gmail.get("/messages/ffff0000ffff0000").json()["error"]["code"] == 404

    reply = EmailMessage()
    reply["To"], reply["Subject"] = "bob@example.com", "Re: Invoice 42"
    reply["In-Reply-To"] = reply["References"] = headers["Message-ID"]
    reply.set_content("Paid, thanks.")
    raw = base64.urlsafe_b64encode(reply.as_bytes()).decode()
    draft = gmail.post("/drafts", json={"message": {"raw": raw, "threadId": first}}).json()
    assert draft["id"].startswith("r") and draft["message"]["threadId"] == first
    assert google.drafts[-1]["text"].strip() == "Paid, thanks." and google.drafts[-1]["to"] == "bob@example.com"
    thread = gmail.get(f"/threads/{first}").json()
    assert [m["labelIds"] for m in thread["messages"]] == [["INBOX", "UNREAD"], ["DRAFT"]]

    send_code = google.authorize(redirect_uri=GOOGLE_CALLBACK, scope=GMAIL_SEND, code_challenge=s256("w" * 43))
    sender = _exchange(google, send_code, "w" * 43).json()["access_token"]
    denied = httpx.get(f"{google.url}/gmail/v1/users/me/profile", headers={"Authorization": f"Bearer {sender}"})
    assert denied.status_code == 403 and denied.json()["error"]["status"] == "PERMISSION_DENIED"  # send cannot read
    sent = httpx.post(f"{google.url}/gmail/v1/users/me/messages/send", json={"raw": raw, "threadId": first},
                      headers={"Authorization": f"Bearer {sender}"}).json()
    assert sent["labelIds"] == ["SENT"] and sent["threadId"] == first
    assert google.sent[-1]["from"] == "Ada Lovelace <ada@example.com>"  # Gmail sends as the account
    assert message_from_bytes(google.sent[-1]["raw"], policy=policy.default)["Subject"] == "Re: Invoice 42"
    no_to = EmailMessage()
    no_to["Subject"] = "x"
    no_to.set_content("x")
    bad = httpx.post(f"{google.url}/gmail/v1/users/me/messages/send", headers={"Authorization": f"Bearer {sender}"},
                     json={"raw": base64.urlsafe_b64encode(no_to.as_bytes()).decode()})
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "Recipient address required"
