"""Agent settings in Chromium: a person can switch provider kinds in any order (and the key of a
provider they leave is deleted), and a personality preset never discards what they typed."""

from __future__ import annotations

import re
import secrets
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.browser.conftest import sign_up
from tests.fakes.ai_provider import FakeAIProvider, Reply
from vopix.core import accounts
from vopix.core.agent.profile import KEY_PURPOSE
from vopix.db import session_scope
from vopix.models import Secret


@pytest.fixture(scope="module")
def provider():
    with FakeAIProvider() as fake:
        yield fake


def _keys_in_vault(user_id: int) -> int:
    with session_scope() as s:
        rows = s.exec(select(Secret).where(Secret.user_id == user_id, Secret.purpose == KEY_PURPOSE))
        return len(list(rows))


def _wait_for_keys(user_id: int, count: int) -> None:
    deadline = time.monotonic() + 5
    while _keys_in_vault(user_id) != count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _keys_in_vault(user_id) == count


def _save(form, *, kind: str, model: str = "", base_url: str = "", key: str = "") -> None:
    form.get_by_label("Provider").select_option(label=kind)
    if kind != "Platform default":
        form.get_by_label("Model").fill(model)
        form.get_by_label("Base URL (optional)").fill(base_url)
        if key:
            form.get_by_label("API key").fill(key)
    form.get_by_role("button", name="Save provider").click()
    # The message names the provider; the form's own message before this change did not.
    expect(form.get_by_role("status")).to_have_text(re.compile(rf"^AI provider saved(: {kind})?\.$"))
    expect(form.get_by_role("alert")).to_have_count(0)


def _chat_says(page, text: str, *, notice: bool = False) -> None:
    """Send a message; the reply (in the log) or the notice (a note) says `text`."""
    page.goto("/chat")
    sent = f"hello {secrets.token_hex(2)}"
    page.get_by_label("Message", exact=True).fill(sent)
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text(sent)
    if notice:
        expect(page.get_by_role("note").filter(has_text=text).last).to_be_visible()
    else:
        expect(log).to_contain_text(text)
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_switching_provider_kinds_in_any_order(page, provider) -> None:
    email = f"switch-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None

    page.goto("/settings")
    form = page.get_by_role("form", name="AI provider")
    _save(form, kind="OpenAI-compatible", model="fake-model", base_url=provider.openai_base_url,
          key="sk-browser-switch-key-1111")
    expect(form).to_contain_text("A key ending in 1111 is saved")
    assert _keys_in_vault(user_id) == 1

    # Back to the platform default: saved, the key deleted, and the chat uses the platform
    # default (none is set up in the browser tests, so it says so).
    _save(form, kind="Platform default")
    _wait_for_keys(user_id, 0)
    _chat_says(page, "No AI provider is set up", notice=True)

    # Then Anthropic, then OpenAI-compatible, then the platform default again.
    page.goto("/settings")
    form = page.get_by_role("form", name="AI provider")
    _save(form, kind="Anthropic", model="fake-claude", base_url=provider.anthropic_base_url,
          key="sk-ant-browser-key-2222")
    expect(form).to_contain_text("A key ending in 2222 is saved")
    assert _keys_in_vault(user_id) == 1
    form.get_by_label("Provider").select_option(label="OpenAI-compatible")
    expect(form).to_contain_text("Saving deletes your saved API key")
    _save(form, kind="OpenAI-compatible", model="fake-model", base_url=provider.openai_base_url,
          key="sk-browser-switch-key-3333")
    expect(form).to_contain_text("A key ending in 3333 is saved")
    assert _keys_in_vault(user_id) == 1  # the Anthropic key went with the Anthropic provider
    provider.script(Reply("Reply from the own provider.", chunks=1))
    _chat_says(page, "Reply from the own provider.")

    page.goto("/settings")
    form = page.get_by_role("form", name="AI provider")
    _save(form, kind="Platform default")
    _wait_for_keys(user_id, 0)
    asked = len(provider.requests)
    _chat_says(page, "No AI provider is set up", notice=True)
    assert len(provider.requests) == asked  # the own provider is not asked any more


def test_a_preset_keeps_the_name_just_typed(page) -> None:
    sign_up(page, f"preset-{secrets.token_hex(4)}@example.com")
    page.goto("/settings")
    persona = page.get_by_role("form", name="Persona")
    persona.get_by_label("Agent name").fill("Orion")
    persona.get_by_label("Preferred language").fill("Portuguese")
    persona.get_by_role("button", name="Concise expert").click()
    expect(persona.get_by_label("Personality")).to_have_value(
        "Direct and precise. Short answers, no filler, facts first."
    )
    expect(persona.get_by_label("Agent name")).to_have_value("Orion")
    expect(persona.get_by_label("Preferred language")).to_have_value("Portuguese")
    persona.get_by_role("button", name="Save persona").click()
    expect(persona).to_contain_text("Saved. Orion will use these settings")
    page.reload()
    persona = page.get_by_role("form", name="Persona")
    expect(persona.get_by_label("Personality")).to_have_value(
        "Direct and precise. Short answers, no filler, facts first."
    )
