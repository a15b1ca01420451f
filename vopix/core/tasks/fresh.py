"""The common case, a claimed batch at a time: fresh occurrences of reminders (due within the
grace period, never started), checked (account, quiet hours), stored in their task's
conversation and, for the web chat, ended and moved on; for a channel, left 'stored' with
their outbound row, for the worker to hand over (occurrence.py). All in the caller's one
transaction, with multi-row statements: one INSERT of the batch's run rows, one of its new
conversations, of its outbound rows, one UPDATE (executemany) of its runs and of its tasks'
next run, instead of each per occurrence. An occurrence that is not fresh (its run row exists:
a retry) or must wait (quiet hours) or may not run (account) is left out: `process` takes its
own way with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from vopix.core import live
from vopix.core.agent import history
from vopix.core.tasks import claim as claims
from vopix.core.tasks import deliver
from vopix.core.tasks import schedule as sch
from vopix.core.tasks.runs import CHANNEL, REMINDER_PREFIX, Result, Run, advance_many, late_note
from vopix.db import core, get_engine
from vopix.models import ChannelLink, Conversation, Task, TaskRun, TaskSettings, User

_T = Task.__table__  # type: ignore[attr-defined]
_R = TaskRun.__table__  # type: ignore[attr-defined]

_RUN_DONE = update(_R).where(_R.c.id == bindparam("run")).values(
    stage="done", outcome=bindparam("outcome"), channel=bindparam("ch"), detail=bindparam("why"),
    message_id=bindparam("msg"), finished_at=bindparam("at"))
# Stored, with the channel and the outbound row it will go on: 'sending' only once nothing is
# left to wait for but the request (occurrence.py), so a send still waiting can be made again.
_RUN_TO_SEND = update(_R).where(_R.c.id == bindparam("run")).values(
    stage="stored", channel=bindparam("ch"), message_id=bindparam("msg"), outbound_id=bindparam("out"))
_TASK_CONVERSATION = update(_T).where(_T.c.id == bindparam("task")).values(conversation_id=bindparam("conv"))


@dataclass(frozen=True)
class ToSend:
    """A stored reminder to hand to its channel; `others`: the person's other reminders of the
    batch that go in the same message (their runs end with this one's)."""

    run: Run
    route: deliver.Route
    outbound_id: int
    body: str
    others: tuple[tuple[claims.Due, Run], ...] = ()


@dataclass(frozen=True)
class Joined:
    """A reminder that goes in another one's message (ToSend.others): its run ends with that one."""

    task_id: int


# Reminders of one person due together go to their Telegram or WhatsApp chat as one message
# (one ping instead of ten, and Telegram allows one message a second in a chat), up to this
# length (both channels take 4,096 characters); every reminder keeps its own message in its
# task's conversation.
ONE_MESSAGE_CHARS = 3500
_SEVERAL = "\u23f0 Reminders:"


def _one_message(bodies: list[str]) -> str:
    if len(bodies) == 1:
        return bodies[0]
    return "\n".join([_SEVERAL, *(f"\u2022 {b.removeprefix(REMINDER_PREFIX)}" for b in bodies)])


def _together(outbound: list[tuple[claims.Due, deliver.Route, str, int]]
              ) -> list[list[tuple[claims.Due, deliver.Route, str, int]]]:
    """The batch's channel messages grouped by chat (person, channel, address), in order, each
    group within ONE_MESSAGE_CHARS."""
    groups: list[list[tuple[claims.Due, deliver.Route, str, int]]] = []
    open_group: dict[tuple[int, str, str], int] = {}
    for item in outbound:
        d, route, body, _ = item
        key = (d.user_id, route.channel, route.to)
        at = open_group.get(key)
        joined = [b for _, _, b, _ in groups[at]] + [body] if at is not None else []
        if at is not None and len(_one_message(joined)) <= ONE_MESSAGE_CHARS:
            groups[at].append(item)
            continue
        open_group[key] = len(groups)
        groups.append([item])
    return groups


def read_context(s: Session, batch: list[claims.Due]) -> tuple[
    dict[int, User], dict[int, TaskSettings], set[int], dict[tuple[int, str], ChannelLink]
]:
    """The batch's people, their task settings, which of its conversations still exist and their
    channel links: a statement each for the whole batch."""
    users = {d.user_id for d in batch}
    people = {u.id: u for u in s.exec(select(User).where(col(User.id).in_(users)))}
    prefs = {p.user_id: p for p in s.exec(select(TaskSettings).where(col(TaskSettings.user_id).in_(users)))}
    wanted = {d.conversation_id for d in batch if d.conversation_id is not None}
    there = set(s.exec(select(Conversation.id).where(col(Conversation.id).in_(wanted)))) if wanted else set()
    links = {(link.user_id, link.channel): link for link in s.exec(
        select(ChannelLink).where(col(ChannelLink.user_id).in_(users)))}
    return people, prefs, there, links  # type: ignore[return-value]


def _new_runs(s: Session, batch: Iterable[claims.Due], now: datetime) -> dict[int, int]:
    """One INSERT of the batch's run rows (those that exist already are left alone): run id by
    task id, for the new ones only."""
    rows = [{
        "task_id": d.task_id, "user_id": d.user_id, "occurrence_at": d.occurrence_at,
        "stage": "started", "outcome": "", "channel": "", "detail": "",
        "late_seconds": max(0, int((now - d.next_run_at).total_seconds())), "started_at": now,
    } for d in batch]
    if not rows:
        return {}
    insert = pg_insert if get_engine().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(_R).values(rows).on_conflict_do_nothing(index_elements=["task_id", "occurrence_at"])
            .returning(_R.c.id, _R.c.task_id))
    return {r.task_id: r.id for r in core(s).execute(stmt)}


