"""Once across processes (issue 15): 40 reminders due at once, for 40 people who get their
tasks on Telegram; two task worker processes (each its own claim loop, as every app process
runs one) share them, and the first is killed -9 while it holds eight of them: four it was
handing to Telegram (Telegram had them, its answer had not come back) and four it had claimed
but not yet stored (its transaction waits on a lock the test holds). Every occurrence reaches
the fake Telegram exactly once and is in the person's history exactly once; the other worker
takes the killed one's occurrences after their lease, and the run rows say what happened."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from tests.cluster._workers import Workers, until
from tests.core.tasks.conftest import task_messages
from tests.fakes.ai_provider import FakeAIProvider
from tests.fakes.telegram_api import FakeTelegramAPI
from vopix.core import usage
from vopix.core.accounts import sign_up
from vopix.core.agent import profile
from vopix.core.clock import utcnow
from vopix.core.tasks import store
from vopix.db import get_engine, session_scope
from vopix.models import ChannelLink, Task, TaskRun, User

PEOPLE = 40
CHAT = 900_000  # person i's Telegram chat is CHAT + i
MID_SEND = range(0, 4)  # the killed worker's first batch: handed to Telegram when it dies
UNSTORED = range(4, 8)  # its second batch: claimed, its transaction waiting on the test's lock

# A task worker as the app's lifespan runs it, with a lease of 15 s instead of 90 (an agent
# task's turn renews it every third of that) and small batches (the first worker holds two
# batches of four); it starts when the test says.
CHILD = """
import asyncio, pathlib, sys, time
from datetime import timedelta
from vopix import platform
platform.install()
from vopix.core.tasks import claim, worker
claim.LEASE = timedelta(seconds=15)
real_claim, real_renew = claim.claim, claim.renew
claim.claim = lambda w, now=None, limit=32: real_claim(w, now, limit, claim.LEASE)
claim.renew = lambda t, w, now=None: real_renew(t, w, now, claim.LEASE)
pathlib.Path(sys.argv[1]).touch()
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.01)
asyncio.run(worker.serve(concurrency=8, batch=4, idle_poll=0.5))
"""


def _tasks() -> dict[int, Task]:
    with session_scope() as s:
        return {t.id: t for t in s.exec(select(Task)).all()}  # type: ignore[misc]


def _runs() -> list[TaskRun]:
    with session_scope() as s:
        return list(s.exec(select(TaskRun).order_by(col(TaskRun.id))).all())


def _on_telegram(i: int) -> int:
    """Person i, who gets their tasks in Telegram chat CHAT + i."""
    user_id = sign_up(f"tasks{i}@example.com", "Tr0ub4dor&3-horse", age_confirmed=True).id
    assert user_id is not None
    with session_scope() as s:
        s.add(ChannelLink(user_id=user_id, channel="telegram", external_id=str(CHAT + i), display_name=f"P{i}"))
    store.save_delivery_settings(user_id, "telegram", "", "")
    return user_id


def _people() -> list[tuple[int, int]]:
    """(person, task) for each i, due a few minutes ago (inside the grace period): MID_SEND's
    first, then UNSTORED's, then the others (the order the workers claim them in)."""
    ref = utcnow()
    made = []
    for i in range(PEOPLE):
        user_id = _on_telegram(i)
        ago = 5 if i in MID_SEND else 4 if i in UNSTORED else 3  # minutes, before "in 1 minute"
        task = store.create(user_id, "reminder", f"call Ana ({i})", {"in_minutes": 1},
                            now=ref - timedelta(minutes=ago))
        made.append((user_id, task.id))
    return made


def _sent(telegram: FakeTelegramAPI) -> Counter[int]:
    """Messages that reached a chat, by person. A request cut off by the kill (its body never
    arrived whole, so no chat_id) reached no chat: Telegram refuses it."""
    return Counter(int(m["chat_id"]) - CHAT for m in telegram.sent_messages if "chat_id" in m)


