"""Running a person's scripts through the agent: confirmation, "run without asking", the Runs
list, files saved under runs/, run seconds metered and checked first, and one person's run
never reaching another's files. All on the real sandbox."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from tests.core.agent.conftest import agent_user, collect, fake_ai  # noqa: F401
from tests.fakes.ai_provider import Reply, tool_call
from vopix.core import sandbox, usage
from vopix.core.agent import runtime
from vopix.core.agent.tools import tools_for
from vopix.core.kinds import RunStatus
from vopix.core.sandbox import runs
from vopix.core.workspace import store
from vopix.db import session_scope
from vopix.models import Plan, ScriptRun

pytestmark = pytest.mark.asyncio

REPORT = """import sys, os
name = sys.argv[1] if len(sys.argv) > 1 else "nobody"
text = sys.stdin.read()
os.makedirs("out", exist_ok=True)
open("out/report.txt", "w").write(f"report for {name}: {text.strip()}")
print("hello", name)
"""


@pytest.fixture(autouse=True)
def _needs_sandbox():
    state = sandbox.status(refresh=True)
    if not state.available:
        pytest.skip(f"the sandbox cannot start on this machine: {state.reason}")


def _run_rows() -> int:
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(ScriptRun)).one()


async def test_running_asks_first_then_shows_output_and_saves_files(agent_user, fake_ai) -> None:  # noqa: F811
    store.write_text(agent_user, "scripts/report.py", REPORT)
    fake_ai.script(
        tool_call("run_script", {"path": "scripts/report.py", "args": ["Ada"], "stdin": "tomatoes"}),
        Reply("Please confirm."),
    )
    events = await collect(runtime.run_turn(agent_user, "Run my report for Ada"))
    waiting = next(e for e in events if e.kind == "tool_result")
    assert waiting.text.startswith("Waiting: the person has been asked to confirm")
    assert _run_rows() == 0  # nothing ran before the answer

    result = await runtime.confirm_tool_call(agent_user, waiting.message_id, True)
    assert result.startswith("scripts/report.py: finished with exit status 0, in ")
    assert "Output:\nhello Ada\n" in result
    [run] = runs.list_runs(agent_user)
    assert run.status == RunStatus.OK and run.stdout == "hello Ada\n" and run.args == ["Ada"]
    assert run.output_folder.startswith("runs/") and run.files == 1
    assert f"Files saved in {run.output_folder}/ (1)." in result
    _, saved = store.read_text(agent_user, f"{run.output_folder}/out/report.txt")
    assert saved == "report for Ada: tomatoes"
    # Counted against storage like any other file, and the run's seconds are metered.
    assert store.usage(agent_user).bytes_used >= len(REPORT) + len(saved)
    with session_scope() as s:
        assert usage.run_seconds_used(s, agent_user) >= 1


async def test_a_declined_run_runs_nothing(agent_user, fake_ai) -> None:  # noqa: F811
    store.write_text(agent_user, "scripts/report.py", REPORT)
    fake_ai.script(tool_call("run_script", {"path": "scripts/report.py"}), Reply("Ok."))
    events = await collect(runtime.run_turn(agent_user, "Run the report"))
    waiting = next(e for e in events if e.kind == "tool_result")
    assert (await runtime.confirm_tool_call(agent_user, waiting.message_id, False)).startswith("Cancelled")
    assert _run_rows() == 0


@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
async def test_on_the_phone_a_run_waits_for_the_button_and_marked_scripts_do_not(agent_user, fake_ai, channel) -> None:  # noqa: F811
    store.write_text(agent_user, "scripts/report.py", REPORT)
    fake_ai.script(tool_call("run_script", {"path": "scripts/report.py", "args": ["Cy"]}), Reply("Confirm it, please."))
    events = await collect(runtime.run_turn(agent_user, "Run the report", channel=channel))
    waiting = next(e for e in events if e.kind == "tool_result")
    assert waiting.text.startswith("Waiting:")  # the question goes out with Confirm/Cancel buttons
    assert _run_rows() == 0  # nothing runs before the press
    result = await runtime.confirm_tool_call(agent_user, waiting.message_id, True, channel=channel)
    assert "hello Cy" in result
    assert runs.list_runs(agent_user)[0].channel == channel

    runs.set_mark(agent_user, "scripts/report.py", True)
    fake_ai.script(tool_call("run_marked_script", {"path": "scripts/report.py", "args": ["Bo"]}), Reply("Done."))
    events = await collect(runtime.run_turn(agent_user, "Run the report", channel=channel))
    ran = next(e for e in events if e.kind == "tool_result")
    assert "hello Bo" in ran.text
    assert [r.args for r in runs.list_runs(agent_user)] == [["Bo"], ["Cy"]]


async def test_a_changed_script_loses_run_without_asking(agent_user, fake_ai) -> None:  # noqa: F811
    store.write_text(agent_user, "scripts/report.py", REPORT)
    runs.set_mark(agent_user, "scripts/report.py", True)
    assert runs.marked_scripts(agent_user) == ["scripts/report.py"]
    store.write_text(agent_user, "scripts/report.py", REPORT + "print('and more')\n")  # e.g. the agent edits it
    assert runs.marked_scripts(agent_user) == []
    fake_ai.script(tool_call("run_marked_script", {"path": "scripts/report.py"}), Reply("Ok."))
    events = await collect(runtime.run_turn(agent_user, "Run it"))
    assert "not marked “run without asking”" in next(e for e in events if e.kind == "tool_result").text
    assert _run_rows() == 0


async def test_no_run_time_left_refuses_before_running(agent_user) -> None:  # noqa: F811
    store.write_text(agent_user, "scripts/report.py", REPORT)
    with session_scope() as s:
        plan = s.get(Plan, "free")
        plan.run_seconds_per_month = 5
        s.add(plan)
        usage.count_run_seconds(s, agent_user, 5)
    with pytest.raises(usage.QuotaExceeded, match="all 5 seconds of run time of your Free plan"):
        runs.run_script(agent_user, "scripts/report.py")
    assert _run_rows() == 0


async def test_the_wall_time_is_cut_to_the_seconds_left(agent_user) -> None:  # noqa: F811
    store.write_text(agent_user, "scripts/slow.py", "import time\ntime.sleep(30)\n")
    with session_scope() as s:
        plan = s.get(Plan, "free")
        plan.run_seconds_per_month = 62
        s.add(plan)
        usage.count_run_seconds(s, agent_user, 60)
    run = runs.run_script(agent_user, "scripts/slow.py")
    assert run.status == RunStatus.STOPPED and run.seconds < 2 + sandbox.runner.GRACE_SECONDS
    assert "it was stopped at the time limit" in run.notes


async def test_only_scripts_in_the_scripts_folder_run(agent_user) -> None:  # noqa: F811
    store.write_text(agent_user, "notes/x.py", "print(1)")
    store.write_text(agent_user, "scripts/notes.md", "hi")
    for path in ("notes/x.py", "scripts/notes.md", "README.md"):
        with pytest.raises(runs.RunRefused, match="scripts/ folder"):
            runs.run_script(agent_user, path)


async def test_a_run_sees_only_its_own_persons_files(agent_user, make_user) -> None:  # noqa: F811
    other, _, _ = make_user()
    store.write_text(other, "private/diary.md", "OTHER-PERSON-SECRET")
    store.write_text(agent_user, "mine.md", "my notes")
    store.write_text(
        agent_user, "scripts/look.sh",
        "find / -xdev -type f 2>/dev/null | grep -c diary; grep -rls OTHER-PERSON-SECRET /workspace /tmp /dev; "
        "ls -R /workspace | tr '\\n' ' '",
    )  # fmt: skip
    run = runs.run_script(agent_user, "scripts/look.sh")
    first, *rest = run.stdout.splitlines()
    assert rest, (run.stdout, run.stderr, run.notes)
    assert first == "0" and "OTHER-PERSON-SECRET" not in run.stdout
    assert "mine.md" in rest[-1] and "diary" not in rest[-1]


async def test_links_written_by_a_script_are_not_saved(agent_user) -> None:  # noqa: F811
    store.write_text(agent_user, "data.txt", "input")
    store.write_text(
        agent_user, "scripts/links.sh",
        "ln -s /etc/passwd passwd-link; ln data.txt hard; echo made > made.txt",
    )  # fmt: skip
    run = runs.run_script(agent_user, "scripts/links.sh")
    saved = [e.path for e in store.list_entries(agent_user, run.output_folder) if not e.is_folder]
    assert saved == [f"{run.output_folder}/made.txt"]
    assert "passwd-link was not saved (link)" in run.notes


async def test_without_a_sandbox_the_tools_are_not_offered(agent_user, settings_env) -> None:  # noqa: F811
    store.write_text(agent_user, "scripts/report.py", REPORT)
    settings_env(VOPIX_SANDBOX_BWRAP="/nonexistent/bwrap")
    sandbox.status(refresh=True)
    try:
        names = {t.name for t in tools_for(agent_user)}
        assert "run_script" not in names and "run_marked_script" not in names
        with pytest.raises(runs.RunRefused, match="bubblewrap"):
            runs.run_script(agent_user, "scripts/report.py")
        assert _run_rows() == 0
    finally:
        settings_env(VOPIX_SANDBOX_BWRAP="/usr/bin/bwrap")
        sandbox.status(refresh=True)


async def test_run_time_warnings_come_once_at_80_and_100_percent(agent_user) -> None:  # noqa: F811
    with session_scope() as s:
        plan = s.get(Plan, "free")
        plan.run_seconds_per_month = 100
        s.add(plan)
    for seconds in (50, 31, 5, 14, 3):
        with session_scope() as s:
            usage.count_run_seconds(s, agent_user, seconds)
    texts = [n.text for n in usage.unread_notices(agent_user)]
    assert texts == [
        "Your scripts have used all of this month's 100 seconds of run time. Upgrade for more.",
        "Your scripts have used 80% of this month's 100 seconds of run time. Upgrade for more.",
    ]


async def test_only_the_newest_runs_are_kept(agent_user, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(runs, "RUNS_KEPT", 3)
    store.write_text(agent_user, "scripts/n.sh", 'echo "run $1"')
    for i in range(5):
        runs.run_script(agent_user, "scripts/n.sh", [str(i)])
    assert [r.stdout for r in runs.list_runs(agent_user)] == ["run 4\n", "run 3\n", "run 2\n"]


async def test_a_scheduled_agent_task_runs_a_marked_script_and_delivers_what_it_said(agent_user, fake_ai) -> None:  # noqa: F811
    """Issue 16: a scheduled agent task may run the scripts the person marked "run without
    asking" (nobody is there to confirm): the run happens at the task's time, on the task's
    channel, and the answer delivered says what the script printed."""
    from datetime import UTC, datetime, timedelta

    from vopix.core.tasks import store as tasks
    from vopix.core.tasks import worker
    from vopix.models import Message

    store.write_text(agent_user, "scripts/report.py", REPORT)
    runs.set_mark(agent_user, "scripts/report.py", True)
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    tasks.create(agent_user, "agent", "Run my report for Ada", {"in_minutes": 5}, title="Report", now=start)
    fake_ai.script(tool_call("run_marked_script", {"path": "scripts/report.py", "args": ["Ada"]}),
                   Reply("Your report ran: it said hello to Ada."))
    assert await worker.run_due("w1", lambda: start + timedelta(minutes=5)) == 1
    [run] = runs.list_runs(agent_user)
    assert run.status == RunStatus.OK and run.stdout == "hello Ada\n" and run.channel == "task"
    with session_scope() as s:
        answers = s.exec(select(Message.content).where(Message.user_id == agent_user,
                                                       Message.role == "assistant")).all()
    assert "Your report ran: it said hello to Ada." in answers
