"""Fixtures of the privacy tests."""

from __future__ import annotations

import pytest

from tests.fakes.github import FakeGitHub


@pytest.fixture
def github(github_fake: FakeGitHub) -> FakeGitHub:
    """A connected-service fake whose token the deletion must revoke."""
    return github_fake