def test_a_task_worker_killed_mid_work_delivers_every_occurrence_once(
    tmp_path: Path, scratch_db: str, settings_env
) -> None:
    with FakeTelegramAPI() as telegram:
        settings_env(VOPIX_TELEGRAM_BOT_TOKEN=telegram.token, VOPIX_TELEGRAM_API_BASE_URL=telegram.url,
                     VOPIX_TELEGRAM_BOT_USERNAME=telegram.bot_user["username"])
        made = _people()
        answer = threading.Event()  # clear: Telegram takes MID_SEND's messages but does not answer
        accept = telegram.handle

        def slow_answer(request: Any) -> Any:
            response = accept(request)  # recorded: the message is in the person's chat
            if request.path.endswith("/sendMessage") and int(telegram._params(request)["chat_id"]) - CHAT in MID_SEND:
                answer.wait(60)
            return response

        telegram.handle = slow_answer  # type: ignore[method-assign]
        locker = get_engine().connect()  # the people of UNSTORED locked: storing their reminder waits
        held_lock = locker.begin()
        locker.execute(sa_select(User.id).where(col(User.id).in_([made[i][0] for i in UNSTORED]))
                       .with_for_update())
        try:
            with Workers(tmp_path, CHILD) as workers:
                victim, other = (workers.start(str(tmp_path / f"ready-{n}"), str(tmp_path / f"go-{n}"))
                                 for n in range(2))
                until(lambda: all((tmp_path / f"ready-{n}").exists() for n in range(2)), 60, "workers ready")
                (tmp_path / "go-0").touch()

                def victim_holds_both_batches() -> bool:
                    tasks = _tasks()
                    return (all(_sent(telegram)[i] == 1 for i in MID_SEND)
                            and all(tasks[made[i][1]].worker.endswith(f":{victim.pid}") for i in UNSTORED))

                until(victim_holds_both_batches, 60, "the first worker holding its two batches")
                (tmp_path / "go-1").touch()  # the second worker starts on the others
                workers.kill9(victim)
                leases = {i: _tasks()[made[i][1]].lease_until for i in (*MID_SEND, *UNSTORED)}
                # The kill came while the first worker held its leases and waited on Telegram
                # (python-telegram-bot gives up on an answer after 20 s, and retries).
                assert utcnow() < min(leases.values()), "the machine was too slow for this test"
                held_lock.rollback()
                answer.set()
                until(lambda: all(t.status == "finished" for t in _tasks().values()), 60,
                      "every occurrence run", lambda: (
                          [(i, t.status, t.worker, t.lease_until) for i, t in _tasks().items() if t.status != "finished"],
                          [(r.task_id, r.stage, r.outcome) for r in _runs() if r.stage != "done"],
                          workers.log(other)[-3000:]))
                assert other.poll() is None, workers.log(other)
                time.sleep(1)  # a late duplicate would have reached Telegram by now
        finally:
            answer.set()
            locker.close()
        sent = _sent(telegram)

    runs = {r.task_id: r for r in _runs()}
    assert max(sent.values()) == 1  # no chat got its reminder twice
    assert len(_runs()) == PEOPLE  # one run row per occurrence
    # Every chat got its reminder once: those the killed worker held while waiting for
    # Telegram's pacing (stored, not yet 'sending') were sent by the other worker.
    assert sent == Counter(dict.fromkeys(range(PEOPLE), 1)), sent
    for i, (user_id, task_id) in enumerate(made):
        [msg] = task_messages(user_id)  # in the history once
        assert msg.content.startswith(f"\u23f0 Reminder: call Ana ({i})")
        run = runs[task_id]
        assert (run.stage, run.message_id) == ("done", msg.id)
        if i in MID_SEND:  # whether it had left was unknown: not sent again, the run says so
            assert (run.outcome, run.channel) == ("failed", "web"), run
            assert "interrupted while sending; not sent again" in run.detail
            assert run.finished_at is not None and run.finished_at >= leases[i]
        elif i in UNSTORED:  # nothing of it was stored: the other worker ran it after the lease
            assert (run.outcome, run.channel) == ("delivered", "telegram"), run
            assert run.started_at >= leases[i]
        elif "interrupted while sending" in run.detail:
            # The killed worker handed it to Telegram just before it died (Telegram has it,
            # once: see `sent`); whether it left was unknown to the other worker, so it said so.
            assert (run.outcome, run.channel) == ("failed", "web"), run
        else:
            assert (run.outcome, run.channel) == ("delivered", "telegram"), run


