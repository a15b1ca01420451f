"""Anthropic Messages API (streaming, tool use)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

from vopix.core.providers.base import (
    ChatMessage,
    Done,
    HTTPProvider,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    Usage,
    redact,
    register,
)

API_VERSION = "2023-06-01"


def _blocks(m: ChatMessage) -> list[dict]:
    if m.role == "tool":
        return [{"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}]
    blocks: list[dict] = []
    if m.content:
        blocks.append({"type": "text", "text": m.content})
    if m.role == "assistant":
        blocks += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
            for c in m.tool_calls
        ]
    return blocks


def to_wire(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """Split out the system prompt and build alternating user/assistant messages.

    Tool results become `tool_result` blocks in a user message; consecutive messages of
    the same role are merged (tool results first, as the API expects after a tool_use).
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    out: list[dict] = []
    for m in messages:
        if m.role == "system":
            continue
        role = "assistant" if m.role == "assistant" else "user"
        blocks = _blocks(m)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for msg in out:
        if msg["role"] == "user":
            msg["content"].sort(key=lambda b: b["type"] != "tool_result")
    return system, out


def to_wire_tools(tools: list[ToolSpec]) -> list[dict]:
    return [
        {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools
    ]


@dataclass
class _Block:
    type: str
    id: str = ""
    name: str = ""
    json: str = ""


@register(
    "anthropic", "Anthropic", "https://api.anthropic.com", example_model="claude-sonnet-4-5",
    base_url_hint="Leave empty for Anthropic's API; set it only for a proxy that speaks the Anthropic "
    "Messages API.",
)
class AnthropicProvider(HTTPProvider):
    def build_request(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> tuple[str, dict[str, str], dict]:
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "anthropic-version": API_VERSION,
        }
        if self.config.api_key:
            headers["x-api-key"] = self.config.api_key
        system, wire = to_wire(messages)
        payload: dict = {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "messages": wire,
            "stream": True,
        }
        if system:
            payload["system"] = system
        if tools:
            payload["tools"] = to_wire_tools(tools)
        base = self.base_url
        path = "/messages" if base.endswith("/v1") else "/v1/messages"
        return base + path, headers, payload

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> AsyncIterator[StreamEvent]:
        url, headers, payload = self.build_request(messages, tools)
        blocks: dict[int, _Block] = {}
        usage = Usage()
        stop = "end_turn"
        finished = False
        async with aclosing(self.sse_events(url, headers, payload)) as events:
            async for ev in events:
                data = self.load_json(ev.data)
                kind = data.get("type") or ev.event
                if kind == "message_start":
                    raw = (data.get("message") or {}).get("usage") or {}
                    usage = Usage(_input_tokens(raw), int(raw.get("output_tokens") or 0))
                elif kind == "content_block_start":
                    block = data.get("content_block") or {}
                    idx = self._index(data)
                    blocks[idx] = _Block(
                        str(block.get("type", "")), block.get("id", ""), block.get("name", "")
                    )
                    if block.get("type") == "text" and block.get("text"):
                        yield TextDelta(block["text"])
                elif kind == "content_block_delta":
                    delta = data.get("delta") or {}
                    if delta.get("type") == "text_delta":
                        if delta.get("text"):
                            yield TextDelta(delta["text"])
                    elif delta.get("type") == "input_json_delta":
                        idx = self._index(data)
                        if idx not in blocks:
                            raise self.bad("input_json_delta for a block that never started")
                        blocks[idx].json += delta.get("partial_json") or ""
                elif kind == "content_block_stop":
                    done_block = blocks.pop(self._index(data), None)
                    if done_block is not None and done_block.type == "tool_use":
                        yield ToolCallEvent(self._tool_call(done_block))
                elif kind == "message_delta":
                    stop = (data.get("delta") or {}).get("stop_reason") or stop
                    raw = data.get("usage") or {}
                    if raw.get("output_tokens") is not None:
                        usage.output_tokens = int(raw["output_tokens"])
                    if raw.get("input_tokens") is not None:
                        usage.input_tokens = _input_tokens(raw)
                elif kind == "message_stop":
                    finished = True
                    await self.drain(events)
                    break
                elif kind == "error":
                    raise self._stream_error(data.get("error") or {})
                # "ping" and unknown future event types are ignored
        if not finished:
            raise ProviderUnavailable(f"{self.label} stream ended before the reply was complete")
        yield Done(stop, usage)

    def _index(self, data: dict) -> int:
        idx = data.get("index")
        if not isinstance(idx, int):
            raise self.bad("content block event without an integer index")
        return idx

    def _tool_call(self, block: _Block) -> ToolCall:
        try:
            args = json.loads(block.json) if block.json.strip() else {}
        except ValueError:
            raise self.bad(f"input of tool call {block.name!r} is not valid JSON") from None
        if not isinstance(args, dict) or not block.name:
            raise self.bad("tool_use block without a name or with a non-object input")
        return ToolCall(block.id, block.name, args)

    def _stream_error(self, err: dict) -> ProviderError:
        etype = str(err.get("type", "error"))
        msg = redact(str(err.get("message", ""))[:300], self.config.api_key)
        text = f"{self.label} reported {etype} mid-stream: {msg}"
        if etype in ("overloaded_error", "api_error"):
            return ProviderUnavailable(text, status=529 if etype == "overloaded_error" else 500)
        if etype == "rate_limit_error":
            return ProviderRateLimited(text, None, 429)
        if etype in ("authentication_error", "permission_error"):
            return ProviderAuthError(text)
        return ProviderError(text)


def _input_tokens(raw: dict) -> int:
    """Input tokens including prompt-cache reads and writes."""
    return sum(
        int(raw.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
