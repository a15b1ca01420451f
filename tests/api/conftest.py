"""Fixtures of the route tests: a client of the API app and logged-in people."""

from __future__ import annotations

import warnings

import pytest

from vopix.api.app import build_api
from vopix.core import sessions

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def client() -> TestClient:
    """The API app alone (a test module may define its own, with middleware)."""
    return TestClient(build_api(), base_url="http://testserver")


@pytest.fixture
def person(make_user):
    """A logged-in person: make() -> (user_id, cookie header)."""

    def make() -> tuple[int, dict[str, str]]:
        user_id, _, _ = make_user()
        token, _ = sessions.start_session(user_id)
        return user_id, {"cookie": f"{sessions.COOKIE_NAME}={token}"}

    return make
