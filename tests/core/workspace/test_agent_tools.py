"""The workspace through the agent: the tool loop against the fake provider, the system prompt,
confirmation for deletes, storage accounting, and one person never reaching another's files."""

from __future__ import annotations

import json

import pytest

from tests.core.agent.conftest import collect
from tests.fakes.ai_provider import Reply, tool_call
from vopix.core.agent import history, runtime
from vopix.core.agent.tools import ToolContext, call_tool, get_tool
from vopix.core.workspace import store

pytestmark = pytest.mark.asyncio

SKILL = """---
name: Trip planner
description: "Plan a trip: dates, budget, bookings."
---
# Trip planner
Always ask for the budget first. SECRET-STEP-42.
"""


def system_prompt_sent(fake_ai) -> str:
    first = fake_ai.requests[-1].body["messages"][0]
    assert first["role"] == "system"
    return first["content"]


def tool_results(fake_ai) -> list[str]:
    return [m["content"] for m in fake_ai.requests[-1].body["messages"] if m["role"] == "tool"]


async def test_skills_are_listed_by_name_and_description_and_loaded_through_the_tool(agent_user, fake_ai) -> None:
    store.write_text(agent_user, "skills/trips/SKILL.md", SKILL)
    fake_ai.script(tool_call("load_skill", {"name": "trip planner"}), Reply("What's your budget?"))
    events = await collect(runtime.run_turn(agent_user, "Help me plan a trip to Porto"))
    assert events[-1].kind == "done" and events[-1].text == "What's your budget?"
    first_prompt = fake_ai.requests[0].body["messages"][0]["content"]
    assert "- Trip planner: Plan a trip: dates, budget, bookings." in first_prompt
    assert "- meeting-notes: Turn rough meeting notes" in first_prompt  # the seeded example
    assert "SECRET-STEP-42" not in first_prompt  # only names and descriptions up front
    [loaded] = tool_results(fake_ai)
    assert "SECRET-STEP-42" in loaded and loaded.startswith("Skill “Trip planner” (skills/trips/SKILL.md)")
    # The call shows in the conversation.
    page, _ = history.messages_page(agent_user, events[0].conversation_id)
    assert [(m.role, m.tool_name) for m in page] == [("user", None), ("tool", "load_skill"), ("assistant", None)]


async def test_memory_md_is_given_every_turn_and_the_agent_appends_to_it(agent_user, fake_ai) -> None:
    store.write_text(agent_user, "MEMORY.md", "- 2024-05-01: prefers short answers")
    fake_ai.script(tool_call("append_file", {"path": "MEMORY.md", "content": "- 2024-05-02: has a cat, Miso"}),
                   Reply("Noted!"))
    await collect(runtime.run_turn(agent_user, "Remember that my cat is called Miso"))
    assert "prefers short answers" in system_prompt_sent(fake_ai)
    assert store.read_text(agent_user, "MEMORY.md")[1] == (
        "- 2024-05-01: prefers short answers\n- 2024-05-02: has a cat, Miso\n"
    )
    await collect(runtime.run_turn(agent_user, "What's my cat's name?"))
    assert "has a cat, Miso" in system_prompt_sent(fake_ai)


async def test_the_prompt_says_whether_scripts_can_be_run(agent_user, fake_ai, settings_env) -> None:
    from vopix.core import sandbox

    available = sandbox.status(refresh=True).available
    await collect(runtime.run_turn(agent_user, "hi"))
    prompt = system_prompt_sent(fake_ai)
    assert "scripts/" in prompt and "Never say you ran a script" in prompt
    assert ("You can run the person's Python" in prompt) is available
    settings_env(VOPIX_SANDBOX_BWRAP="/nonexistent/bwrap")  # no sandbox: the agent says it cannot
    sandbox.status(refresh=True)
    try:
        await collect(runtime.run_turn(agent_user, "hi"))
        assert "You cannot run scripts here" in system_prompt_sent(fake_ai)
    finally:
        settings_env(VOPIX_SANDBOX_BWRAP="/usr/bin/bwrap")
        sandbox.status(refresh=True)


@pytest.mark.promise("P04")
@pytest.mark.promise("P08")
async def test_agent_writes_count_against_storage_and_the_limit_holds(agent_user, fake_ai, storage_limit) -> None:
    before = store.storage_used(agent_user)
    fake_ai.script(tool_call("write_file", {"path": "notes/todo.md", "content": "x" * 700}), Reply("Saved."))
    await collect(runtime.run_turn(agent_user, "Save a todo list"))
    assert store.storage_used(agent_user) == before + 700
    assert tool_results(fake_ai)[0].startswith("Wrote notes/todo.md (700 bytes). Workspace storage:")
    storage_limit(before + 1000)
    fake_ai.script(tool_call("write_file", {"path": "notes/big.md", "content": "y" * 5000}), Reply("Sorry."))
    await collect(runtime.run_turn(agent_user, "Save a big note"))
    assert tool_results(fake_ai)[-1].startswith("Error: Not enough storage")
    assert not store.exists(agent_user, "notes/big.md") and store.storage_used(agent_user) == before + 700


