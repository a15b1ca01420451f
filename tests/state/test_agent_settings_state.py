"""The Agent settings page without a browser: a hidden field arrives as None and is ignored, the
way back to the platform default is always open, and saving one form keeps the other's edits."""

from __future__ import annotations

import pytest

from vopix.core.agent import profile
from vopix.state.agent_settings import AgentSettingsState

pytestmark = pytest.mark.asyncio

# What the browser sends for the provider form with the own-provider fields hidden.
HIDDEN = {"model": None, "base_url": None, "api_key": None}


async def test_own_provider_then_platform_default_then_anthropic(logged_in) -> None:
    user_id, page = logged_in(AgentSettingsState)
    await page.load()
    page.choose_provider("openai")
    await page.save_provider({"provider": "openai", "model": "gpt-x", "base_url": "", "api_key": "sk-own-key-1111"})
    assert page.provider_message == "AI provider saved: OpenAI-compatible." and page.key_is_for_chosen

    page.choose_provider("platform")
    assert page.key_will_be_deleted  # the page says so before saving
    # The select snaps back until the server answers the change, so a quick Save may send the
    # old kind in the form: the choice the server holds is what is saved.
    await page.save_provider({"provider": "openai", "model": "gpt-x", "base_url": "", "api_key": ""})
    assert page.provider_error == "" and page.provider_message == "AI provider saved: Platform default."
    view = profile.get_profile(user_id)
    assert view.provider_kind == "" and not view.has_own_key

    page.choose_provider("anthropic")
    assert not page.key_will_be_deleted
    await page.save_provider({"provider": "anthropic", "model": "claude-x", "base_url": "", "api_key": "sk-ant-browser-2222"})
    assert page.provider_error == "" and profile.get_profile(user_id).key_hint == "2222"


async def test_saving_the_persona_keeps_the_provider_form_and_remove_key_keeps_both(logged_in) -> None:
    _, page = logged_in(AgentSettingsState)
    await page.load()
    page.choose_provider("openai")
    await page.save_provider({"provider": "openai", "model": "gpt-x", "base_url": "", "api_key": "sk-own-key-1111"})
    persona_key, provider_key = page.persona_key, page.provider_key
    await page.save_persona({"name": "Orion", "personality": "", "language": "", "timezone": "UTC"})
    assert page.persona_message.startswith("Saved. Orion") and page.provider_key == provider_key
    await page.remove_key()
    assert not page.has_own_key and (page.persona_key, page.provider_key) == (persona_key + 1, provider_key)
