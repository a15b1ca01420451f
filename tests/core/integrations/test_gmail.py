"""Gmail for the agent: Google's consent with PKCE and offline access, the tools (search, read,
draft, a confirmed send), and short-lived tokens refreshed ahead of expiry and after a 401 by
exactly one worker, with invalid_grant ending in "needs reconnecting" and an alert."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.core.integrations.conftest import query_of
from tests.fakes.google import FakeGoogle
from vopix.core import sessions
from vopix.core.agent.tools import ToolContext, get_tool, run_tool
from vopix.core.clock import utcnow
from vopix.core.integrations import activity, connections, disconnect, oauth, refresh
from vopix.core.kinds import ConnectionStatus, MailKind
from vopix.db import session_scope
from vopix.models import MailOutbox


@pytest.fixture
def google(settings_env) -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        settings_env(VOPIX_GOOGLE_CLIENT_ID=fake.client_id, VOPIX_GOOGLE_CLIENT_SECRET=fake.client_secret,
                     VOPIX_GOOGLE_AUTH_BASE_URL=fake.url, VOPIX_GOOGLE_OAUTH2_BASE_URL=fake.url,
                     VOPIX_GMAIL_API_BASE_URL=fake.url)
        fake.add_message("bob@example.com", "ada@example.com", "Invoice 42", "Please pay invoice 42 by Friday.")
        fake.add_message("carol@example.com", "ada@example.com", "Lunch", "Tacos?")
        yield fake


def _connect(google: FakeGoogle, make_user) -> int:
    user_id, _, _ = make_user()
    _, info = sessions.start_session(user_id)
    q = query_of(oauth.begin(user_id, info.session_id, "google"))
    assert (q["access_type"], q["prompt"], q["code_challenge_method"]) == ("offline", "consent", "S256")
    code = google.authorize(redirect_uri=q["redirect_uri"], scope=q["scope"], code_challenge=q["code_challenge"],
                            access_type=q["access_type"], prompt=q["prompt"], state=q["state"])
    view = asyncio.run(oauth.finish("google", state=q["state"], code=code, user_id=user_id,
                                    session_id=info.session_id))
    assert view.account == "ada@example.com"
    return user_id


def _run(name: str, user_id: int, **args) -> tuple[str, bool]:
    tool = get_tool(name)
    assert tool is not None
    outcome = asyncio.run(run_tool(tool, ToolContext(user_id, 0, "telegram", confirmed=True), args))
    return outcome.text, outcome.failed


@pytest.mark.promise("P19")
def test_search_read_draft_and_send(google, make_user) -> None:
    user_id = _connect(google, make_user)
    text, failed = _run("gmail_search", user_id, query="invoice")
    assert not failed and "Invoice 42" in text and "Lunch" not in text
    message_id = text.split()[1]
    text, failed = _run("gmail_read", user_id, message_id=message_id)
    assert not failed and "Please pay invoice 42 by Friday." in text
    text, failed = _run("gmail_draft_reply", user_id, message_id=message_id, body="Paid today.")
    assert not failed and "not sent" in text
    assert (google.drafts[-1]["to"], google.drafts[-1]["subject"]) == ("bob@example.com", "Re: Invoice 42")
    text, failed = _run("gmail_send", user_id, to="dan@example.com", subject="Hello", body="Hi Dan")
    assert not failed and google.sent[-1]["text"].strip() == "Hi Dan" and google.sent[-1]["to"] == "dan@example.com"
    assert get_tool("gmail_send").needs_confirmation and not get_tool("gmail_draft_reply").needs_confirmation
    actions = [a.action for a in activity.list_activity(user_id, service="google")[0]]
    assert actions == ["sent mail to dan@example.com: “Hello”", "drafted a reply to bob@example.com: “Re: Invoice 42”",
                       "read a message from bob@example.com: “Invoice 42”", "read 1 messages matching 'invoice'"]


def test_a_token_near_its_expiry_is_refreshed_first(google, make_user, monkeypatch) -> None:
    user_id = _connect(google, make_user)
    later = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(refresh, "utcnow", lambda: later)
    google.advance(3600)  # Google's clock agrees: the old token is dead
    text, failed = _run("gmail_search", user_id, query="lunch")
    assert not failed and "Lunch" in text and google.refreshes == 1


def test_a_401_mid_call_refreshes_once_and_calls_again(google, make_user) -> None:
    user_id = _connect(google, make_user)
    google.advance(3600)  # expired at Google although VOPIX's clock says not yet
    text, failed = _run("gmail_search", user_id, query="lunch")
    assert not failed and "Lunch" in text and google.refreshes == 1


def test_two_workers_refreshing_at_once_make_one_refresh(google, make_user, monkeypatch) -> None:
    user_id = _connect(google, make_user)
    later = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(refresh, "utcnow", lambda: later)
    google.token_latency = 0.3
    ctx = ToolContext(user_id, 0, "web")
    with ThreadPoolExecutor(2) as pool:
        tokens = list(pool.map(lambda _: connections.credential(ctx, "google").access_token, range(2)))
    assert google.refreshes == 1 and tokens[0] == tokens[1]


def test_invalid_grant_marks_gmail_for_reconnecting_and_tells_the_person(google, make_user, monkeypatch) -> None:
    user_id = _connect(google, make_user)
    google.expire_grant()
    later = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(refresh, "utcnow", lambda: later)
    text, failed = _run("gmail_search", user_id, query="invoice")
    assert failed and "reconnect Gmail" in text
    assert connections.list_connections(user_id)["google"].status == ConnectionStatus.NEEDS_RECONNECT
    with session_scope() as s:
        alerts = s.exec(select(MailOutbox.text_body).where(MailOutbox.user_id == user_id,
                                                           MailOutbox.kind == MailKind.SECURITY)).all()
    assert any("no longer accepts your agent's access: Gmail (ada@example.com)" in body for body in alerts)
    text, failed = _run("gmail_search", user_id, query="invoice")
    assert failed and "needs reconnecting" in text and google.refreshes == 0


def test_disconnect_revokes_at_google(google, make_user) -> None:
    user_id = _connect(google, make_user)
    done = asyncio.run(disconnect.disconnect(user_id, "google"))
    assert done is not None and done.revoked and google.revoked
