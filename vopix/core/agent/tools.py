"""One registry of the tools the agent may call, each acting for exactly one user, and how a
call reads for the person (describe_call): what it does in their words, its arguments as
labelled fields."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from vopix.core.providers import ToolSpec

# Where a person can answer a call that waits: the web chat's Confirm/Cancel, Telegram's inline
# keyboard, WhatsApp's reply buttons (vopix/channels/confirmations.py).
CHANNELS_WITH_CONFIRMATION = frozenset({"web", "telegram", "whatsapp"})


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
# What a call does, as the person would say it: "Delete README.md". Shown in the chat (as a
# question while it waits for them); the model never sees it.
Describe = Callable[[dict[str, Any]], str]
FAILURE_PREFIX = "Error: "  # how a failure reads for the model
FIELD_MAX_CHARS = 600


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler
    # Destructive tools wait for the person's Confirm (web chat, Telegram and WhatsApp buttons);
    # where nobody can be asked (CHANNELS_WITH_CONFIRMATION), they are refused.
    needs_confirmation: bool = False
    # Optional: is this tool offered to this user at all (e.g. only once Slack is connected)?
    available: Callable[[int], bool] | None = field(default=None)
    # How a call reads for people; without it, a readable form of the tool's name.
    describe: Describe | None = field(default=None)

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


@dataclass(frozen=True)
class SharedCheck:
    """An availability check several tools share, e.g. "is Slack connected" for every Slack
    tool: tools_for asks `lookup(user_id)` once per call and offers the tool when its `key` is
    in the answer (one query for all the integrations' tools of a turn, not one per tool)."""

    lookup: Callable[[int], Collection[str]]
    key: str

    def __call__(self, user_id: int) -> bool:
        return self.key in self.lookup(user_id)


def tools_for(user_id: int) -> list[Tool]:
    answers: dict[Callable[[int], Collection[str]], Collection[str]] = {}

    def offered(tool: Tool) -> bool:
        check = tool.available
        if check is None:
            return True
        if isinstance(check, SharedCheck):
            if check.lookup not in answers:
                answers[check.lookup] = check.lookup(user_id)
            return check.key in answers[check.lookup]
        return check(user_id)

    return [t for t in _REGISTRY.values() if offered(t)]


@dataclass(frozen=True)
class ToolOutcome:
    text: str  # for the model; a failure starts with FAILURE_PREFIX
    failed: bool


async def run_tool(tool: Tool, ctx: ToolContext, args: dict[str, Any]) -> ToolOutcome:
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
        return ToolOutcome(f"{FAILURE_PREFIX}{exc}", True)
    except (TypeError, ValueError, KeyError) as exc:
        return ToolOutcome(f"{FAILURE_PREFIX}invalid arguments for {tool.name}: {exc}", True)
    return ToolOutcome(str(result), False)


async def call_tool(tool: Tool, ctx: ToolContext, args: dict[str, Any]) -> str:
    """The text the model gets back from a call (run_tool also says whether it failed)."""
    return (await run_tool(tool, ctx, args)).text


# -- how a call reads for people ------------------------------------------------------------
@dataclass(frozen=True)
class CallView:
    title: str  # "Delete README.md"
    fields: list[tuple[str, str]]  # ("Path", "README.md"), in the tool's parameter order


def describe_call(name: str, args: dict[str, Any] | str | None) -> CallView:
    """A stored or streamed call (arguments as a dict or their JSON) as the chat shows it. A
    tool without `describe`, a call missing a required argument or whose `describe` fails on
    it, and a tool that no longer exists get the generic title: the tool's name in words."""
    values = _as_dict(args)
    tool = get_tool(name)
    title = ""
    required = tool.parameters.get("required") or [] if tool is not None else []
    complete = all(values.get(k) not in (None, "") for k in required)
    if tool is not None and tool.describe is not None and complete:
        try:
            title = " ".join(str(tool.describe(values)).split())
        except Exception:  # a model's odd arguments must not break the page
            title = ""
    props = (tool.parameters.get("properties") or {}) if tool is not None else {}
    order = [k for k in props if k in values] + [k for k in values if k not in props]
    fields = [(_label(k, props.get(k)), _readable(values[k])) for k in order]
    return CallView(title or _words(name), fields)


def failure_reason(text: str) -> str:
    """A failed call's text without the prefix written for the model."""
    return text.removeprefix(FAILURE_PREFIX)


def _as_dict(args: dict[str, Any] | str | None) -> dict[str, Any]:
    if isinstance(args, str):
        try:
            args = json.loads(args or "{}")
        except ValueError:
            return {"arguments": args}
    return args if isinstance(args, dict) else {}


def _words(name: str) -> str:
    text = " ".join(name.replace("_", " ").replace("-", " ").split())
    return text[:1].upper() + text[1:] if text else "Tool call"


def _label(key: str, schema: Any) -> str:
    title = schema.get("title") if isinstance(schema, dict) else None
    return str(title) if title else _words(str(key))


def _readable(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = "\n".join(f"{_words(str(k))}: {_readable(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    if len(text) > FIELD_MAX_CHARS:
        text = f"{text[:FIELD_MAX_CHARS]}… ({len(text) - FIELD_MAX_CHARS:,} more characters)"
    return text
