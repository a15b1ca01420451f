"""The Tasks page's events without a browser: create with the tools' validation, edit, pause,
resume, delete, the delivery settings, and only ever the socket cookie's person's tasks."""

from __future__ import annotations

import pytest

from tests.state.conftest import state_of
from vopix.core.agent import profile
from vopix.core.tasks import store
from vopix.state.tasks import TasksState

pytestmark = pytest.mark.asyncio


async def test_without_a_session_every_event_sends_to_login() -> None:
    state = state_of(TasksState)
    for event in (state.load(), state.save({"text": "x"}), state.pause("1"), state.delete("1")):
        assert "/login" in str(await event)


async def test_create_edit_pause_resume_delete_from_the_page(logged_in) -> None:
    user_id, state = logged_in(TasksState)
    profile.update_persona(user_id, name="Vopi", personality="", language="English", timezone="Europe/Berlin")
    await state.load()
    assert state.tasks == []
    await state.save({"kind": "reminder", "text": "call Ana", "repeat": "weekly", "time": "09:00",
                      "day_MO": "on", "day_TH": "on"})
    assert state.error == "" and state.message.startswith("Created \u201ccall Ana\u201d. Next run: ")
    [row] = state.tasks
    assert row["words"] == "Every Monday and Thursday at 09:00" and row["zone"] == "Europe/Berlin"
    assert row["next_1"].endswith(("09:00 CET", "09:00 CEST")) and row["next_3"] != ""
    assert row["channel"] == "Web chat"

    await state.edit(row["id"])
    assert state.editing_id == row["id"] and state.form["repeat"] == "weekly" and state.form["day_TH"] == "on"
    await state.save({"text": "call Ana and Bea", "repeat": "daily", "time": "10:00"})
    assert state.tasks[0]["words"] == "Every day at 10:00" and state.tasks[0]["text"] == "call Ana and Bea"

    await state.pause(row["id"])
    assert state.tasks[0]["status"] == "paused" and state.tasks[0]["next_1"] != ""
    await state.resume(row["id"])
    assert state.tasks[0]["status"] == "active"
    state.ask_delete(row["id"])
    await state.delete(row["id"])
    assert state.tasks == [] and state.message == "Task deleted."


async def test_a_refusal_is_shown_keeps_the_typed_text_and_changes_nothing(logged_in) -> None:
    user_id, state = logged_in(TasksState)
    await state.save({"kind": "reminder", "text": "too often", "repeat": "rrule", "rrule": "FREQ=MINUTELY"})
    assert "every 5 minutes" in state.error and state.form["text"] == "too often"
    await state.save({"kind": "reminder", "text": "past", "repeat": "once", "when": "2001-01-01T09:00"})
    assert "in the past" in state.error
    assert store.list_tasks(user_id) == []


async def test_another_persons_task_cannot_be_touched(logged_in) -> None:
    owner, _ = logged_in(TasksState)
    theirs = store.create(owner, "reminder", "private", {"in_minutes": 30})
    _, state = logged_in(TasksState)
    for event in (state.pause(str(theirs.id)), state.delete(str(theirs.id)), state.edit(str(theirs.id))):
        await event
        assert "no task" in state.error
    assert store.get(owner, theirs.id).status == "active"


async def test_delivery_settings(logged_in) -> None:
    user_id, state = logged_in(TasksState)
    await state.save_settings({"channel": "telegram", "quiet_start": "22:00", "quiet_end": "07:00"})
    assert state.message == "Delivery settings saved."
    assert (state.channel, state.quiet_start, state.quiet_end) == ("telegram", "22:00", "07:00")
    await state.save_settings({"channel": "web", "quiet_start": "22:00", "quiet_end": ""})
    assert "both ends" in state.error and store.delivery_settings(user_id).channel == "telegram"


