"""Shared pieces for state tests: a page's state as the server holds it for one socket, and a
person logged in on that socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from vopix.core import sessions

S = TypeVar("S", bound=rx.State)


def state_of(cls: type[S], cookie: str = "", sid: str = "") -> S:
    """The `cls` state in a fresh state tree whose socket (`sid`) handshake carried `cookie`."""
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"headers": {"cookie": cookie}, "sid": sid})
    return root.get_substate(cls.get_full_name().split(".")[1:])


def root_of(state: rx.State) -> rx.State:
    while state.parent_state is not None:
        state = state.parent_state
    return state


def set_cookie(state: rx.State, cookie: str, sid: str = "") -> None:
    """As if the socket reconnected (as `sid`) with another cookie."""
    root_of(state).router = RouterData.from_router_data({"headers": {"cookie": cookie}, "sid": sid})


@pytest.fixture
def logged_in(make_user) -> Callable[[type[S]], tuple[int, S]]:
    """logged_in(SomeState) -> (user_id, that state on a socket holding the person's session)."""

    def make(cls: type[S]) -> tuple[int, S]:
        user_id, _, _ = make_user()
        token, _ = sessions.start_session(user_id)
        return user_id, state_of(cls, f"{sessions.COOKIE_NAME}={token}")

    return make
