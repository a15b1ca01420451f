"""Telegram's limits (vopix/channels/telegram_pace.py): the bot's messages never leave closer
than 1/30 s apart (~30 a second per bot), a chat's never closer than a second, in one process
and across processes sharing Redis; a burst is spread, not refused."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from vopix.channels import telegram_pace

REDIS_URL = "redis://127.0.0.1:6379/13"
GAP = 1.0 / telegram_pace.BOT_PER_SECOND
CHAT_GAP = 0.25  # a chat's gap here (a second in the app): shorter, to keep the tests short
EPS = 1e-5
REPO = Path(__file__).resolve().parents[2]

RESERVE_SCRIPT = """
import asyncio, json, sys
from vopix.channels import telegram_pace

async def main():
    slots = []
    for i in range(int(sys.argv[1])):
        to = "chat-shared" if i % 10 == 0 else f"chat-{sys.argv[2]}-{i}"
        slot = await telegram_pace.pace(to, 0.25)
        slots.append([to, slot.at])
    print(json.dumps(slots))

asyncio.run(main())
"""


def _assert_within_limits(slots: list[tuple[str, float]]) -> None:
    times = sorted(at for _, at in slots)
    assert all(b - a >= GAP - EPS for a, b in itertools.pairwise(times)), "faster than 30/s"
    by_chat: dict[str, list[float]] = {}
    for to, at in slots:
        by_chat.setdefault(to, []).append(at)
    for chat_times in by_chat.values():
        chat_times.sort()
        assert all(b - a >= CHAT_GAP - EPS for a, b in itertools.pairwise(chat_times))


def test_a_burst_in_one_process_is_spread_to_the_bots_and_the_chats_limits(settings_env) -> None:
    settings_env(VOPIX_TELEGRAM_BOT_TOKEN=f"{secrets.randbelow(10**9)}:pace", VOPIX_REDIS_URL="")

    async def burst() -> list[tuple[str, float]]:
        out = []
        for i in range(90):
            to = "one-chat" if i % 9 == 0 else f"chat-{i}"
            out.append((to, (await telegram_pace.pace(to, CHAT_GAP)).at))
        return out

    slots = asyncio.run(burst())
    _assert_within_limits(slots)
    # 90 messages at ~30 a second: the last one's slot is about 3 s after the first, none dropped
    assert len(slots) == 90
    assert max(at for _, at in slots) - min(at for _, at in slots) >= 89 * GAP - EPS


def test_processes_sharing_redis_share_the_bots_limit(settings_env) -> None:
    pytest.importorskip("redis")
    token = f"{secrets.randbelow(10**9)}:pace"
    env = {**os.environ, "VOPIX_TELEGRAM_BOT_TOKEN": token, "VOPIX_REDIS_URL": REDIS_URL,
           "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", RESERVE_SCRIPT, "40", str(k)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, text=True) for k in range(2)]
    slots: list[tuple[str, float]] = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        slots += [(to, at) for to, at in json.loads(out)]
    assert len(slots) == 80
    _assert_within_limits(slots)  # the two processes' slots interleave, never closer than the limits


def test_without_redis_answering_a_process_still_paces_itself(settings_env) -> None:
    settings_env(VOPIX_TELEGRAM_BOT_TOKEN=f"{secrets.randbelow(10**9)}:pace",
                 VOPIX_REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there

    async def burst() -> list[tuple[str, float]]:
        return [(f"c{i}", (await telegram_pace.pace(f"c{i}", CHAT_GAP)).at) for i in range(40)]

    slots = asyncio.run(burst())
    _assert_within_limits(slots)


def test_a_message_held_back_by_its_chat_does_not_delay_the_other_chats(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(telegram_pace.time, "monotonic", lambda: now[0])
    bot = f"bot-{secrets.token_hex(4)}"
    first = telegram_pace._local_reserve(bot, "ana", GAP, 1.0)
    again = telegram_pace._local_reserve(bot, "ana", GAP, 1.0)  # Ana's second, a moment later
    others = [telegram_pace._local_reserve(bot, name, GAP, 1.0) for name in ("ben", "eva")]
    assert first.taken and first.at == 100.0
    assert not again.taken and again.at == 101.0  # Ana's chat: ask again in a second
    assert [s.at for s in others] == pytest.approx([100.0 + GAP, 100.0 + 2 * GAP])  # not pushed
    now[0] = 101.0
    later = telegram_pace._local_reserve(bot, "ana", GAP, 1.0)
    assert later.taken and later.at == 101.0
