"""Tool calls as a person reads them in the chat: what the call does in their words, its
arguments as labelled fields, and a state that says whether it failed."""

from __future__ import annotations

import pytest

from tests.fakes.ai_provider import Reply, tool_call
from vopix.core.agent import history, runtime
from vopix.core.agent.tools import Tool, describe_call
from vopix.core.kinds import MessageStatus

from .conftest import collect


def test_each_workspace_tool_says_what_it_does() -> None:
    assert describe_call("delete_file", '{"path": "README.md"}').title == "Delete README.md"
    assert describe_call("move_file", {"path": "a.md", "new_path": "old/a.md"}).title == "Move a.md to old/a.md"
    assert describe_call("read_file", {"path": "notes.md", "start_line": 40}).title == "Read notes.md from line 40"
    assert describe_call("list_files", {}).title == "List the files in the workspace"
    assert describe_call("search_files", {"query": "tax"}).title == "Search the files for “tax”"
    assert describe_call("load_skill", {"name": "Travel"}).title == "Use the skill “Travel”"
    write = describe_call("write_file", {"content": "hi\nthere", "path": "n.md"})
    assert write.title == "Write n.md"
    assert write.fields == [("Path", "n.md"), ("Content", "hi\nthere")]  # the tool's order


def test_a_tool_without_a_description_or_unknown_reads_as_its_name_and_fields() -> None:
    view = describe_call(
        "get_weather",
        {"city": "Lyon", "days": 3, "metric": True, "tags": ["rain", "wind"], "where": {"postal_code": "69001"}},
    )
    assert view.title == "Get weather"
    assert view.fields == [
        ("City", "Lyon"), ("Days", "3"), ("Metric", "Yes"), ("Tags", "rain, wind"),
        ("Where", "Postal code: 69001"),
    ]
    assert describe_call("delete_file", {}).title == "Delete file"  # its path is missing
    assert describe_call("delete_file", "not json").fields == [("Arguments", "not json")]
    long = describe_call("write_file", {"path": "big.txt", "content": "x" * 5000}).fields[1][1]
    assert long.startswith("x" * 600) and long.endswith("(4,400 more characters)")


@pytest.mark.asyncio
async def test_a_failed_call_is_stored_as_failed_and_a_good_one_as_complete(agent_user, fake_ai, add_tool) -> None:
    def handler(ctx, args):
        if args["city"] == "Atlantis":
            raise ValueError("no such city")
        return "Sunny."

    add_tool(Tool("get_weather", "Weather", {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
    }, handler, describe=lambda a: f"Check the weather in {a['city']}"))
    fake_ai.script(
        tool_call("get_weather", {"city": "Atlantis"}), tool_call("get_weather", {"city": "Lyon"}),
        tool_call("no_such_tool", {}), Reply("Done."),
    )
    events = await collect(runtime.run_turn(agent_user, "Weather?"))
    calls = [e for e in events if e.kind == "tool_result"]
    assert [e.data["status"] for e in calls] == [MessageStatus.FAILED, MessageStatus.COMPLETE, MessageStatus.FAILED]
    page, _ = history.messages_page(agent_user, events[0].conversation_id)
    assert [m.status for m in page if m.role == "tool"] == ["failed", "complete", "failed"]
    assert describe_call("get_weather", {"city": "Lyon"}).title == "Check the weather in Lyon"


@pytest.mark.asyncio
@pytest.mark.parametrize("approve, status", [(True, "failed"), (False, "cancelled")])
async def test_a_confirmed_call_that_fails_is_failed(agent_user, fake_ai, add_tool, approve, status) -> None:
    def wipe(ctx, args):
        raise ValueError("the disk is read-only")

    add_tool(Tool("wipe", "Wipe", {"type": "object", "properties": {}}, wipe, needs_confirmation=True))
    fake_ai.script(tool_call("wipe", {}), Reply("Confirm?"))
    events = await collect(runtime.run_turn(agent_user, "wipe"))
    waiting = next(e for e in events if e.kind == "tool_result")
    await runtime.confirm_tool_call(agent_user, waiting.message_id, approve)
    assert history.get_message(agent_user, waiting.message_id).status == status
