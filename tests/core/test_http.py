"""The shared outbound HTTP helpers: the pooled clients and the retry policy."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from vopix.core import http


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Flaky:
    """Fails with the given errors in turn, then answers "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Busy(Exception):
    def __init__(self, after: float | None = None) -> None:
        super().__init__("busy")
        self.after = after


def busy_is_retried(exc: Exception) -> http.Retry | None:
    return http.Retry(exc.after) if isinstance(exc, Busy) else None


# ------------------------------------------------------------------ retry policy


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = http.RetryPolicy(attempts=8, base_delay=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(10_000) == 3.0  # no overflow on a loop that never gives up


def test_retry_after_is_honoured_within_its_own_cap() -> None:
    policy = http.RetryPolicy(base_delay=1.0, max_delay=10.0, max_retry_after=60.0)
    assert policy.delay(1, 42.0) == 42.0  # the server's wait, not the backoff
    assert policy.delay(1, 600.0) == 60.0
    assert policy.delay(3, -5.0) == 0.0
    assert http.RetryPolicy(max_delay=10.0).delay(1, 30.0) == 10.0  # no own cap: the backoff's


def test_jitter_takes_off_at_most_its_share_and_never_touches_retry_after() -> None:
    policy = http.RetryPolicy(base_delay=2.0, max_delay=8.0, jitter=0.5, rng=lambda: 1.0)
    assert [policy.delay(n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert http.RetryPolicy(base_delay=2.0, jitter=0.5, rng=lambda: 0.0).delay(1) == 2.0
    assert policy.delay(1, 5.0) == 5.0


def test_retry_after_header_in_seconds_or_as_a_date() -> None:
    assert http.parse_retry_after("7") == 7.0
    assert http.parse_retry_after(" 1.5 ") == 1.5
    assert http.parse_retry_after("-3") == 0.0
    assert http.parse_retry_after(None) is None
    assert http.parse_retry_after("soon") is None
    in_30s = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 27 <= (http.parse_retry_after(in_30s) or 0) <= 30


@pytest.mark.asyncio
async def test_retry_waits_the_policy_delays_then_answers() -> None:
    sleeps = Sleeps()
    call = Flaky(Busy(), Busy(4.0), Busy())
    policy = http.RetryPolicy(attempts=4, base_delay=0.5, max_delay=10.0)
    assert await http.retry(call, policy, busy_is_retried, sleep=sleeps) == "ok"
    assert sleeps == [0.5, 4.0, 2.0] and call.calls == 4


@pytest.mark.asyncio
async def test_retry_gives_up_after_its_attempts_with_the_last_error() -> None:
    sleeps = Sleeps()
    last = Busy()
    call = Flaky(Busy(), Busy(), last, Busy())
    with pytest.raises(Busy) as raised:
        await http.retry(call, http.RetryPolicy(attempts=3), busy_is_retried, sleep=sleeps)
    assert raised.value is last and call.calls == 3 and sleeps == [0.5, 1.0]


@pytest.mark.asyncio
async def test_a_final_error_is_raised_at_once() -> None:
    sleeps = Sleeps()
    call = Flaky(ValueError("refused"))
    with pytest.raises(ValueError, match="refused"):
        await http.retry(call, http.RetryPolicy(attempts=5), busy_is_retried, sleep=sleeps)
    assert call.calls == 1 and sleeps == []


# ------------------------------------------------------------------ pooled clients


@pytest.mark.asyncio
async def test_one_client_per_name_reused_until_close_all() -> None:
    a = http.client("test-a")
    assert http.client("test-a") is a
    b = http.client("test-b", timeout=httpx.Timeout(3.0))
    assert b is not a and b.timeout.read == 3.0
    await http.close_all()
    assert a.is_closed and b.is_closed
    fresh = http.client("test-a")
    assert fresh is not a and not fresh.is_closed
    await http.close_all()


@pytest.mark.asyncio
async def test_a_client_closed_elsewhere_is_replaced() -> None:
    a = http.client("test-a")
    await a.aclose()
    assert http.client("test-a") is not a
    await http.close_all()


@pytest.mark.asyncio
async def test_close_all_closes_other_pooled_objects_even_when_one_fails() -> None:
    closed: list[str] = []

    async def close(name: str) -> None:
        if name == "bad":
            raise RuntimeError("cannot close")
        closed.append(name)

    assert http.pooled("x", lambda: "bad", close) == "bad"
    assert http.pooled("x", lambda: "other", close) == "bad"  # made once per key
    http.pooled("y", lambda: "good", close)
    await http.close_all()
    assert closed == ["good"]
    assert http.pooled("x", lambda: "new", close) == "new"
    await http.close_all()


@pytest.mark.asyncio
async def test_providers_share_the_pool_unless_given_a_client() -> None:
    from vopix.core.providers import ProviderConfig, make_provider

    one = make_provider(ProviderConfig("openai", "", "k", "m"))
    two = make_provider(ProviderConfig("anthropic", "", "k", "m"))
    assert one.client is two.client is http.client("ai-providers")  # type: ignore[attr-defined]
    own = httpx.AsyncClient()
    assert make_provider(ProviderConfig("openai", "", "k", "m"), own).client is own  # type: ignore[attr-defined]
    await own.aclose()
    await http.close_all()
