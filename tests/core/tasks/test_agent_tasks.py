"""An agent task runs its prompt as a turn of the person's agent at the time, its answer
delivered; it counts against the quotas like any turn, checked before the run. And the
agent's tools create tasks with the same validation as the page."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.core.tasks.conftest import T0, run_at, runs_of, task_messages
from tests.fakes.ai_provider import FakeAIProvider, Reply, make_fixture
from vopix.core import plans, usage
from vopix.core.agent import profile
from vopix.core.agent.tools import ToolContext, get_tool, run_tool
from vopix.core.tasks import store

fake_ai = make_fixture()


def _agent(person, fake_ai: FakeAIProvider) -> int:
    user = person("Europe/Berlin")
    profile.update_provider(user, kind="openai", model="gpt-4o-mini", base_url=fake_ai.openai_base_url,
                            api_key="sk-test-abcdefghijklmnop1234")
    return user


def test_an_agent_task_runs_its_prompt_and_its_answer_is_delivered_and_counted(person, fake_ai) -> None:
    user = _agent(person, fake_ai)
    fake_ai.script(Reply("You have 2 open issues: #4 and #9."))
    task = store.create(user, "agent", "Summarise my open GitHub issues", {"in_minutes": 5},
                        title="Issues summary", now=T0)
    before = usage.month_usage(user)
    assert run_at(T0 + timedelta(minutes=5)) == 1
    assert len(fake_ai.requests) == 1
    sent = fake_ai.requests[0].body["messages"]
    assert sent[-1]["content"] == "Summarise my open GitHub issues"
    assert {t["function"]["name"] for t in fake_ai.requests[0].body.get("tools", [])} >= {"read_file"}
    messages = task_messages(user)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content == "You have 2 open issues: #4 and #9."
    [run] = runs_of(task.id)
    assert (run.outcome, run.message_id) == ("delivered", messages[1].id)
    after = usage.month_usage(user)
    assert (after.messages, after.api_calls) == (before.messages + 1, before.api_calls + 1)


def test_an_agent_task_over_the_message_quota_does_not_run(person, fake_ai) -> None:
    user = _agent(person, fake_ai)
    plans.save_plan("free", messages_per_month=1)
    usage.record_message(user)
    task = store.create(user, "agent", "Check my Gmail for invoices", {"in_minutes": 5}, now=T0)
    assert run_at(T0 + timedelta(minutes=5)) == 1
    assert fake_ai.requests == []  # the provider was never called
    [run] = runs_of(task.id)
    assert run.outcome == "refused"
    [notice] = task_messages(user)
    assert notice.role == "notice" and "did not run" in notice.content


def _call(user: int, name: str, **args) -> str:
    tool = get_tool(name)
    assert tool is not None
    outcome = asyncio.run(run_tool(tool, ToolContext(user, 0, "web"), args))
    return outcome.text


def test_the_tools_preview_create_list_and_refuse_with_a_reason(person) -> None:
    user = person("Europe/Berlin")
    said = _call(user, "preview_task_schedule", repeat="weekly", days=["MO"], time="08:00")
    assert said.startswith("Every Monday at 08:00 (Europe/Berlin). Next runs: ") and "Nothing is stored" in said
    assert store.list_tasks(user) == []
    made = _call(user, "create_task", kind="reminder", text="call Ana", in_minutes=20)
    assert made.startswith("Created. #") and "Next runs:" in made
    [task] = store.list_tasks(user)
    assert "call Ana" in _call(user, "list_tasks")
    refused = _call(user, "create_task", kind="reminder", text="x", when="2001-01-01 09:00")
    assert refused.startswith("Error: ") and "in the past" in refused and "Nothing was changed" in refused
    other = person()
    assert "no task" in _call(other, "delete_task", task_id=task.id)
    assert len(store.list_tasks(user)) == 1
    assert _call(user, "pause_task", task_id=task.id).startswith("Paused.")
    assert _call(user, "delete_task", task_id=task.id).startswith("Deleted task")
    assert store.list_tasks(user) == []


def test_an_agent_task_retried_after_a_crash_answers_its_stored_prompt_once_and_counts_it_once(
    person, fake_ai, monkeypatch
) -> None:
    """The first attempt stores the prompt (its id on the run, in the same transaction), an
    answer step, and dies; the retry after the lease answers that prompt: it is not stored nor
    counted again, and what the dead attempt left after it is gone."""
    from vopix.core.agent import history, runtime
    from vopix.core.tasks import claim

    user = _agent(person, fake_ai)
    task = store.create(user, "agent", "Summarise my day", {"in_minutes": 5}, title="Day", now=T0)
    before = usage.month_usage(user)
    real_answer = runtime._answer

    async def dies_mid_answer(user_id, conversation_id, channel, prep, should_stop):
        history.add_message(user_id, conversation_id, "assistant", "Half an ans", channel=channel)
        yield runtime.TurnEvent(runtime.TurnEventKind.TEXT, "Half an ans", None, conversation_id)
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(runtime, "_answer", dies_mid_answer)
    due_at = T0 + timedelta(minutes=5)
    run_at(due_at)
    [run] = runs_of(task.id)
    assert run.stage == "started" and run.prompt_id is not None
    assert [m.content for m in task_messages(user)] == ["Summarise my day", "Half an ans"]

    monkeypatch.setattr(runtime, "_answer", real_answer)
    fake_ai.script(Reply("A quiet day: two meetings."))
    assert run_at(due_at + claim.LEASE + timedelta(seconds=1), "w2") == 1
    messages = task_messages(user)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Summarise my day"), ("assistant", "A quiet day: two meetings.")]
    assert messages[0].id == run.prompt_id
    [run] = runs_of(task.id)
    assert (run.stage, run.outcome, run.message_id) == ("done", "delivered", messages[1].id)
    assert usage.month_usage(user).messages == before.messages + 1
