"""Provider-neutral types, errors, registry and retry for the AI provider layer.

A provider turns a list of `ChatMessage` (plus tool specs) into a stream of events:
`TextDelta` pieces, a `ToolCallEvent` for each fully assembled tool call, and one final
`Done` carrying the stop reason and token usage. Stop reasons are normalised to
"end_turn", "tool_use", "max_tokens" (anything else is passed through unchanged).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol, TypeVar, runtime_checkable

import httpx

from vopix.core import http
from vopix.core.http import parse_retry_after

Role = Literal["system", "user", "assistant", "tool"]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict  # JSON schema of the arguments object


@dataclass
class ChatMessage:
    role: Role
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # for role "tool": the call this result answers
    name: str | None = None  # for role "tool": the tool's name (optional)


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class TextDelta:
    text: str


@dataclass
class ToolCallEvent:
    call: ToolCall


@dataclass
class Done:
    stop_reason: str
    usage: Usage


StreamEvent = TextDelta | ToolCallEvent | Done


@dataclass
class ProviderConfig:
    kind: str
    base_url: str
    api_key: str = field(repr=False)
    model: str
    timeout_s: float = 60
    max_tokens: int = 4096  # required by Anthropic; OpenAI-compatible leaves it to the server


# ---------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """A provider call failed. `str(err)` is human-readable and never holds the API key."""

    default_retryable: ClassVar[bool] = False

    def __init__(self, message: str, retryable: bool | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = self.default_retryable if retryable is None else retryable
        self.status = status


class ProviderAuthError(ProviderError):
    """401/403: the key is wrong, revoked or lacks access. Not retryable."""


class ProviderRateLimited(ProviderError):
    """429: too many requests. Retryable; `retry_after` in seconds when the server said."""

    default_retryable = True

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        status: int | None = 429,
    ):
        super().__init__(message, True, status)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """5xx, overloaded, connection error, timeout or a cut stream. Retryable."""

    default_retryable = True


class ProviderBadResponse(ProviderError):
    """The provider answered something we cannot parse. Not retryable."""


_TOKEN_RE = re.compile(r"[A-Za-z0-9_\-~+/=]{8,}")


def redact(text: str, secret: str) -> str:
    """Remove the secret, and any 8+ character run that is a piece of it, from text."""
    if not secret:
        return text
    text = text.replace(secret, "[redacted]")

    def _sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        return "[redacted]" if tok in secret or secret in tok else tok

    return _TOKEN_RE.sub(_sub, text)


def _server_message(body: str) -> str:
    """Best-effort human message out of an error body (OpenAI or Anthropic shapes)."""
    try:
        data = json.loads(body)
    except ValueError:
        return " ".join(body.split())[:300]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"][:300]
        if isinstance(err, str):
            return err[:300]
    return " ".join(body.split())[:300]


def error_from_status(
    status: int, body: str, headers: httpx.Headers | dict[str, str], label: str, api_key: str
) -> ProviderError:
    """Map an HTTP error answer to the right ProviderError subclass."""
    detail = redact(_server_message(body), api_key)
    suffix = f": {detail}" if detail else ""
    if status in (401, 403):
        what = "rejected the API key" if status == 401 else "denied access"
        return ProviderAuthError(f"{label} {what} (HTTP {status}){suffix}", status=status)
    if status == 429:
        retry_after = parse_retry_after(httpx.Headers(headers).get("retry-after"))
        when = f", retry after {retry_after:g}s" if retry_after is not None else ""
        return ProviderRateLimited(
            f"{label} is rate limiting requests (HTTP 429{when}){suffix}", retry_after, status
        )
    if status >= 500 or status == 408:
        return ProviderUnavailable(f"{label} is unavailable (HTTP {status}){suffix}", status=status)
    if status == 404:
        return ProviderError(
            f"{label}: endpoint or model not found (HTTP 404){suffix}", status=status
        )
    return ProviderError(f"{label} refused the request (HTTP {status}){suffix}", status=status)


def error_from_transport(exc: httpx.HTTPError, label: str, api_key: str) -> ProviderError:
    """Map an httpx transport failure (connect, timeout, cut stream) to ProviderUnavailable."""
    if isinstance(exc, httpx.TimeoutException):
        why = "timed out"
    elif isinstance(exc, httpx.ConnectError):
        why = "could not be reached"
    else:
        why = "connection failed"
    text = redact(str(exc), api_key)
    detail = f" ({type(exc).__name__}: {text})" if text else f" ({type(exc).__name__})"
    return ProviderUnavailable(f"{label} {why}{detail}")


# ---------------------------------------------------------------------------- SSE


@dataclass
class SSEvent:
    event: str  # "message" when the server gave no `event:` line
    data: str


async def parse_sse(lines: AsyncIterator[str]) -> AsyncGenerator[SSEvent, None]:
    """Parse text/event-stream lines into events (multi-line data joined with newlines)."""
    event, data = "", list[str]()
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SSEvent(event or "message", "\n".join(data))
            event, data = "", list[str]()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield SSEvent(event or "message", "\n".join(data))


# ---------------------------------------------------------------------------- providers


@runtime_checkable
class Provider(Protocol):
    kind: ClassVar[str]
    config: ProviderConfig

    def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> AsyncIterator[StreamEvent]:
        """Async generator of TextDelta / ToolCallEvent, ending with one Done."""
        ...

    async def aclose(self) -> None: ...


# Every provider of every person shares one pool per loop: a turn reuses the connection
# (and TLS session) of the one before it. Requests pass their own timeout (timeout_s).
POOL = "ai-providers"
POOL_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
POOL_LIMITS = httpx.Limits(max_connections=200)


def shared_client() -> httpx.AsyncClient:
    """This event loop's pooled client for AI providers."""
    return http.client(POOL, timeout=POOL_TIMEOUT, limits=POOL_LIMITS)


