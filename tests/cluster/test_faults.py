"""Faults against the local cluster (issue 15): kill -9 the instance in the middle of a
Telegram turn; the other instance resumes the event, answers once, loses nothing."""

from __future__ import annotations

import secrets
import time

import httpx
from sqlmodel import col, select

from tests.cluster.conftest import BROWSER_TELEGRAM_SECRET, Cluster
from tests.fakes.ai_provider import FakeAIProvider, Reply
from tests.fakes.telegram_updates import make_start_update, make_text_update
from vopix.channels import links
from vopix.core import accounts
from vopix.core.agent import profile
from vopix.core.kinds import InboundStatus
from vopix.db import session_scope
from vopix.models import InboundEvent, Message


def _telegram_posts(base_url: str, update: dict) -> None:
    response = httpx.post(
        f"{base_url}/api/telegram/webhook", json=update, timeout=10,
        headers={"X-Telegram-Bot-Api-Secret-Token": BROWSER_TELEGRAM_SECRET},
    )
    assert response.status_code == 200


def _until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def _event(update_id: int) -> InboundEvent | None:
    with session_scope() as s:
        return s.exec(
            select(InboundEvent).where(InboundEvent.channel == "telegram",
                                       InboundEvent.external_id == str(update_id))
        ).first()


def _sent(telegram, text: str, chat_id: int) -> list[dict]:
    """What the bot sent to that chat (the fake is shared with the run's browser tests)."""
    return [m for m in telegram.sent_messages
            if text in m.get("text", "") and str(m.get("chat_id")) == str(chat_id)]


def test_instance_killed_mid_telegram_turn_is_resumed_elsewhere_and_answered_once(
    cluster: Cluster, channel_fakes: dict
) -> None:
    telegram = channel_fakes["telegram"]
    user = accounts.sign_up(f"fault-{secrets.token_hex(4)}@example.com", "purple-otter-42-sings",
                            age_confirmed=True)
    chat_id = 720_000_000 + secrets.randbelow(1_000_000)
    with FakeAIProvider() as provider:
        profile.update_provider(user.id, kind="openai", model="fake-model",
                                base_url=provider.openai_base_url, api_key="sk-fault-key-1234")
        code = links.create_code(user.id, "telegram").code
        _telegram_posts(cluster.instance_urls[0], make_start_update(secrets.randbelow(10**9), chat_id, code))
        _until(lambda: _sent(telegram, "Linked!", chat_id), 30, "the chat is linked")

        # The first attempt streams slowly (its instance dies during it); the resumed one answers.
        slow = " ".join(f"slow{i}" for i in range(40))
        provider.script(Reply(slow, chunks=40, delay=0.5), Reply("Answered exactly once."))
        asked = len(provider.requests)
        update_id = 800_000_000 + secrets.randbelow(10**8)
        _telegram_posts(cluster.instance_urls[0], make_text_update(update_id, chat_id, "Survive a crash"))
        _until(lambda: len(provider.requests) > asked, 30, "the turn reached the provider")
        event = _event(update_id)
        assert event is not None and event.status == InboundStatus.PROCESSING
        pid = int(event.worker.rsplit("-", 2)[1])  # worker ids are host-pid-random
        victim = cluster.instance_of(pid)
        assert victim is not None, f"worker {event.worker} is in no instance"
        cluster.kill(victim)  # kill -9, mid-turn: the reply is still streaming
        try:
            # The other instance claims the event once its lease (60 s) has run out.
            _until(lambda: _sent(telegram, "Answered exactly once.", chat_id), 150, "the resumed answer")
            time.sleep(3)  # anything sent twice would have been sent by now
            assert len(_sent(telegram, "Answered exactly once.", chat_id)) == 1
            assert not _sent(telegram, "slow0", chat_id)  # the cut-off attempt sent nothing
            done = _event(update_id)
            assert done is not None and done.status == InboundStatus.DONE
            assert cluster.instance_of(int(done.worker.rsplit("-", 2)[1])) not in (None, victim)
            with session_scope() as s:
                said = s.exec(
                    select(Message.content).where(Message.user_id == user.id, Message.role == "user",
                                                  col(Message.content).contains("Survive a crash"))
                ).all()
            assert len(said) == 1  # the person's message is kept, once
        finally:
            cluster.restart(victim)