def fresh_reminders(
    s: Session, batch: list[claims.Due], now: datetime, people: dict[int, User],
    prefs: dict[int, TaskSettings], there: set[int], links: dict[tuple[int, str], ChannelLink],
) -> dict[int, Result | ToSend | Joined]:
    """The batch's fresh reminders in the caller's transaction (`there`: the conversations known
    to exist). By task id; a task not in the answer takes the long way."""
    from vopix.core import account_standing

    conn = core(s)
    settings: dict[int, TaskSettings] = {}
    ready: list[claims.Due] = []
    for d in batch:
        user = people.get(d.user_id)
        if user is None or account_standing.standing(user) != "active":
            continue  # the long way records it as refused
        mine = settings[d.user_id] = prefs.get(d.user_id) or TaskSettings(user_id=d.user_id)
        if not d.ignore_quiet_hours and sch.in_quiet_hours(
                now, sch.zone(d.timezone), mine.quiet_start, mine.quiet_end):
            continue  # the long way defers it
        ready.append(d)
    runs = _new_runs(s, ready, now)
    ready = [d for d in ready if d.task_id in runs]  # the others were started before: resume them
    conversations = {d.task_id: d.conversation_id for d in ready if d.conversation_id in there}
    made = {d.task_id: Conversation(user_id=d.user_id, title=f"Task: {d.title}"[:200], created_at=now,
                                    updated_at=now) for d in ready if d.task_id not in conversations}
    if made:
        s.add_all(made.values())
        s.flush()  # one multi-row INSERT
        conn.execute(_TASK_CONVERSATION, [{"task": t, "conv": c.id} for t, c in made.items()])
        conversations.update({t: c.id for t, c in made.items()})
    done: dict[int, Result | ToSend | Joined] = {}
    finished: list[dict[str, object]] = []
    moved_on: list[claims.Due] = []
    outbound: list[tuple[claims.Due, deliver.Route, str, int]] = []
    for d in ready:
        body = f"{REMINDER_PREFIX}{d.text}{late_note(now - d.next_run_at, d)}"
        conversation_id = conversations[d.task_id]
        assert conversation_id is not None
        msg = history.insert_message(s, d.user_id, conversation_id, "assistant", body, channel=CHANNEL)
        channel = settings[d.user_id].channel
        route = deliver.route_for(channel, links.get((d.user_id, channel)), now)
        if route.channel != "web":
            outbound.append((d, route, body, msg.id))
            continue
        if route.reason:
            deliver.tell_undelivered(s, d.user_id, channel, route.reason, now)
        result = Result("fallback", "web", f"in the web chat: {route.reason}") if route.reason else (
            Result("delivered", "web"))
        finished.append({"run": runs[d.task_id], "outcome": result.outcome, "ch": result.channel,
                         "why": result.detail[:300], "msg": msg.id, "at": now})
        moved_on.append(d)
        done[d.task_id] = result
    if finished:
        conn.execute(_RUN_DONE, finished)
        for d in moved_on:
            live.changed(s, d.user_id, live.TASKS)  # one notice a person (a set per transaction)
        advance_many(s, moved_on, now, missed_note="not run: an earlier occurrence was still running late")
    if outbound:
        groups = _together(outbound)
        bodies = [_one_message([body for _, _, body, _ in group]) for group in groups]
        rows = [deliver.outbound_row(group[0][0].user_id, group[0][1], body, now)
                for group, body in zip(groups, bodies, strict=True)]
        s.add_all(rows)
        s.flush()  # one multi-row INSERT
        conn.execute(_RUN_TO_SEND, [
            {"run": runs[d.task_id], "ch": route.channel, "msg": msg_id, "out": row.id}
            for group, row in zip(groups, rows, strict=True) for d, route, _, msg_id in group])
        for group, body, row in zip(groups, bodies, rows, strict=True):
            assert row.id is not None
            (lead, route, _, msg_id), rest = group[0], group[1:]
            others = tuple((d, Run(runs[d.task_id], "stored", m, row.id)) for d, _, _, m in rest)
            done[lead.task_id] = ToSend(Run(runs[lead.task_id], "stored", msg_id, row.id), route, row.id,
                                        body, others)
            for d, _ in others:
                done[d.task_id] = Joined(lead.task_id)
    return done


def fresh_one(s: Session, due: claims.Due, now: datetime) -> Result | ToSend | Joined | None:
    """One fresh reminder the same way (its task's conversation read again first)."""
    task = s.get(Task, due.task_id)
    due = dataclasses.replace(due, conversation_id=task.conversation_id if task is not None else None)
    people, prefs, there, links = read_context(s, [due])
    return fresh_reminders(s, [due], now, people, prefs, there, links).get(due.task_id)