class HTTPProvider:
    """Shared plumbing: config, label, and an httpx client (passed in, or the shared pool)."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""

    def __init__(self, config: ProviderConfig, client: httpx.AsyncClient | None = None):
        self.config = config
        self._client = client

    @property
    def client(self) -> httpx.AsyncClient:
        # Looked up when used, not made here: a provider may be built outside a running loop.
        return self._client if self._client is not None else shared_client()

    @property
    def base_url(self) -> str:
        return (self.config.base_url or self.default_base_url).rstrip("/")

    @property
    def timeout(self) -> httpx.Timeout:
        t = float(self.config.timeout_s)
        return httpx.Timeout(t, connect=min(t, 10.0))

    def stream(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    async def sse_events(
        self, url: str, headers: dict[str, str], payload: dict
    ) -> AsyncGenerator[SSEvent, None]:
        """POST payload and yield server-sent events; every failure becomes a ProviderError."""
        key = self.config.api_key
        try:
            async with self.client.stream(
                "POST", url, json=payload, headers=headers, timeout=self.timeout
            ) as resp:
                if resp.status_code >= 400:
                    body = (await resp.aread()).decode("utf-8", "replace")
                    raise error_from_status(resp.status_code, body, resp.headers, self.label, key)
                ctype = resp.headers.get("content-type", "")
                if "application/json" in ctype:
                    body = (await resp.aread()).decode("utf-8", "replace")
                    raise ProviderBadResponse(
                        f"{self.label} answered with JSON instead of an event stream: "
                        f"{redact(_server_message(body), key)}",
                        status=resp.status_code,
                    )
                async for event in parse_sse(resp.aiter_lines()):
                    yield event
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, self.label, key) from None

    async def drain(self, events: AsyncIterator[SSEvent], timeout: float = 1.0) -> None:
        """Read what is left of a finished stream (normally nothing but its end), so the
        connection goes back to the pool instead of being closed: no new TLS handshake on the
        next turn. A server that keeps talking is cut off after `timeout`."""

        async def consume() -> None:
            async for _ in events:
                pass

        with contextlib.suppress(Exception):
            await asyncio.wait_for(consume(), timeout)

    def bad(self, what: str) -> ProviderBadResponse:
        return ProviderBadResponse(f"{self.label} sent a malformed stream: {what}")

    def load_json(self, data: str) -> dict:
        try:
            obj = json.loads(data)
        except ValueError:
            raise self.bad(f"invalid JSON {redact(data[:80], self.config.api_key)!r}") from None
        if not isinstance(obj, dict):
            raise self.bad("expected a JSON object")
        return obj

    async def aclose(self) -> None:
        """Nothing to close: a passed-in client is its owner's, the pool is closed at app stop."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


@dataclass
class ProviderKind:
    kind: str
    label: str
    default_base_url: str
    # What the settings form shows for this kind: an example model and what the base URL is for.
    example_model: str = ""
    base_url_hint: str = ""


PROVIDERS: dict[str, type[HTTPProvider]] = {}
_KINDS: dict[str, ProviderKind] = {}

P = TypeVar("P", bound=type[HTTPProvider])


def register(
    kind: str, label: str, default_base_url: str, *, example_model: str = "", base_url_hint: str = ""
) -> Callable[[P], P]:
    """Class decorator: `@register("openai", "OpenAI-compatible", "https://...")`."""

    def deco(cls: P) -> P:
        cls.kind, cls.label, cls.default_base_url = kind, label, default_base_url
        PROVIDERS[kind] = cls
        _KINDS[kind] = ProviderKind(kind, label, default_base_url, example_model, base_url_hint)
        return cls

    return deco


def provider_kind(kind: str) -> ProviderKind | None:
    return _KINDS.get(kind)


def list_provider_kinds() -> list[tuple[str, str, str]]:
    """(kind, human label, default base url) for every registered provider."""
    return [(k.kind, k.label, k.default_base_url) for k in _KINDS.values()]


def make_provider(config: ProviderConfig, client: httpx.AsyncClient | None = None) -> Provider:
    try:
        cls = PROVIDERS[config.kind]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS)) or "none"
        raise ValueError(f"unknown provider kind {config.kind!r} (known: {known})") from None
    return cls(config, client)
