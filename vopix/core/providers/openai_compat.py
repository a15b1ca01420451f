"""OpenAI-compatible Chat Completions (OpenAI, OpenRouter, Groq, Together, Ollama, vLLM, ...)."""

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

# Base URLs of well-known OpenAI-compatible services (for settings forms).
KNOWN_ENDPOINTS: dict[str, str] = {
    "OpenAI": "https://api.openai.com/v1",
    "OpenRouter": "https://openrouter.ai/api/v1",
    "Groq": "https://api.groq.com/openai/v1",
    "Together": "https://api.together.xyz/v1",
    "Ollama (local)": "http://localhost:11434/v1",
    "vLLM (local)": "http://localhost:8000/v1",
    "LM Studio (local)": "http://localhost:1234/v1",
}

_STOP_REASONS = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
}


def to_wire_messages(messages: list[ChatMessage]) -> list[dict]:
    """Translate our messages to Chat Completions `messages`."""
    out: list[dict] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content})
        elif m.role == "assistant" and m.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": m.content or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                        }
                        for c in m.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def to_wire_tools(tools: list[ToolSpec]) -> list[dict]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@register(
    "openai", "OpenAI-compatible", "https://api.openai.com/v1", example_model="gpt-4o-mini",
    base_url_hint="OpenAI-compatible covers OpenAI, OpenRouter, Groq, Together, Ollama, vLLM and "
    "LM Studio: set their base URL.",
)
class OpenAICompatProvider(HTTPProvider):
    def build_request(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> tuple[str, dict[str, str], dict]:
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if self.config.api_key:
            headers["authorization"] = f"Bearer {self.config.api_key}"
        payload: dict = {
            "model": self.config.model,
            "messages": to_wire_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            payload["tools"] = to_wire_tools(tools)
        return f"{self.base_url}/chat/completions", headers, payload

    async def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> AsyncIterator[StreamEvent]:
        url, headers, payload = self.build_request(messages, tools)
        calls: dict[int, _PartialCall] = {}
        usage = Usage()
        finish: str | None = None
        done = False
        async with aclosing(self.sse_events(url, headers, payload)) as events:
            async for ev in events:
                if ev.data.strip() == "[DONE]":
                    done = True
                    await self.drain(events)
                    break
                chunk = self.load_json(ev.data)
                if chunk.get("error"):
                    raise self._stream_error(chunk["error"])
                raw_usage = chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")
                if isinstance(raw_usage, dict):
                    usage = Usage(
                        int(raw_usage.get("prompt_tokens") or 0),
                        int(raw_usage.get("completion_tokens") or 0),
                    )
                choices = chunk.get("choices") or []
                if not isinstance(choices, list):
                    raise self.bad("`choices` is not a list")
                for choice in choices[:1]:
                    delta = choice.get("delta") or {}
                    text = delta.get("content")
                    if isinstance(text, str) and text:
                        yield TextDelta(text)
                    for frag in delta.get("tool_calls") or []:
                        self._merge_call(calls, frag)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                        for call in self._assemble(calls):
                            yield ToolCallEvent(call)
        if not done and finish is None:
            raise ProviderUnavailable(f"{self.label} stream ended before the reply was complete")
        for call in self._assemble(calls):
            yield ToolCallEvent(call)
        stop = _STOP_REASONS.get(finish or "stop", finish or "end_turn")
        yield Done(stop, usage)

    def _merge_call(self, calls: dict[int, _PartialCall], frag: dict) -> None:
        if not isinstance(frag, dict):
            raise self.bad("tool call fragment is not an object")
        idx = frag.get("index", len(calls))
        if not isinstance(idx, int):
            raise self.bad("tool call index is not an integer")
        part = calls.setdefault(idx, _PartialCall())
        part.id = frag.get("id") or part.id
        fn = frag.get("function") or {}
        part.name = part.name or fn.get("name") or ""
        part.arguments += fn.get("arguments") or ""

    def _assemble(self, calls: dict[int, _PartialCall]) -> list[ToolCall]:
        """Turn accumulated fragments into ToolCalls (and forget them)."""
        out: list[ToolCall] = []
        for idx in sorted(calls):
            part = calls[idx]
            try:
                args = json.loads(part.arguments) if part.arguments.strip() else {}
            except ValueError:
                raise self.bad(f"arguments of tool call {part.name!r} are not valid JSON") from None
            if not isinstance(args, dict):
                raise self.bad(f"arguments of tool call {part.name!r} are not an object")
            if not part.name:
                raise self.bad("tool call without a name")
            out.append(ToolCall(part.id or f"call_{idx}", part.name, args))
        calls.clear()
        return out

    def _stream_error(self, err: object) -> ProviderError:
        """An error object sent inside the stream (OpenRouter, vLLM, ...)."""
        msg = err.get("message", "") if isinstance(err, dict) else str(err)
        code = err.get("code") if isinstance(err, dict) else None
        msg = redact(str(msg)[:300], self.config.api_key)
        text = f"{self.label} reported an error mid-stream: {msg}"
        status = code if isinstance(code, int) else None
        if status in (401, 403):
            return ProviderAuthError(text, status=status)
        if status == 429:
            return ProviderRateLimited(text, None, status)
        if (status is not None and status >= 500) or "overloaded" in msg.lower():
            return ProviderUnavailable(text, status=status)
        return ProviderError(text, status=status)
