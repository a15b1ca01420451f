"""One registry of the tools the agent may call, each acting for exactly one user."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from vopix.core.providers import ToolSpec

CHANNELS_WITH_CONFIRMATION = frozenset({"web"})


@dataclass(frozen=True)
class ToolContext:
    """Who the tool acts for, and where the request came from."""

    user_id: int
    conversation_id: int
    channel: str  # web | telegram | whatsapp
    confirmed: bool = False


class ToolFailed(Exception):
    """A refusal or failure whose message is given back to the model (and shown)."""


Handler = Callable[[ToolContext, dict[str, Any]], "str | Awaitable[str]"]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler
    # Destructive tools wait for the person to confirm in the web chat; channels without a
    # confirmation step refuse them.
    needs_confirmation: bool = False
    # Optional: is this tool offered to this user at all (e.g. only once Slack is connected)?
    available: Callable[[int], bool] | None = field(default=None)

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)


_REGISTRY: dict[str, Tool] = {}


def register_tool(tool: Tool) -> Tool:
    _REGISTRY[tool.name] = tool
    return tool


def unregister_tool(name: str) -> None:
    _REGISTRY.pop(name, None)


def get_tool(name: str) -> Tool | None:
    return _REGISTRY.get(name)


def all_tools() -> list[Tool]:
    return list(_REGISTRY.values())


def tools_for(user_id: int) -> list[Tool]:
    return [t for t in _REGISTRY.values() if t.available is None or t.available(user_id)]


async def call_tool(tool: Tool, ctx: ToolContext, args: dict[str, Any]) -> str:
    """Run a handler (sync handlers in a thread); failures become text for the model."""
    import asyncio

    try:
        if inspect.iscoroutinefunction(tool.handler):
            result = await tool.handler(ctx, args)  # type: ignore[misc]
        else:
            result = await asyncio.to_thread(tool.handler, ctx, args)
            if inspect.isawaitable(result):
                result = await result
    except ToolFailed as exc:
        return f"Error: {exc}"
    except (TypeError, ValueError, KeyError) as exc:
        return f"Error: invalid arguments for {tool.name}: {exc}"
    return str(result)