async def test_open_message_opens_the_chat_at_the_delivered_message(logged_in) -> None:
    """A run's "Open message" goes to /chat?c=..&m=..; the chat opens there on the page around
    that message (not the latest page), marked and scrolled to; a reconnect on the same address
    keeps the conversation the person opened since."""
    import reflex as rx
    from reflex.istate.data import RouterData
    from sqlalchemy import insert, select

    from tests.state.conftest import root_of
    from vopix.core.agent import history
    from vopix.core.clock import utcnow
    from vopix.db import session_scope
    from vopix.models import Message
    from vopix.state.chat import ChatState

    user_id, state = logged_in(TasksState)
    conv = history.create_conversation(user_id, "Task: water the plants").id
    other = history.create_conversation(user_id, "Other").id
    with session_scope() as s:
        s.execute(insert(Message), [
            {"conversation_id": conv, "user_id": user_id, "role": "assistant", "channel": "task",
             "content": f"\u23f0 Reminder: water the plants ({i})", "status": "complete",
             "created_at": utcnow()} for i in range(150)
        ])
        ids = list(s.execute(select(Message.id).where(Message.conversation_id == conv)
                             .order_by(Message.id)).scalars())
    delivered = ids[20]
    reply = await state.open_message(str(conv), str(delivered))
    assert f"/chat?c={conv}&m={delivered}" in str(reply)
    assert await state.open_message("x", "1") is None

    cookie = root_of(state).router.headers.cookie
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie}, "asPath": f"/chat?c={conv}&m={delivered}"})
    chat = root.get_substate(ChatState.get_full_name().split(".")[1:])
    await chat.load()
    texts = [m["content"] for m in chat.messages]
    assert chat.current_id == conv and chat.focus_id == str(delivered) and chat.focus_seq == 1
    assert "\u23f0 Reminder: water the plants (20)" in texts
    assert "\u23f0 Reminder: water the plants (149)" not in texts and chat.newer_more

    await chat.open_conversation(str(other))
    # chat_url.js moves the address to the conversation opened since (and drops ?m=): a
    # reconnect then keeps that conversation, not the message the link named.
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": cookie}, "asPath": f"/chat?c={other}"})
    await chat.load()
    assert chat.current_id == other and chat.focus_id == ""


async def test_open_message_of_someone_elses_conversation_opens_nothing(logged_in, make_user) -> None:
    import reflex as rx
    from reflex.istate.data import RouterData

    from tests.state.conftest import root_of
    from vopix.core.agent import history
    from vopix.state.chat import ChatState

    owner, _, _ = make_user()
    conv = history.create_conversation(owner, "Task: theirs").id
    msg = history.add_message(owner, conv, "assistant", "their reminder", channel="task")
    _, state = logged_in(TasksState)
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data(
        {"headers": {"cookie": root_of(state).router.headers.cookie}, "asPath": f"/chat?c={conv}&m={msg.id}"})
    chat = root.get_substate(ChatState.get_full_name().split(".")[1:])
    await chat.load()
    assert chat.current_id == 0 and chat.messages == [] and chat.error == "That message is no longer there."


async def test_an_open_tasks_page_shows_a_task_made_elsewhere_and_a_run_that_ended(logged_in) -> None:
    """A task the agent makes in a chat, and the end of its run, each send a live notice; the
    open page, told (as its session watcher does, vopix/state/session.py), shows them."""
    from datetime import timedelta

    from vopix.core import live
    from vopix.core.clock import utcnow
    from vopix.core.tasks import worker

    user_id, state = logged_in(TasksState)
    await state.load()
    assert state.tasks == []
    start = utcnow()
    async with live.subscribe(user_id) as ear:
        task = store.create(user_id, "reminder", "call Ana", {"in_minutes": 5}, now=start)  # as a tool does
        assert live.TASKS in await ear.wait(10)
    assert await state._show_changes(user_id)
    assert [row["text"] for row in state.tasks] == ["call Ana"] and state.runs == []

    async with live.subscribe(user_id) as ear:
        assert await worker.run_due("w1", lambda: start + timedelta(minutes=5)) == 1
        assert live.TASKS in await ear.wait(10)
    assert await state._show_changes(user_id)
    assert [(r["task"], r["outcome"]) for r in state.runs] == [(str(task.id), "Delivered")]
