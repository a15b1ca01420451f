"""The turn loop against a real (loopback) provider: persona, time zone, tools, failures."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from tests.core.agent.conftest import collect
from tests.fakes.ai_provider import Drop, HttpError, Malformed, Reply, tool_call
from vopix.core import usage
from vopix.core.agent import history, profile, runtime
from vopix.core.agent.tools import Tool
from vopix.db import session_scope
from vopix.models import Message, Secret

pytestmark = pytest.mark.asyncio


@pytest.mark.promise("P02")
@pytest.mark.promise("P10")
async def test_persona_language_and_local_time_reach_the_provider(agent_user, fake_ai) -> None:
    profile.update_persona(
        agent_user, name="Ada", personality="Speaks like a ship's captain.", language="French",
        timezone="Asia/Tokyo",
    )
    fake_ai.script(Reply("Bonjour, matelot !", chunks=3))
    events = await collect(runtime.run_turn(agent_user, "Salut"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "user_message" and kinds[-1] == "done"
    assert "".join(e.text for e in events if e.kind == "text") == "Bonjour, matelot !"
    system = fake_ai.requests[-1].body["messages"][0]
    assert system["role"] == "system"
    assert "You are Ada" in system["content"]
    assert "ship's captain" in system["content"]
    assert "Reply in French" in system["content"]
    assert "Asia/Tokyo, UTC+09:00" in system["content"]
    assert fake_ai.requests[-1].body["model"] == "gpt-4o-mini"
    # The reply and the message are both in the history.
    conv = events[0].conversation_id
    page, more = history.messages_page(agent_user, conv)
    assert [(m.role, m.content) for m in page] == [("user", "Salut"), ("assistant", "Bonjour, matelot !")]
    assert not more


@pytest.mark.promise("P23")
async def test_messages_go_to_the_provider_the_person_chose(agent_user, fake_ai) -> None:
    profile.update_provider(
        agent_user, kind="anthropic", model="claude-sonnet-4", base_url=fake_ai.anthropic_base_url,
        api_key="sk-ant-own-key-0987654321",
    )
    events = await collect(runtime.run_turn(agent_user, "hello there"))
    assert events[-1].kind == "done"
    req = fake_ai.requests[-1]
    assert req.protocol == "anthropic"
    assert req.headers["x-api-key"] == "sk-ant-own-key-0987654321"
    assert req.body["messages"][-1] == {"role": "user", "content": [{"type": "text", "text": "hello there"}]}


@pytest.mark.promise("P05")
async def test_own_api_key_is_encrypted_and_shown_only_as_last_four(agent_user) -> None:
    view = profile.get_profile(agent_user)
    assert view.has_own_key and view.key_hint == "1234"
    with session_scope() as s:
        rows = s.exec(select(Secret)).all()
        assert len(rows) == 1
        assert b"sk-test-abcdefghijklmnop1234" not in rows[0].ciphertext
    profile.remove_own_key(agent_user)
    assert profile.get_profile(agent_user).has_own_key is False
    with session_scope() as s:
        assert s.exec(select(Secret)).all() == []


async def test_tool_loop_runs_the_tool_for_this_user_and_records_it(agent_user, fake_ai, add_tool) -> None:
    seen = []

    def handler(ctx, args):
        seen.append((ctx.user_id, ctx.channel, args))
        return f"It is sunny in {args['city']}."

    add_tool(Tool("get_weather", "Weather for a city", {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
    }, handler))
    fake_ai.script(tool_call("get_weather", {"city": "Lyon"}), Reply("Sunny in Lyon!"))
    events = await collect(runtime.run_turn(agent_user, "Weather in Lyon?"))
    assert seen == [(agent_user, "web", {"city": "Lyon"})]
    assert [e.kind for e in events if e.kind in ("tool_result", "done")] == ["tool_result", "done"]
    second = fake_ai.requests[-1].body["messages"]
    assert second[-1] == {"role": "tool", "tool_call_id": second[-2]["tool_calls"][0]["id"],
                          "content": "It is sunny in Lyon."}
    assert any(t["function"]["name"] == "get_weather" for t in fake_ai.requests[0].body["tools"])
    page, _ = history.messages_page(agent_user, events[0].conversation_id)
    assert [m.role for m in page] == ["user", "tool", "assistant"]
    assert page[1].tool_name == "get_weather" and json.loads(page[1].tool_args) == {"city": "Lyon"}


async def test_tool_loop_stops_at_the_step_limit(agent_user, fake_ai, monkeypatch) -> None:
    monkeypatch.setattr(runtime, "MAX_STEPS", 2)
    fake_ai.script(tool_call("nope", {}), tool_call("nope", {}), Reply("never"))
    events = await collect(runtime.run_turn(agent_user, "loop"))
    assert events[-1].kind == "error" and "2 tool steps" in events[-1].text
    assert "no tool named nope" in events[1].text


async def test_destructive_tool_waits_for_confirmation_and_is_refused_where_none_can_be_asked(
    agent_user, fake_ai, add_tool
) -> None:
    done = []
    add_tool(Tool("wipe", "Delete things", {"type": "object", "properties": {}},
                  lambda ctx, args: done.append(ctx.confirmed) or "wiped", needs_confirmation=True))
    fake_ai.script(tool_call("wipe", {}), Reply("Asked you to confirm."))
    events = await collect(runtime.run_turn(agent_user, "wipe it"))
    waiting = next(e for e in events if e.kind == "tool_result")
    assert "asked to confirm" in waiting.text and done == []
    assert await runtime.confirm_tool_call(agent_user, waiting.message_id, True) == "wiped"
    assert done == [True]
    with pytest.raises(history.NotFound):
        await runtime.confirm_tool_call(agent_user, waiting.message_id, True)  # only once
    # Telegram and WhatsApp ask with buttons (tests/channels/test_confirmations.py): it waits.
    fake_ai.script(tool_call("wipe", {}), Reply("Press Confirm below."))
    events = await collect(runtime.run_turn(agent_user, "wipe it", channel="telegram"))
    waiting = next(e for e in events if e.kind == "tool_result")
    assert "Confirm and Cancel buttons" in waiting.text and done == [True]
    # A channel where nobody can be asked (an unattended run) refuses it.
    fake_ai.script(tool_call("wipe", {}), Reply("Cannot from here."))
    events = await collect(runtime.run_turn(agent_user, "wipe it", channel="task"))
    refused = next(e for e in events if e.kind == "tool_result")
    assert refused.text.startswith("Refused") and done == [True]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ([HttpError(401)], "refused the API key"),
        ([HttpError(429, retry_after=0)] * 3, "rate-limiting"),
        ([HttpError(500)] * 3, "did not answer properly"),
        ([Malformed()], "did not answer properly"),
    ],
)
async def test_provider_failures_end_the_turn_with_a_clear_message(
    agent_user, fake_ai, script, expected, monkeypatch
) -> None:
    import functools

    async def no_sleep(_s: float) -> None:
        return None

    # Retries happen for real, without waiting out their back-off.
    monkeypatch.setattr(runtime, "stream_with_retry", functools.partial(runtime.stream_with_retry, sleep=no_sleep))
    fake_ai.script(*script)
    events = await collect(runtime.run_turn(agent_user, "are you there?"))
    assert events[-1].kind == "error" and expected in events[-1].text
    assert "sk-test" not in events[-1].text
    page, _ = history.messages_page(agent_user, events[0].conversation_id)
    assert page[0].role == "user" and page[0].content == "are you there?"  # never lost
    assert page[-1].role == "notice"
    # The conversation stays usable.
    events = await collect(runtime.run_turn(agent_user, "again", conversation_id=events[0].conversation_id))
    assert events[-1].kind == "done" and "echo: again" in events[-1].text


async def test_a_stream_cut_mid_reply_keeps_the_partial_text(agent_user, fake_ai) -> None:
    fake_ai.script(Drop("Half a tho"))
    events = await collect(runtime.run_turn(agent_user, "tell me"))
    assert events[-1].kind == "error"
    with session_scope() as s:
        partial = s.exec(select(Message).where(Message.role == "assistant")).one()
        assert partial.content == "Half a tho" and partial.status == "error"


async def test_no_provider_configured_says_so_and_invents_nothing(make_user, fake_ai) -> None:
    user_id, _, _ = make_user()
    events = await collect(runtime.run_turn(user_id, "hi"))
    assert events[-1].kind == "error" and "No AI provider is set up" in events[-1].text
    assert fake_ai.requests == []
    with session_scope() as s:
        assert s.exec(select(Message).where(Message.role == "assistant")).all() == []


async def test_operator_default_provider_is_used_without_a_personal_key(make_user, fake_ai, settings_env) -> None:
    settings_env(VOPIX_DEFAULT_PROVIDER="openai", VOPIX_DEFAULT_MODEL="platform-model",
                 VOPIX_DEFAULT_BASE_URL=fake_ai.openai_base_url, VOPIX_DEFAULT_API_KEY="sk-platform-key-xyz")
    user_id, _, _ = make_user()
    events = await collect(runtime.run_turn(user_id, "hi"))
    assert events[-1].kind == "done"
    assert fake_ai.requests[-1].headers["authorization"] == "Bearer sk-platform-key-xyz"
    assert fake_ai.requests[-1].body["model"] == "platform-model"


@pytest.mark.promise("P11")
@pytest.mark.promise("P08")
async def test_over_quota_turn_is_refused_before_the_provider(agent_user, fake_ai) -> None:
    from vopix.models import Plan

    with session_scope() as s:
        plan = s.get(Plan, "free")
        plan.messages_per_month = 2
        s.add(plan)
    await collect(runtime.run_turn(agent_user, "one"))
    await collect(runtime.run_turn(agent_user, "two"))
    used = usage.month_usage(agent_user)
    assert used.messages == 2 and used.api_calls == 2 and used.output_tokens > 0
    calls_before = len(fake_ai.requests)
    events = await collect(runtime.run_turn(agent_user, "three"))
    assert events[-1].kind == "error" and "used all 2 messages" in events[-1].text
    # The way to the plans is the quota notice's link, not a path printed in the prose.
    assert "Upgrade on the Billing page" in events[-1].text and "/billing" not in events[-1].text
    assert any(n.kind == "quota" and n.link == "/billing" for n in usage.unread_notices(agent_user))
    assert len(fake_ai.requests) == calls_before
    keys = {n.key.split(":")[2] for n in usage.unread_notices(agent_user)}
    assert keys == {"80", "100"}
    with session_scope() as s:
        plan = s.get(Plan, "free")
        plan.messages_per_month = 300
        s.add(plan)


@pytest.mark.promise("P14")
async def test_conversation_content_goes_only_to_the_chosen_provider(agent_user, fake_ai, monkeypatch) -> None:
    import httpx

    hosts = []
    original = httpx.AsyncClient.send

    async def spy(self, request, **kw):
        hosts.append(request.url.host + ":" + str(request.url.port))
        return await original(self, request, **kw)

    monkeypatch.setattr(httpx.AsyncClient, "send", spy)
    await collect(runtime.run_turn(agent_user, "private thoughts"))
    assert set(hosts) == {fake_ai.openai_base_url.split("//")[1].split("/")[0]}


async def test_long_history_is_trimmed_but_keeps_the_persona(agent_user, fake_ai) -> None:
    profile.update_persona(agent_user, name="Trim", personality="Short.", language="English", timezone="UTC")
    conv = history.create_conversation(agent_user).id
    for i in range(400):
        history.add_message(agent_user, conv, "user" if i % 2 == 0 else "assistant", f"{i} " + "x" * 400)
    profile.update_provider(agent_user, kind="openai", model="tiny-model", base_url=fake_ai.openai_base_url)
    events = await collect(runtime.run_turn(agent_user, "latest question", conversation_id=conv))
    assert events[-1].kind == "done"
    sent = fake_ai.requests[-1].body["messages"]
    assert "You are Trim" in sent[0]["content"] and "left out" in sent[0]["content"]
    assert sent[-1]["content"] == "latest question"
    assert len(sent) < 200


async def test_two_confirm_clicks_run_a_destructive_tool_once(agent_user, fake_ai, add_tool) -> None:
    import asyncio

    runs = []
    add_tool(Tool("wipe2", "Delete things", {"type": "object", "properties": {}},
                  lambda ctx, args: runs.append(1) or "wiped", needs_confirmation=True))
    fake_ai.script(tool_call("wipe2", {}), Reply("Confirm please."))
    events = await collect(runtime.run_turn(agent_user, "wipe"))
    waiting = next(e for e in events if e.kind == "tool_result")
    results = await asyncio.gather(
        runtime.confirm_tool_call(agent_user, waiting.message_id, True),
        runtime.confirm_tool_call(agent_user, waiting.message_id, True),
        return_exceptions=True,
    )
    assert runs == [1]
    assert sorted(type(r).__name__ for r in results) == ["NotFound", "str"]


async def test_a_lone_surrogate_in_a_message_is_stored_not_lost(agent_user) -> None:
    conv = history.create_conversation(agent_user).id
    saved = history.add_message(agent_user, conv, "user", "broken \ud83d emoji", channel="telegram")
    assert history.get_message(agent_user, saved.id).content == "broken \ufffd emoji"
