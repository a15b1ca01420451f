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


async def test_a_persons_reminders_due_together_reach_their_chat_as_one_message(channels_env, make_user) -> None:
    """Three reminders at 9:00 are one Telegram message (one ping; Telegram allows a message a
    second in a chat), and each is in its own task's conversation; another person's stays apart."""
    user, _, _ = make_user()
    other, _, _ = make_user()
    link_telegram(user, CHAT)
    link_telegram(other, CHAT + 1)
    tasks = [_reminder(user, "telegram", text) for text in ("call Ana", "water the plants", "pay rent")]
    theirs = _reminder(other, "telegram", "walk the dog")
    assert await run_at(T0 + timedelta(minutes=5)) == 4
    tg = channels_env["telegram"]
    assert [m["text"] for m in tg.messages_in(CHAT)] == [
        "\u23f0 Reminders:\n\u2022 call Ana\n\u2022 water the plants\n\u2022 pay rent"]
    assert [m["text"] for m in tg.messages_in(CHAT + 1)] == ["\u23f0 Reminder: walk the dog"]
    assert sorted(m.content for m in task_messages(user)) == [
        "\u23f0 Reminder: call Ana", "\u23f0 Reminder: pay rent", "\u23f0 Reminder: water the plants"]
    runs = [runs_of(t.id)[0] for t in tasks]
    assert {(r.stage, r.outcome, r.channel) for r in runs} == {("done", "delivered", "telegram")}
    assert len({r.outbound_id for r in runs}) == 1 and len({r.message_id for r in runs}) == 3
    assert runs_of(theirs.id)[0].outcome == "delivered"


async def test_a_worker_that_died_before_its_request_left_is_sent_again(
    channels_env, make_user, monkeypatch
) -> None:
    """Killed while waiting for Telegram's pacing (stored, its outbound row made, the request
    not yet made): the retry after the lease sends it, once, and the dead attempt's row is
    closed as never handed over."""
    from vopix.channels import telegram
    from vopix.core.kinds import OutboundStatus
    from vopix.models import OutboundMessage

    user, _, _ = make_user()
    link_telegram(user, CHAT)
    task = _reminder(user, "telegram")
    real_pace = telegram.TelegramTransport._pace

    class Died(BaseException):  # not an error the code may handle: the process is gone
        pass

    async def dies_while_waiting(self, to):
        raise Died

    monkeypatch.setattr(telegram.TelegramTransport, "_pace", dies_while_waiting)
    due_at = T0 + timedelta(minutes=5)
    with pytest.raises(Died):
        await run_at(due_at)
    [run] = runs_of(task.id)
    assert run.stage == "stored" and run.outbound_id is not None
    first_row = run.outbound_id
    monkeypatch.setattr(telegram.TelegramTransport, "_pace", real_pace)
    assert await run_at(due_at + claims.LEASE + timedelta(seconds=5)) == 1
    assert [m["text"] for m in channels_env["telegram"].messages_in(CHAT)] == ["\u23f0 Reminder: call Ana"]
    [run] = runs_of(task.id)
    assert (run.stage, run.outcome, run.channel) == ("done", "delivered", "telegram")
    assert run.outbound_id != first_row
    with session_scope() as s:
        assert s.get(OutboundMessage, first_row).status == OutboundStatus.SKIPPED
    assert len(task_messages(user)) == 1
