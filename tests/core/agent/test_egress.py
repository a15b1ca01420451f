"""A person's provider base URL cannot reach the server's private network (SSRF)."""

from __future__ import annotations

import pytest

from tests.core.agent.conftest import collect
from vopix.core.agent import egress, profile, runtime


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
    ],
)
def test_private_and_unresolvable_base_urls_are_refused_on_a_hosted_vopix(make_user, settings_env, url) -> None:
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="auto", VOPIX_PUBLIC_URL="https://vopix.example")
    user_id, _, _ = make_user()
    with pytest.raises(profile.ProfileError, match="private or local network"):
        profile.update_provider(user_id, kind="openai", model="m", base_url=url, api_key="sk-some-key-123456")
    assert profile.get_profile(user_id).provider_kind == ""  # nothing saved


def test_public_addresses_pass_and_local_use_may_reach_localhost(settings_env) -> None:
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="auto", VOPIX_PUBLIC_URL="https://vopix.example")
    egress.check_base_url("http://93.184.215.14/v1")  # a public literal address: no DNS needed
    settings_env(VOPIX_ALLOW_PRIVATE_PROVIDER_URLS="auto", VOPIX_PUBLIC_URL="http://localhost:3000")
    egress.check_base_url("http://127.0.0.1:11434/v1")  # self-hosted: a local Ollama is fine
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
