"""The forgot-password, reset and "this wasn't me" pages' states, without a browser."""

from __future__ import annotations

import inspect
import re
from typing import Any, TypeVar

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from vopix.core import accounts, password_reset, sessions
from vopix.db import session_scope
from vopix.models import MailOutbox
from vopix.state.reset import ForgotState, NotMeState, ResetState

pytestmark = pytest.mark.asyncio
S = TypeVar("S", bound=rx.State)
NEW_PASSWORD = "lantern-quietly-93-moss"


def _page(cls: type[S], path: str) -> S:
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"origin": "http://testserver", "user-agent": "Firefox/128.0"}, "asPath": path}
    )
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def _run(result: Any) -> None:
    """Await a handler, or run one that yields updates to its end."""
    if inspect.isasyncgen(result):
        async for _ in result:
            pass
    elif inspect.isawaitable(result):
        await result


def _mailed_link(path: str) -> str:
    """The token of the newest queued mail's link to `path`."""
    with session_scope() as s:
        body = s.exec(select(MailOutbox.text_body).order_by(MailOutbox.id.desc())).first() or ""
    match = re.search(rf"{path}\?token=([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


async def test_forgot_answers_the_same_for_any_address_and_explains_bad_input(make_user) -> None:
    _, email, _ = make_user()
    page = _page(ForgotState, "/forgot")
    await _run(page.request({"email": "nobody@example.com"}))
    unknown = page.answer
    await _run(page.request({"email": email}))
    assert page.answer == unknown == password_reset.ANSWER and page.error == ""
    await _run(page.request({"email": "ada@example.com\r\nBcc: eve@example.com"}))
    assert page.answer == "" and "line break" in page.error


@pytest.mark.promise("P16")
async def test_the_reset_page_sets_the_password_once_and_keeps_the_token_to_itself(make_user) -> None:
    user_id, email, _ = make_user()
    password_reset.request_reset(email)
    token = _mailed_link("/reset")
    page = _page(ResetState, f"/reset?token={token}")
    await _run(page.load())
    assert page.checked and page.problem == ""
    assert token not in str(page.dict())  # the browser gets the page, not the token back

    await _run(page.set_password({"password": NEW_PASSWORD, "repeat": "something-else-entirely"}))
    assert "not the same" in page.error and not page.done
    await _run(page.set_password({"password": NEW_PASSWORD, "repeat": NEW_PASSWORD}))
    assert page.done and page.error == "" and page.problem == ""
    assert accounts.check_credentials(email, NEW_PASSWORD).id == user_id

    again = _page(ResetState, f"/reset?token={token}")
    await _run(again.load())
    assert "already used" in again.problem


async def test_a_wrong_or_missing_link_gets_a_page_that_says_so(make_user) -> None:
    for path in ("/reset?token=not-a-real-token", "/reset"):
        page = _page(ResetState, path)
        await _run(page.load())
        assert "not valid" in page.problem and page.checked


async def test_opening_a_not_me_link_does_nothing_until_confirmed(make_user) -> None:
    from vopix.core import security_alerts

    user_id, _, _ = make_user()
    login, _ = sessions.start_session(user_id)
    with session_scope() as s:
        security_alerts.raise_alert(s, user_id, security_alerts.AlertKind.PASSWORD_CHANGED)
    token = _mailed_link("/not-me")
    page = _page(NotMeState, f"/not-me?token={token}")
    await _run(page.load())
    assert page.problem == "" and not page.done and sessions.resolve(login) is not None
    await _run(page.confirm())
    assert page.done and sessions.resolve(login) is None
    _mailed_link("/reset")  # the reset mail is queued
    await _run(page.confirm())  # a second press changes nothing
    assert page.done and page.problem == ""
    again = _page(NotMeState, f"/not-me?token={token}")
    await _run(again.load())
    assert "already used" in again.problem
