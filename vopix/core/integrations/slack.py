"""The agent's Slack tools: list channels, read a channel's recent messages, post a message (after
the person confirms). Offered only while Slack is connected; every call is logged in words."""

from __future__ import annotations

from typing import Any

from vopix.core.agent.tools import ToolFailed, register_tool
from vopix.core.integrations.acting import acting_tool
from vopix.core.integrations.slack_api import call

SERVICE = "slack"
LIST_MAX = 200
HISTORY_MAX = 50
TEXT_MAX = 3000  # characters of one message given to the model


def _channel_name(args: dict[str, Any]) -> str:
    name = str(args.get("channel", "")).strip()
    if not name:
        raise ToolFailed("give the channel, e.g. #general")
    return name


async def _channels(token: str) -> list[dict[str, Any]]:
    body = await call(token, "conversations.list", types="public_channel,private_channel",
                      exclude_archived="true", limit=LIST_MAX)
    return list(body.get("channels", []))


async def _resolve(token: str, name: str) -> tuple[str, str]:
    """(id, #name) of a channel given as #name, name or id."""
    wanted = name.lstrip("#").lower()
    for ch in await _channels(token):
        if wanted in (str(ch.get("name", "")).lower(), str(ch.get("id", "")).lower()):
            return str(ch["id"]), f"#{ch.get('name', wanted)}"
    raise ToolFailed(f"Slack has no channel {name} that the VOPIX app can see.")


async def slack_list_channels(token: str, args: dict[str, Any]) -> tuple[str, str]:
    found = await _channels(token)
    lines = [f"#{c.get('name', '')}{'' if c.get('is_member') else ' (the app is not in it)'}" for c in found]
    return ("\n".join(lines) or "No channels."), f"listed {len(lines)} channels"


async def slack_read_channel(token: str, args: dict[str, Any]) -> tuple[str, str]:
    channel_id, shown = await _resolve(token, _channel_name(args))
    try:
        limit = max(1, min(HISTORY_MAX, int(args.get("limit") or 20)))
    except (TypeError, ValueError):
        limit = 20
    body = await call(token, "conversations.history", channel=channel_id, limit=limit)
    messages = list(body.get("messages", []))
    lines = [f"[{m.get('ts', '')}] {m.get('user') or m.get('username') or 'app'}: "
             f"{str(m.get('text', ''))[:TEXT_MAX]}" for m in reversed(messages)]
    return ("\n".join(lines) or "No messages."), f"read {len(lines)} messages in {shown}"


async def slack_post_message(token: str, args: dict[str, Any]) -> tuple[str, str]:
    text = str(args.get("text", "")).strip()
    if not text:
        raise ToolFailed("the message is empty")
    channel_id, shown = await _resolve(token, _channel_name(args))
    body = await call(token, "chat.postMessage", channel=channel_id, text=text[:40_000])
    return f"Posted in {shown} (ts {body.get('ts', '')}).", f"posted in {shown}"


def _a(args: dict[str, Any], key: str) -> str:
    return str(args.get(key, "") or "?")


def _channel(args: dict[str, Any]) -> str:
    return "#" + _a(args, "channel").lstrip("#")


DESCRIBE = {
    "slack_list_channels": lambda a: "list your Slack channels",
    "slack_read_channel": lambda a: f"read recent messages in {_channel(a)}",
    "slack_post_message": lambda a: f"post in {_channel(a)}: “{_a(a, 'text')[:80]}”",
}
_C = {"type": "string", "description": "The channel, e.g. #general"}

TOOLS = [
    acting_tool(SERVICE, slack_list_channels, DESCRIBE, "List the Slack channels of the person's workspace.",
                {"type": "object", "properties": {}, "required": []}),
    acting_tool(SERVICE, slack_read_channel, DESCRIBE, "Read the recent messages of a Slack channel.",
                {"type": "object", "properties": {"channel": _C, "limit": {"type": "integer"}},
                 "required": ["channel"]}),
    acting_tool(SERVICE, slack_post_message, DESCRIBE, "Post a message in a Slack channel. The person must "
                "confirm.", {"type": "object", "properties": {"channel": _C, "text": {"type": "string"}},
                             "required": ["channel", "text"]}, confirm=True),
]  # fmt: skip


def install() -> None:
    for tool in TOOLS:
        register_tool(tool)