AGENTS = 6


def test_an_agent_task_worker_killed_mid_turn_answers_each_occurrence_once(
    tmp_path: Path, scratch_db: str, settings_env
) -> None:
    """Agent tasks: the first worker is killed while its turns stream from the provider; the
    other runs them again after the lease, and each person gets one answer."""
    with FakeTelegramAPI() as telegram, FakeAIProvider() as ai:
        settings_env(VOPIX_TELEGRAM_BOT_TOKEN=telegram.token, VOPIX_TELEGRAM_API_BASE_URL=telegram.url,
                     VOPIX_TELEGRAM_BOT_USERNAME=telegram.bot_user["username"])
        ai.echo_chunks, ai.echo_delay = 10, 0.4  # each turn streams for 4 s
        ref = utcnow()
        made = []
        for i in range(AGENTS):
            user_id = _on_telegram(i)
            profile.update_provider(user_id, kind="openai", model="gpt-4o-mini", base_url=ai.openai_base_url,
                                    api_key="sk-test-abcdefghijklmnop1234")
            task = store.create(user_id, "agent", f"Summarise my day ({i})", {"in_minutes": 1},
                                title=f"Day {i}", now=ref - timedelta(minutes=3))
            made.append((user_id, task.id))
        before = {u: usage.month_usage(u).messages for u, _ in made}
        with Workers(tmp_path, CHILD) as workers:
            victim, other = (workers.start(str(tmp_path / f"ready-{n}"), str(tmp_path / f"go-{n}"))
                             for n in range(2))
            until(lambda: all((tmp_path / f"ready-{n}").exists() for n in range(2)), 60, "workers ready")
            (tmp_path / "go-0").touch()
            until(lambda: len(ai.requests) == AGENTS, 60, "the first worker's turns streaming")
            leases = {t: _tasks()[t].lease_until for _, t in made}
            assert all(_tasks()[t].worker.endswith(f":{victim.pid}") for _, t in made)
            (tmp_path / "go-1").touch()
            workers.kill9(victim)  # every turn half-way through its stream
            until(lambda: all(t.status == "finished" for t in _tasks().values()), 60,
                  "every occurrence run", lambda: workers.log(other)[-3000:])
            time.sleep(1)  # a late duplicate would have reached Telegram by now
        sent = _sent(telegram)

    assert sent == Counter(dict.fromkeys(range(AGENTS), 1))  # one answer each on Telegram
    runs = {r.task_id: r for r in _runs()}
    assert len(_runs()) == AGENTS
    for i, (user_id, task_id) in enumerate(made):
        run = runs[task_id]
        assert (run.stage, run.outcome, run.channel) == ("done", "delivered", "telegram"), run
        assert run.finished_at is not None and run.finished_at >= leases[task_id]
        history = [(m.role, m.content) for m in task_messages(user_id)]
        prompt = f"Summarise my day ({i})"
        assert history[-2:] == [("user", prompt), ("assistant", f"echo: {prompt}")], history
        # The retry answered the prompt the killed attempt stored: once in the history (with
        # nothing the dead attempt left after it), counted once.
        assert history == [("user", prompt), ("assistant", f"echo: {prompt}")], history
        assert usage.month_usage(user_id).messages - before[user_id] == 1
