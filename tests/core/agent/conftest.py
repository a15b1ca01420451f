"""Fixtures for agent tests: a fake provider the person's agent is pointed at."""

from __future__ import annotations

import pytest

from tests.fakes.ai_provider import FakeAIProvider, make_fixture
from vopix.core.agent import profile

fake_ai = make_fixture()


@pytest.fixture
def agent_user(make_user, fake_ai: FakeAIProvider):
    """A user whose agent talks to the fake OpenAI-compatible provider with their own key."""
    user_id, _, _ = make_user()
    profile.update_provider(
        user_id, kind="openai", model="gpt-4o-mini", base_url=fake_ai.openai_base_url,
        api_key="sk-test-abcdefghijklmnop1234",
    )
    return user_id


async def collect(aiter) -> list:
    return [e async for e in aiter]
