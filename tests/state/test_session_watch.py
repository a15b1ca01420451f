"""An open tab whose login ends elsewhere (revoked, suspended, being deleted) forgets the person
and goes to the login page by itself, without an event of its own (issue 12). It is told by a
live notice the moment the login ends (issue 15: no timer), and checks anyway when it has heard
nothing for a while (an expiry sends no notice)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.state.conftest import state_of
from vopix.core import account_standing, live, sessions
from vopix.core.clock import utcnow
from vopix.db import get_engine, session_scope
from vopix.models import AuthSession
from vopix.state import session as session_state
from vopix.state.account import AccountState
from vopix.state.session import LOGIN_ROUTE, SessionState

pytestmark = pytest.mark.asyncio


@pytest.fixture
def links(monkeypatch) -> dict[str, str]:
    """The client token -> socket links the watcher checks."""
    links = {"": "tab-socket"}
    monkeypatch.setattr(session_state, "linked_socket", links.get)
    return links


@pytest.fixture
def fast_fallback(monkeypatch, links) -> dict[str, str]:
    """The watcher's check without a notice comes at once."""
    monkeypatch.setattr(session_state, "FALLBACK_SECONDS", 0.01)
    return links


def _events(reply) -> list:
    return reply if isinstance(reply, list) else [reply]


async def _open_account_page(make_user) -> tuple[int, str, AccountState, sessions.SessionInfo]:
    user_id, email, _ = make_user()
    token, _ = sessions.start_session(user_id, user_agent="Firefox")
    _, elsewhere = sessions.start_session(user_id, user_agent="Android")
    page = state_of(AccountState, f"{sessions.COOKIE_NAME}={token}", "tab-socket")
    reply = await page.load()
    assert SessionState.watch_session in _events(reply)
    return user_id, email, page, elsewhere


async def _watch(page: AccountState):
    return await asyncio.wait_for(SessionState.event_handlers["watch_session"].fn(page), timeout=20)


async def _watching(page: AccountState, user_id: int) -> asyncio.Task:
    """The tab's watcher, started and listening for the person's notices."""
    watcher = asyncio.create_task(_watch(page))
    while live.hub.waiting(user_id) == 0:
        await asyncio.sleep(0.01)
    return watcher


async def test_a_socket_gets_one_watcher_and_a_new_socket_its_own(make_user) -> None:
    _, _, page, _ = await _open_account_page(make_user)
    assert SessionState.watch_session not in _events(await page.load())  # same socket: still one
    page.router = type(page.router).from_router_data(
        {"headers": {"cookie": page.router.headers.cookie}, "sid": "reloaded-socket"}
    )
    assert SessionState.watch_session in _events(await page.load())


async def test_without_a_socket_no_watcher_is_started(logged_in) -> None:
    _, page = logged_in(AccountState)
    assert SessionState.watch_session not in _events(await page.load())


@pytest.mark.promise("P29")
async def test_log_out_other_devices_sends_the_other_tab_to_the_login_page_emptied(
    make_user, links
) -> None:
    user_id, email, page, elsewhere = await _open_account_page(make_user)
    assert page.user_email == email and page.session_rows
    watcher = await _watching(page, user_id)  # waits for a notice (the fallback is 30 s away)
    # The other device's tab (this one) is logged out from the first device.
    await asyncio.to_thread(sessions.end_other_sessions, user_id, keep_session_id=elsewhere.session_id)
    reply = await watcher
    assert reply is not None and LOGIN_ROUTE in repr(reply)
    assert page.user_email == "" and page.session_rows == [] and not page.logged_in
    assert email not in repr(page.dict()) and page._user_id == 0
    assert await page.current_user_id() is None


@pytest.mark.promise("P29")
async def test_a_suspended_or_deleting_account_ends_the_open_tab(make_user, links) -> None:
    user_id, email, page, _ = await _open_account_page(make_user)
    watcher = await _watching(page, user_id)
    # Suspension as the staff console does it (its own revocation aside, the watcher checks
    # the account's standing too).
    assert sessions.is_active(page._session_id, user_id)
    assert await asyncio.to_thread(account_standing.suspend, user_id, "reported")
    assert not sessions.is_active(page._session_id, user_id)
    assert "/login" in repr(await watcher)
    assert email not in repr(page.dict())


async def test_an_expired_login_is_found_without_a_notice(make_user, fast_fallback) -> None:
    _, email, page, _ = await _open_account_page(make_user)
    with session_scope() as s:  # expiry is a time passing: nothing tells the tab
        s.get(AuthSession, page._session_id).expires_at = utcnow() - timedelta(seconds=1)
    assert "/login" in repr(await _watch(page))
    assert email not in repr(page.dict())


async def test_a_notice_for_someone_else_leaves_the_tab_alone(make_user, links) -> None:
    user_id, email, page, _ = await _open_account_page(make_user)
    other_id, _, _ = make_user()
    sessions.start_session(other_id)
    watcher = await _watching(page, user_id)
    await asyncio.to_thread(sessions.end_other_sessions, other_id, keep_session_id=None)
    await asyncio.sleep(0.2)
    assert not watcher.done() and page.user_email == email
    links[""] = "another-socket"
    live.publish(user_id, live.SESSION)  # woken: its socket is gone, so it stops
    assert await watcher is None


async def test_a_live_login_is_left_alone_and_the_watcher_stops_with_its_socket(
    make_user, fast_fallback
) -> None:
    _, email, page, _ = await _open_account_page(make_user)
    queries: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "auth_session" in statement.lower() or "authsession" in statement.lower():
            queries.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        watcher = asyncio.create_task(_watch(page))
        while len(queries) < 3:  # three checks of a login that holds
            await asyncio.sleep(0.01)
        assert page.user_email == email and page.session_rows  # nothing forgotten
        fast_fallback[""] = "another-socket"  # the tab reconnected elsewhere: that socket watches
        assert await asyncio.wait_for(watcher, timeout=20) is None
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    assert page.user_email == email and page._watch_sid == ""
