"""A fake GitHub (tests/fakes/github.py) the product reaches through its base URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes.github import FakeGitHub


@pytest.fixture
def github(github_fake: FakeGitHub) -> FakeGitHub:
    github_fake.add_repo("octocat/hello", issues=[{"title": "Crash on start", "labels": ["bug"]}])
    return github_fake


@pytest.fixture
def no_waits(monkeypatch) -> list[float]:
    """Retries record their waits instead of sleeping."""
    from vopix.core import http

    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(http, "default_sleep", record)
    return waits


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
