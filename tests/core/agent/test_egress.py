"""A person's provider base URL cannot reach the server's private network (SSRF)."""

from __future__ import annotations

import socket

import pytest

from tests.core.agent.conftest import collect
from vopix.core.agent import egress, profile, runtime


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty resolution cache, so that no test sees another's answers."""
    monkeypatch.setattr(egress, "_cache", {})


@pytest.fixture
def hosted(settings_env) -> None:
    """A VOPIX served from a public address: private provider URLs are refused."""
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="auto", VOPIX_PUBLIC_URL="https://vopix.example")


def _resolve_to(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> list[str]:
    """Make each name resolve to the given addresses (others as usual); returns the names asked."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
             (a, 0, 0, 0) if ":" in a else (a, 0))
            for a in names[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def _url(address: str) -> str:
    return f"http://[{address}]/v1" if ":" in address else f"http://{address}/v1"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:11434/v1",
        "http://localhost:8000/v1",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/v1",
        "http://192.168.1.10/v1",
        "http://[::1]:8080/v1",
        "http://0.0.0.0/v1",
        "http://no-such-host.invalid/v1",
        "http://100.64.0.1/v1",  # carrier-grade NAT, where some clouds keep their metadata service
        "http://[2002:a00:1::]/v1",  # 6to4 wrapping 10.0.0.1
    ],
)
def test_private_and_unresolvable_base_urls_are_refused_on_a_hosted_vopix(hosted, make_user, url) -> None:
    user_id, _, _ = make_user()
    with pytest.raises(profile.ProfileError, match="private or local network"):
        profile.update_provider(user_id, kind="openai", model="m", base_url=url, api_key="sk-some-key-123456")
    assert profile.get_profile(user_id).provider_kind == ""  # nothing saved


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # carrier-grade NAT (100.64.0.0/10)
        "100.127.255.254",
        "192.0.0.8",  # IETF protocol assignments
        "198.18.0.1",  # benchmarking
        "192.88.99.1",  # retired 6to4 relay anycast
        "224.0.0.1",  # multicast
        "169.254.169.254",  # link-local metadata service
        "2002:a00:1::",  # 6to4 around 10.0.0.1
        "2002:808:808::",  # 6to4 around a public address: relayed all the same, refused as a whole
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "::10.0.0.1",  # IPv4-compatible (deprecated)
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64
        "2001::1",  # Teredo
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo with a public server and client
        "fc00::1",  # unique local
        "fe80::1",  # link-local
        "ff0e::1",  # global-scope multicast
        "3fff::1",  # documentation
    ],
)
def test_non_global_addresses_are_refused(hosted, address: str) -> None:
    with pytest.raises(egress.PrivateAddressRefused):
        egress.check_base_url(_url(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.215.14",
        "2606:4700::1111",
        "::ffff:8.8.8.8",  # IPv4-mapped public: the connection goes to 8.8.8.8
        "64:ff9b::808:808",  # NAT64 of a public address, as a DNS64 resolver answers
    ],
)
def test_globally_routable_addresses_are_allowed(hosted, address: str) -> None:
    egress.check_base_url(_url(address))  # literal addresses: no DNS needed


def test_a_name_is_refused_when_any_of_its_addresses_is_private(hosted, make_user, monkeypatch) -> None:
    asked = _resolve_to(monkeypatch, {"mixed.example": ["8.8.8.8", "10.0.0.1"],
                                      "public.example": ["8.8.8.8", "2606:4700::1111"]})
    user_id, _, _ = make_user()
    with pytest.raises(profile.ProfileError, match="private or local network"):
        profile.update_provider(user_id, kind="openai", model="m", base_url="https://mixed.example/v1",
                                api_key="sk-some-key-123456")
    assert profile.get_profile(user_id).provider_kind == ""
    egress.check_base_url("https://public.example/v1")
    assert asked == ["mixed.example", "public.example"]


def test_a_refusal_does_not_outlive_the_cache(hosted, monkeypatch) -> None:
    names = {"moved.example": ["100.64.0.1"]}
    _resolve_to(monkeypatch, names)
    clock = [1000.0]
    monkeypatch.setattr(egress.time, "monotonic", lambda: clock[0])
    with pytest.raises(egress.PrivateAddressRefused):
        egress.check_base_url("https://moved.example/v1")
    names["moved.example"] = ["8.8.8.8"]
    with pytest.raises(egress.PrivateAddressRefused):  # the answer is kept for a minute
        egress.check_base_url("https://moved.example/v1")
    clock[0] += egress._CACHE_SECONDS + 1
    egress.check_base_url("https://moved.example/v1")


def test_local_use_may_reach_localhost(settings_env) -> None:
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="auto", VOPIX_PUBLIC_URL="http://localhost:3000")
    egress.check_base_url("http://127.0.0.1:11434/v1")  # self-hosted: a local Ollama is fine
    egress.check_base_url("http://100.64.0.1/v1")  # and so is a tailnet address
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="1", VOPIX_PUBLIC_URL="https://vopix.example")
    egress.check_base_url("http://10.0.0.5/v1")  # the operator allows it outright
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="0", VOPIX_PUBLIC_URL="http://localhost:3000")
    with pytest.raises(egress.PrivateAddressRefused):
        egress.check_base_url("http://127.0.0.1:11434/v1")


@pytest.mark.asyncio
async def test_a_saved_url_that_turns_private_is_refused_at_use(agent_user, fake_ai, settings_env) -> None:
    # Saved while private addresses were allowed, then the operator turned them off.
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="0")
    events = await collect(runtime.run_turn(agent_user, "hello"))
    assert events[-1].kind == "error" and "private or local network" in events[-1].text
    assert fake_ai.requests == []
