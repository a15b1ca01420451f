"""Task messages on Telegram and WhatsApp through the loopback fakes: delivered on the person's
channel (and in the web history), WhatsApp's template outside the 24-hour window, the web chat
when the chat is blocked, and a worker that died while sending never sends twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from tests.channels.helpers import link_telegram, link_whatsapp
from tests.core.tasks.conftest import runs_of, task_messages
from vopix.core.tasks import claim as claims
from vopix.core.tasks import deliver, store, worker
from vopix.db import session_scope
from vopix.models import ChannelLink, MailOutbox, Notice

pytestmark = pytest.mark.asyncio
T0 = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
CHAT, NUMBER = 4242, "15551234567"


async def run_at(moment: datetime) -> int:
    return await worker.run_due("w1", lambda: moment)


def _reminder(user: int, channel: str, text: str = "call Ana") -> store.TaskView:
    store.save_delivery_settings(user, channel, "", "")
    return store.create(user, "reminder", text, {"in_minutes": 5}, now=T0)


async def test_a_reminder_is_delivered_on_telegram_once(channels_env, make_user) -> None:
    user, _, _ = make_user()
    link_telegram(user, CHAT)
    task = _reminder(user, "telegram")
    assert await run_at(T0 + timedelta(minutes=5)) == 1
    tg = channels_env["telegram"]
    assert [m["text"] for m in tg.messages_in(CHAT)] == ["\u23f0 Reminder: call Ana"]
    [run] = runs_of(task.id)
    assert (run.outcome, run.channel) == ("delivered", "telegram")
    assert [m.content for m in task_messages(user)] == ["\u23f0 Reminder: call Ana"]  # and in the history
    assert await run_at(T0 + timedelta(minutes=6)) == 0
    assert len(tg.messages_in(CHAT)) == 1


async def test_a_blocked_telegram_chat_falls_back_to_the_web_chat_with_a_notice(channels_env, make_user) -> None:
    user, _, _ = make_user()
    link_telegram(user, CHAT)
    channels_env["telegram"].block_chat(CHAT)
    task = _reminder(user, "telegram")
    assert await run_at(T0 + timedelta(minutes=5)) == 1
    [run] = runs_of(task.id)
    assert (run.outcome, run.channel) == ("fallback", "web") and "blocked" in run.detail
    assert len(task_messages(user)) == 1
    with session_scope() as s:
        assert s.exec(select(Notice).where(Notice.user_id == user)).first() is not None
        assert s.exec(select(MailOutbox).where(MailOutbox.user_id == user)).first() is not None


async def test_whatsapp_inside_the_window_gets_the_text(channels_env, make_user) -> None:
    user, _, _ = make_user()
    link_whatsapp(user, NUMBER)
    with session_scope() as s:
        link = s.exec(select(ChannelLink).where(ChannelLink.user_id == user)).one()
        link.last_inbound_at = T0  # the person wrote an hour ago (as the workers' clock reads)
        s.add(link)
    task = _reminder(user, "whatsapp", "pay rent")
    assert await run_at(T0 + timedelta(minutes=5)) == 1
    assert channels_env["whatsapp"].texts_to(NUMBER) == ["\u23f0 Reminder: pay rent"]
    assert runs_of(task.id)[0].outcome == "delivered"


async def test_whatsapp_outside_the_window_gets_the_template_and_the_web_chat_has_the_text(
    channels_env, make_user
) -> None:
    user, _, _ = make_user()
    link_whatsapp(user, NUMBER)
    with session_scope() as s:
        link = s.exec(select(ChannelLink).where(ChannelLink.user_id == user)).one()
        link.last_inbound_at = T0 - timedelta(days=2)
        s.add(link)
    wa = channels_env["whatsapp"]
    wa.close_window(NUMBER)
    task = _reminder(user, "whatsapp", "pay rent")
    assert await run_at(T0 + timedelta(minutes=5)) == 1
    assert wa.texts_to(NUMBER) == []
    assert [m["type"] for m in wa.sent if m["to"] == NUMBER] == ["template"]
    [run] = runs_of(task.id)
    assert (run.outcome, run.channel) == ("fallback", "whatsapp") and "24-hour window" in run.detail
    assert [m.content for m in task_messages(user)] == ["\u23f0 Reminder: pay rent"]


async def test_a_worker_that_died_while_sending_never_sends_again(channels_env, make_user, monkeypatch) -> None:
    user, _, _ = make_user()
    link_telegram(user, CHAT)
    task = _reminder(user, "telegram")
    real_send = deliver.send

    async def send_then_die(*args, **kwargs):
        await real_send(*args, **kwargs)
        raise RuntimeError("the process died right after the send")

    monkeypatch.setattr(deliver, "send", send_then_die)
    due_at = T0 + timedelta(minutes=5)
    assert await run_at(due_at) == 1  # its run is left 'sending' under the dead worker's lease
    assert runs_of(task.id)[0].stage == "sending"
    monkeypatch.setattr(deliver, "send", real_send)
    assert await run_at(due_at + claims.LEASE + timedelta(seconds=5)) == 1  # taken over
    assert len(channels_env["telegram"].messages_in(CHAT)) == 1
    [run] = runs_of(task.id)
    assert (run.stage, run.outcome, run.channel) == ("done", "delivered", "telegram")
