"""Fixtures for agent tests: a fake provider the person's agent is pointed at."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fakes.ai_provider import FakeAIProvider, make_fixture
from vopix.core.agent import profile
from vopix.core.agent.tools import Tool, register_tool, unregister_tool

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


@pytest.fixture
def add_tool() -> Iterator[Callable[[Tool], Tool]]:
    """add_tool(Tool(...)): offer the agent one more tool, for this test only."""
    added: list[str] = []

    def add(tool: Tool) -> Tool:
        added.append(tool.name)
        return register_tool(tool)

    yield add
    for name in added:
        unregister_tool(name)
