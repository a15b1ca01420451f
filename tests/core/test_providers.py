"""The AI provider layer against a loopback fake speaking both wire protocols."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.core.agent.conftest import collect
from tests.fakes.ai_provider import (
    Drop,
    FakeAIProvider,
    Hang,
    HttpError,
    Malformed,
    Reply,
    StreamError,
    make_fixture,
    tool_call,
)
from vopix.core.providers import (
    PROVIDERS,
    ChatMessage,
    Done,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderConfig,
    ProviderRateLimited,
    ProviderUnavailable,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    list_provider_kinds,
    make_provider,
    stream_with_retry,
)
from vopix.core.providers.base import Provider, StreamEvent, redact

KINDS = ["openai", "anthropic"]
KEY = "sk-test-SECRET-0123456789abcdef"
WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)

fake_ai = make_fixture()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


def provider(
    fake: FakeAIProvider, kind: str, client: httpx.AsyncClient, timeout: float = 5, key: str = KEY
) -> Provider:
    cfg = ProviderConfig(kind, fake.base_url(kind), key, "test-model", timeout_s=timeout)
    return make_provider(cfg, client)


def convo(text: str = "Hello") -> list[ChatMessage]:
    return [ChatMessage("system", "You are Vopi."), ChatMessage("user", text)]


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


# ------------------------------------------------------------------ registry & config


def test_registry_and_config_repr_hides_key() -> None:
    assert {"openai", "anthropic"} <= set(PROVIDERS)
    kinds = {k: (label, url) for k, label, url in list_provider_kinds()}
    assert kinds["openai"][1] == "https://api.openai.com/v1"
    assert kinds["anthropic"][1] == "https://api.anthropic.com"
    cfg = ProviderConfig("openai", "", KEY, "m")
    assert KEY not in repr(cfg) and KEY not in str(cfg)
    assert KEY not in repr(make_provider(cfg))
    with pytest.raises(ValueError, match="unknown provider kind"):
        make_provider(ProviderConfig("nope", "", KEY, "m"))
    assert "[redacted]" in redact(f"bad key {KEY[:14]}...", KEY)


# ------------------------------------------------------------------ happy paths


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_streams_text_in_chunks_with_usage(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    fake_ai.script(Reply("Hello there, how are you?", chunks=4, input_tokens=17, output_tokens=6))
    events = await collect(provider(fake_ai, kind, client).stream(convo(), [WEATHER]))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 4
    assert text_of(events) == "Hello there, how are you?"
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "end_turn"
    assert (done.usage.input_tokens, done.usage.output_tokens) == (17, 6)

    req = fake_ai.requests[0]
    assert req.body["stream"] is True and req.body["model"] == "test-model"
    if kind == "openai":
        assert req.path == "/v1/chat/completions"
        assert req.headers["authorization"] == f"Bearer {KEY}"
        assert req.body["stream_options"] == {"include_usage": True}
        assert req.body["messages"][0] == {"role": "system", "content": "You are Vopi."}
        assert req.body["tools"][0]["function"]["name"] == "get_weather"
    else:
        assert req.path == "/v1/messages"
        assert req.headers["x-api-key"] == KEY
        assert req.headers["anthropic-version"] == "2023-06-01"
        assert req.body["system"] == "You are Vopi."
        assert all(m["role"] != "system" for m in req.body["messages"])
        assert req.body["tools"][0]["input_schema"]["required"] == ["city"]
        assert req.body["max_tokens"] > 0


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_default_echo_and_slow_stream_arrives_incrementally(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    events = await collect(provider(fake_ai, kind, client).stream(convo("ping"), []))
    assert text_of(events) == "echo: ping"

    fake_ai.script(Reply("abcdef", chunks=3, delay=0.15))
    arrivals: list[float] = []
    start = time.monotonic()
    async for ev in provider(fake_ai, kind, client).stream(convo(), []):
        if isinstance(ev, TextDelta):
            arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 3
    assert arrivals[0] < arrivals[2] - 0.2  # really streamed, not buffered to the end


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_tool_call_assembled_from_fragments(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    args = {"city": "Zürich", "units": "metric", "days": [1, 2, 3]}
    fake_ai.script(tool_call("get_weather", args, text="Let me check.", output_tokens=9))
    events = await collect(provider(fake_ai, kind, client).stream(convo(), [WEATHER]))
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert len(calls) == 1
    assert calls[0].name == "get_weather" and calls[0].arguments == args and calls[0].id
    assert text_of(events) == "Let me check."
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "tool_use"
    assert done.usage.output_tokens == 9


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_tool_round_trip_wire_format(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    call = ToolCall("call_1", "get_weather", {"city": "Paris"})
    history = [
        *convo("Weather in Paris?"),
        ChatMessage("assistant", "Checking.", tool_calls=[call]),
        ChatMessage("tool", '{"temp": 21}', tool_call_id="call_1", name="get_weather"),
        ChatMessage("user", "Thanks!"),
    ]
    events = await collect(provider(fake_ai, kind, client).stream(history, [WEATHER]))
    assert text_of(events) == "echo: Thanks!"
    msgs = fake_ai.requests[0].body["messages"]
    if kind == "openai":
        assert msgs[2]["tool_calls"][0] == {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
        assert msgs[3] == {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'}
    else:
        assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
        assert msgs[1]["content"][1] == {
            "type": "tool_use",
            "id": "call_1",
            "name": "get_weather",
            "input": {"city": "Paris"},
        }
        # the tool result and the next user text merge into one user message, result first
        assert msgs[2]["content"] == [
            {"type": "tool_result", "tool_use_id": "call_1", "content": '{"temp": 21}'},
            {"type": "text", "text": "Thanks!"},
        ]


@pytest.mark.asyncio
async def test_openai_without_key_sends_no_auth_and_accepts_unversioned_path(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient
) -> None:
    cfg = ProviderConfig("openai", fake_ai.url, "", "llama3")  # e.g. Ollama, no /v1
    events = await collect(make_provider(cfg, client).stream(convo("hi"), []))
    assert text_of(events) == "echo: hi"
    assert fake_ai.requests[0].path == "/chat/completions"
    assert "authorization" not in fake_ai.requests[0].headers


# ------------------------------------------------------------------ errors


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_wrong_key_is_auth_error_without_the_key(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    fake_ai.require_key = "the-right-key"
    sleeps = Sleeps()
    with pytest.raises(ProviderAuthError) as info:
        await collect(stream_with_retry(provider(fake_ai, kind, client), convo(), [], sleep=sleeps))
    err = info.value
    assert err.status == 401 and not err.retryable
    assert KEY not in str(err) and KEY[:12] not in str(err)  # the fake echoes the key back
    assert "401" in str(err)
    assert sleeps == [] and len(fake_ai.requests) == 1
    fake_ai.require_key = KEY
    assert text_of(await collect(provider(fake_ai, kind, client).stream(convo("ok"), []))) == (
        "echo: ok"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_rate_limit_retry_after_is_honoured(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    fake_ai.script(HttpError(429, retry_after=3), Reply("after the wait"))
    sleeps = Sleeps()
    events = await collect(
        stream_with_retry(provider(fake_ai, kind, client), convo(), [], sleep=sleeps)
    )
    assert text_of(events) == "after the wait"
    assert sleeps == [3.0] and len(fake_ai.requests) == 2

    fake_ai.script(HttpError(429, retry_after=3600))
    with pytest.raises(ProviderRateLimited) as info:
        await collect(provider(fake_ai, kind, client).stream(convo(), []))
    assert info.value.retry_after == 3600 and info.value.retryable
    fake_ai.script(HttpError(429, retry_after=3600), Reply("capped"))
    sleeps.clear()
    await collect(stream_with_retry(provider(fake_ai, kind, client), convo(), [], sleep=sleeps))
    assert sleeps == [10.0]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_server_errors_exhaust_retries(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    fake_ai.script([HttpError(500)] * 3, Reply("never reached"))
    sleeps = Sleeps()
    with pytest.raises(ProviderUnavailable) as info:
        await collect(
            stream_with_retry(provider(fake_ai, kind, client), convo(), [], 3, sleep=sleeps)
        )
    assert info.value.status == 500 and info.value.retryable
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert len(fake_ai.requests) == 3 and fake_ai.pending == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_malformed_stream_is_bad_response_not_retried(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    fake_ai.script(Malformed())
    sleeps = Sleeps()
    with pytest.raises(ProviderBadResponse) as info:
        await collect(stream_with_retry(provider(fake_ai, kind, client), convo(), [], sleep=sleeps))
    assert not info.value.retryable and "malformed" in str(info.value)
    assert sleeps == [] and len(fake_ai.requests) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("after_headers", [False, True])
async def test_hang_times_out_as_unavailable(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str, after_headers: bool
) -> None:
    fake_ai.script(Hang(after_headers=after_headers))
    p = provider(fake_ai, kind, client, timeout=0.3)
    start = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await collect(p.stream(convo(), []))
    assert time.monotonic() - start < 3
    fake_ai.script(Hang(after_headers=after_headers), Reply("second try"))
    sleeps = Sleeps()
    events = await collect(stream_with_retry(p, convo(), [], sleep=sleeps))
    assert text_of(events) == "second try" and sleeps == [0.5]


@pytest.mark.asyncio
async def test_connect_error_is_unavailable(client: httpx.AsyncClient) -> None:
    fake = FakeAIProvider()
    fake.close()  # port now closed
    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        await collect(provider(fake, "openai", client).stream(convo(), []))


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("failure", [Drop("Once upon a"), StreamError("Once upon a")])
async def test_no_retry_once_text_was_streamed(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str, failure: Drop | StreamError
) -> None:
    fake_ai.script(failure, Reply("DUPLICATE"))
    sleeps = Sleeps()
    seen: list[StreamEvent] = []
    with pytest.raises(ProviderUnavailable) as info:
        async for ev in stream_with_retry(
            provider(fake_ai, kind, client), convo(), [], sleep=sleeps
        ):
            seen.append(ev)
    assert info.value.retryable  # retryable in itself, but text had already gone out
    assert text_of(seen) == "Once upon a"
    assert sleeps == [] and len(fake_ai.requests) == 1 and fake_ai.pending == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_stream_error_before_text_is_retried(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    fake_ai.script(StreamError(), Reply("recovered"))
    sleeps = Sleeps()
    events = await collect(
        stream_with_retry(provider(fake_ai, kind, client), convo(), [], sleep=sleeps)
    )
    assert text_of(events) == "recovered" and sleeps == [0.5]


def test_a_new_provider_is_one_registered_class(monkeypatch: pytest.MonkeyPatch) -> None:
    from vopix.core.providers import base

    # Registries of this test's own, so that the dummy kind is gone afterwards.
    monkeypatch.setattr(base, "PROVIDERS", dict(base.PROVIDERS))
    monkeypatch.setattr(base, "_KINDS", dict(base._KINDS))

    @base.register("dummy", "Dummy AI", "http://dummy.invalid")
    class DummyProvider(base.HTTPProvider):
        pass

    assert ("dummy", "Dummy AI", "http://dummy.invalid") in list_provider_kinds()
    assert isinstance(make_provider(ProviderConfig("dummy", "", "", "m")), DummyProvider)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_finished_streams_leave_their_connection_for_the_next_turn(
    fake_ai: FakeAIProvider, client: httpx.AsyncClient, kind: str
) -> None:
    p = provider(fake_ai, kind, client)
    for _ in range(3):
        assert text_of(await collect(p.stream(convo("again"), []))) == "echo: again"
    # One TCP connection for all three: no new handshake (TLS in production) per turn.
    assert len({r.peer for r in fake_ai.requests}) == 1