async def test_read_search_list_and_move_through_the_loop(agent_user, fake_ai) -> None:
    store.write_text(agent_user, "logs/day.txt", "".join(f"line {i}\n" for i in range(1, 501)))
    store.write_text(agent_user, "notes/porto.md", "Porto: try the francesinha.")
    fake_ai.script(
        tool_call("read_file", {"path": "logs/day.txt", "start_line": 100, "max_lines": 3}),
        tool_call("search_files", {"query": "francesinha"}),
        tool_call("list_files", {"folder": "notes"}),
        tool_call("move_file", {"path": "notes/porto.md", "new_path": "travel/porto.md"}),
        tool_call("read_file", {"path": "../../etc/passwd"}),
        Reply("Done."),
    )
    await collect(runtime.run_turn(agent_user, "Look around"))
    read, found, listed, moved, hostile = tool_results(fake_ai)
    assert read == ("logs/day.txt (4.3 KB), lines 100-102:\nline 100\nline 101\nline 102\n"
                    "[More follows: call read_file with start_line=103.]")
    assert found.startswith("notes/porto.md: ") and "[francesinha]" in found
    assert listed.startswith("notes/porto.md  (27 bytes, ")
    assert moved == "Moved to travel/porto.md."
    assert hostile.startswith("Error: “../../etc/passwd”: “..” is not allowed")


async def test_delete_asks_for_confirmation_on_the_web(agent_user, fake_ai) -> None:
    store.write_text(agent_user, "old/draft.md", "draft")
    fake_ai.script(tool_call("delete_file", {"path": "old"}), Reply("Please confirm."))
    events = await collect(runtime.run_turn(agent_user, "Delete the old folder"))
    waiting = next(e for e in events if e.kind == "tool_result")
    assert waiting.text.startswith("Waiting: the person has been asked to confirm")
    assert store.exists(agent_user, "old/draft.md")  # nothing happens before the answer
    result = await runtime.confirm_tool_call(agent_user, waiting.message_id, True)
    assert result.startswith("Deleted old (1 file, 5 bytes freed).")
    assert not store.exists(agent_user, "old")
    assert history.get_message(agent_user, waiting.message_id).status == "complete"


async def test_a_declined_delete_deletes_nothing(agent_user, fake_ai) -> None:
    fake_ai.script(tool_call("delete_file", {"path": "README.md"}), Reply("Ok."))
    events = await collect(runtime.run_turn(agent_user, "Delete the readme"))
    waiting = next(e for e in events if e.kind == "tool_result")
    assert (await runtime.confirm_tool_call(agent_user, waiting.message_id, False)).startswith("Cancelled")
    assert store.exists(agent_user, "README.md")


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "task"])
async def test_delete_waits_on_chat_channels_and_is_refused_where_nobody_can_confirm(
    agent_user, fake_ai, channel
) -> None:
    fake_ai.script(tool_call("delete_file", {"path": "README.md"}), Reply("Press Confirm."))
    events = await collect(runtime.run_turn(agent_user, "Delete the readme", channel=channel))
    result = next(e for e in events if e.kind == "tool_result")
    if channel == "task":  # an unattended run: nobody to ask
        assert result.text.startswith("Refused: delete_file needs the person's confirmation")
    else:  # Telegram and WhatsApp ask with buttons (tests/channels/test_confirmations.py)
        assert result.text.startswith("Waiting: the person has been asked to confirm")
    assert store.exists(agent_user, "README.md")
    # Even called directly without a confirmation, the handler refuses.
    tool = get_tool("delete_file")
    out = await call_tool(tool, ToolContext(agent_user, events[0].conversation_id, channel), {"path": "README.md"})
    assert out.startswith("Error: Deleting needs the person's confirmation") and store.exists(agent_user, "README.md")


async def test_no_tool_reaches_another_persons_files(agent_user, make_user, fake_ai) -> None:
    other, _, _ = make_user()
    store.write_text(other, "private/plans.md", "the other person's plans: moonbase")
    store.write_text(other, "skills/secret/SKILL.md", "---\nname: hidden-skill\ndescription: theirs\n---\nbody")
    store.write_text(other, "MEMORY.md", "other person's memory")
    ctx = ToolContext(agent_user, history.create_conversation(agent_user).id, "web", confirmed=True)

    async def run(name: str, args: dict) -> str:
        return await call_tool(get_tool(name), ctx, args)

    assert (await run("read_file", {"path": "private/plans.md"})).startswith("Error: There is no")
    assert (await run("search_files", {"query": "moonbase"})).startswith("No file mentions")
    assert "private" not in await run("list_files", {})
    assert (await run("list_files", {"folder": "private"})).startswith("Error: There is no folder")
    assert (await run("delete_file", {"path": "private"})).startswith("Error: There is no “private”")
    assert (await run("move_file", {"path": "private/plans.md", "new_path": "mine.md"})).startswith("Error")
    assert (await run("load_skill", {"name": "hidden-skill"})).startswith("There is no skill")
    await run("append_file", {"path": "private/plans.md", "content": "mine"})  # makes the caller's own file
    assert store.read_text(other, "private/plans.md")[1] == "the other person's plans: moonbase"
    fake_ai.script(Reply("hi"))
    await collect(runtime.run_turn(agent_user, "hello"))
    prompt = system_prompt_sent(fake_ai)
    assert "hidden-skill" not in prompt and "other person's memory" not in prompt


async def test_tool_arguments_of_the_wrong_type_are_explained(agent_user) -> None:
    ctx = ToolContext(agent_user, history.create_conversation(agent_user).id, "web")
    out = await call_tool(get_tool("write_file"), ctx, {"path": ["a"], "content": "x"})
    assert out == "Error: “path” must be text."
    out = await call_tool(get_tool("read_file"), ctx, {"path": "README.md", "start_line": "abc"})
    assert out == "Error: “start_line” must be a whole number."
    out = await call_tool(get_tool("read_file"), ctx, {"path": "README.md", "start_line": 10_000})
    assert "has only" in out
    store.write_bytes(agent_user, "pic.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    out = await call_tool(get_tool("read_file"), ctx, {"path": "pic.png"})
    assert "is not a text file (image/png" in out
    assert json.loads(json.dumps(get_tool("read_file").spec().parameters))["required"] == ["path"]
