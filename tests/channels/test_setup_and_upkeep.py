"""Operator set-up (setWebhook command, polling mode) and upkeep (code expiry, purges,
account deletion)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.channels.conftest import TELEGRAM_SECRET
from tests.channels.helpers import drain, link_telegram, telegram_code
from tests.fakes.telegram_api import make_start_update, make_text_update
from vopix.channels import links, queue, telegram, worker
from vopix.cli import main
from vopix.core import accounts, jobs
from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import ChannelLink, ChannelLinkCode, InboundEvent, OutboundMessage


def test_set_webhook_command_registers_the_url_and_secret(channels_env, settings_env, capsys) -> None:
    settings_env(VOPIX_PUBLIC_URL="https://vopix.example.com")
    fake = channels_env["telegram"]
    assert main(["telegram", "set-webhook"]) == 0
    assert fake.webhook["url"] == "https://vopix.example.com/api/telegram/webhook"
    assert fake.webhook["secret_token"] == TELEGRAM_SECRET
    assert fake.webhook["allowed_updates"] == ["message", "callback_query"]  # presses on buttons too
    assert "api/telegram/webhook" in capsys.readouterr().out
    assert main(["telegram", "info"]) == 0
    assert "https://vopix.example.com/api/telegram/webhook" in capsys.readouterr().out
    assert main(["telegram", "delete-webhook"]) == 0
    assert fake.webhook == {}


def test_set_webhook_needs_a_secret_and_a_token(channels_env, settings_env, capsys) -> None:
    settings_env(VOPIX_PUBLIC_URL="https://vopix.example.com", VOPIX_TELEGRAM_WEBHOOK_SECRET="")
    assert main(["telegram", "set-webhook"]) == 1
    assert "VOPIX_TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err
    assert channels_env["telegram"].webhook == {}


@pytest.mark.asyncio
@pytest.mark.promise("P22")
async def test_polling_mode_stores_then_answers_each_update_once(channels_env, agent_user) -> None:
    fake = channels_env["telegram"]
    fake.webhook = {"url": "https://old.example.com/hook"}  # polling removes a stale webhook
    fake.push_update(make_start_update(501, 77, telegram_code(agent_user)))
    fake.push_update(make_text_update(502, 77, "hello by polling"))
    stop = asyncio.Event()
    woke: list[int] = []
    task = asyncio.create_task(telegram.poll(lambda: woke.append(1), timeout=1, stop=stop))
    for _ in range(100):
        await asyncio.sleep(0.05)
        with session_scope() as s:
            stored = len(s.exec(select(InboundEvent)).all())
        if stored == 2 and not fake.pending_updates:  # the next getUpdates confirmed them
            break
    stop.set()
    await asyncio.wait_for(task, 10)
    assert woke and fake.webhook == {}
    assert fake.pending_updates == []  # confirmed (offset) only after they were stored
    assert await drain() == 2
    texts = [m["text"] for m in fake.sent_messages]
    assert texts[0].startswith("Linked!") and texts[1] == "echo: hello by polling"
    fake.push_update(make_text_update(502, 77, "hello by polling"))  # delivered again
    stop = asyncio.Event()
    task = asyncio.create_task(telegram.poll(lambda: None, timeout=1, stop=stop))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert await drain() == 0 and len(fake.sent_messages) == 2


def test_link_codes_are_purged_after_expiry_or_use(make_user) -> None:
    user, _, _ = make_user()
    links.create_code(user, "telegram", now=utcnow() - timedelta(minutes=20))
    fresh = links.create_code(user, "whatsapp")
    used = links.create_code(make_user()[0], "telegram")
    links.redeem("telegram", used.code, 1234)
    assert {j.name for j in jobs.JOBS} >= {"purge_channel_link_codes", "purge_channel_events"}
    assert next(j for j in jobs.JOBS if j.name == "purge_channel_link_codes").every == timedelta(minutes=15)
    assert links.purge_codes(utcnow()) == 2
    with session_scope() as s:
        [left] = s.exec(select(ChannelLinkCode)).all()
    assert left.code_hash == links.hash_code(fresh.code)
    assert fresh.code not in repr(left.model_dump())  # only the hash is stored


def test_a_new_code_replaces_the_unused_one(make_user) -> None:
    user, _, _ = make_user()
    first = links.create_code(user, "telegram")
    second = links.create_code(user, "telegram")
    with pytest.raises(links.LinkRefused) as refused:
        links.redeem("telegram", first.code, 99)
    assert refused.value.reason == "unknown"
    assert links.redeem("telegram", second.code, 99) == user


def test_finished_events_are_purged_after_the_retry_period(make_user) -> None:
    queue.store_events("telegram", [queue.NewEvent("1", {"update_id": 1}, "h")])
    event = queue.claim("w")
    assert event is not None
    queue.finish(event.id, "ignored")
    assert queue.purge(utcnow()) == 0
    assert queue.purge(utcnow() + queue.KEEP_EVENTS + timedelta(minutes=1)) == 1


@pytest.mark.promise("P07")
def test_deleting_the_account_forgets_linked_chats_and_deliveries(make_user) -> None:
    user, _, _ = make_user()
    link_telegram(user, 4242)
    queue.queue_reply(None, user, "telegram", [("text", "hi")])
    assert accounts.delete_account(user)
    with session_scope() as s:
        assert s.exec(select(ChannelLink)).all() == []
        assert s.exec(select(OutboundMessage)).all() == []


def test_worker_handlers_cover_both_channels() -> None:
    assert set(worker.HANDLERS) == {"telegram", "whatsapp"}


def test_store_events_counts_only_new_events() -> None:
    events = [queue.NewEvent(str(i), {"update_id": i}, "h") for i in (1, 2)]
    assert queue.store_events("telegram", events) == 2
    assert queue.store_events("telegram", [*events, queue.NewEvent("3", {"update_id": 3}, "h")]) == 1
    assert queue.store_events("whatsapp", events[:1]) == 1  # another channel, another key space


@pytest.mark.asyncio
async def test_the_app_lifespan_worker_answers_as_soon_as_the_webhook_stores(api, agent_user) -> None:
    from tests.channels.helpers import post_update

    link_telegram(agent_user, 8080)
    async with worker.channels_lifespan():
        started = asyncio.get_running_loop().time()
        assert await post_update(api, make_text_update(77001, 8080, "quick?")) == 200
        for _ in range(200):
            await asyncio.sleep(0.02)
            with session_scope() as s:
                if s.exec(select(InboundEvent).where(InboundEvent.status == "done")).first():
                    break
        assert asyncio.get_running_loop().time() - started < 3
    with session_scope() as s:
        [event] = s.exec(select(InboundEvent)).all()
    assert (event.status, event.outcome) == ("done", "answered")
