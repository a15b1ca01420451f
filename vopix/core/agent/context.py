"""The system prompt and the slice of history that fits the model's window."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from vopix.core.agent.history import MessageView
from vopix.core.agent.profile import ProfileView
from vopix.core.agent.prompt_sections import sections_for
from vopix.core.providers import ChatMessage, ToolCall

DEFAULT_WINDOW_TOKENS = 16_000
REPLY_RESERVE_TOKENS = 4_096
# Known context windows (tokens) by model-name prefix; the default is deliberately modest.
MODEL_WINDOWS = {
    "gpt-4o": 128_000,
    "gpt-4.1": 1_000_000,
    "gpt-5": 400_000,
    "o3": 200_000,
    "o4": 200_000,
    "claude": 200_000,
    "llama-3": 128_000,
    "mistral": 32_000,
    "gemini": 1_000_000,
}
TRIMMED_NOTE = "Earlier messages of this conversation were left out to fit the model's context."


def window_for(model: str) -> int:
    name = model.lower().split("/")[-1]
    for prefix, size in MODEL_WINDOWS.items():
        if name.startswith(prefix):
            return size
    return DEFAULT_WINDOW_TOKENS


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + 4


def system_prompt(user_id: int, profile: ProfileView, channel: str, now: datetime) -> str:
    tz = ZoneInfo(profile.timezone)
    local = now.astimezone(tz)
    offset = local.strftime("%z")
    parts = [
        f"You are {profile.name}, the personal AI agent of the person you are talking to, running on VOPIX.",
        f"Your personality: {profile.personality}" if profile.personality else "",
        f"Reply in {profile.language} unless the person clearly asks for another language.",
        f"The person's current local date and time: {local.strftime('%A %d %B %Y, %H:%M')} "
        f"({profile.timezone}, UTC{offset[:3]}:{offset[3:]}).",
        f"This message arrived over {channel}. The person can also reach you on the web app, "
        "Telegram and WhatsApp; it is one shared history.",
        "Act only through the tools you are given and never claim to have done something you "
        "did not do. If a tool fails, say so plainly.",
        *sections_for(user_id),
    ]
    return "\n\n".join(p for p in parts if p)


def to_chat_messages(rows: list[MessageView]) -> list[ChatMessage]:
    """Stored rows to provider messages: tool rows attach to the assistant turn before them."""
    out: list[ChatMessage] = []
    for m in rows:
        if m.role == "user":
            out.append(ChatMessage("user", m.content))
        elif m.role == "assistant":
            if m.content:
                out.append(ChatMessage("assistant", m.content))
        elif m.role == "tool" and m.tool_name:
            try:
                args = json.loads(m.tool_args or "{}")
            except ValueError:
                args = {}
            call_id = f"call_{m.id}"
            call = ToolCall(call_id, m.tool_name, args if isinstance(args, dict) else {})
            last = out[-1] if out else None
            if last is not None and last.role == "assistant":
                last.tool_calls.append(call)
            else:
                out.append(ChatMessage("assistant", "", tool_calls=[call]))
            # Several calls of one turn replay as call, result, call, result: valid for both
            # protocols and simpler than regrouping.
            out.append(ChatMessage("tool", m.content, tool_call_id=call_id, name=m.tool_name))
    return out


def fit_history(messages: list[ChatMessage], system: str, model: str) -> tuple[list[ChatMessage], bool]:
    """Keep the newest messages that fit; never start on a tool result. Returns (kept, trimmed)."""
    budget = window_for(model) - REPLY_RESERVE_TOKENS - estimate_tokens(system)
    kept: list[ChatMessage] = []
    used = 0
    for m in reversed(messages):
        cost = estimate_tokens(m.content) + sum(
            estimate_tokens(json.dumps(c.arguments)) for c in m.tool_calls
        )
        if used + cost > budget and kept:
            break
        kept.append(m)
        used += cost
    kept.reverse()
    trimmed = len(kept) < len(messages)
    while kept and (kept[0].role == "tool" or (kept[0].role == "assistant" and kept[0].tool_calls)):
        kept.pop(0)
    return kept, trimmed
