"""Pacing of the bot's messages to Telegram's limits: about one message a second in a chat, and
about 30 a second for the bot as a whole ("If you're sending bulk notifications to multiple
users, the API will not allow more than 30 messages per second or so", Telegram's bot FAQ).

A message first waits until its chat may have another (a second after the chat's last
slot), then takes the bot's next free slot (1/30 s after the one before); if its chat was given
a slot meanwhile, it waits again. So the bot's slots are never closer than 1/30 s, a chat's
never closer than a second, and a message held back by its own chat does not push everyone
else's slot (the bot's slots go, first come first served, to messages their chat allows).
The slots are shared by every process of the deployment through Redis when VOPIX_REDIS_URL is
set (several workers or instances send for one bot; a Lua script takes a slot atomically, on
the Redis server's clock), else kept in the process (one process sends for the bot). A burst
is spread, never refused: 2,000 reminders due at the same minute leave over ~67 s, the limit's
own bound. If Redis does not answer, the process paces on its own (a warning says so) rather
than not sending.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from vopix.core import http
from vopix.settings import get_settings

log = logging.getLogger("vopix.channels.telegram")

BOT_PER_SECOND = 30.0  # Telegram: ~30 messages a second per bot
KEY_PREFIX = "vopix:telegram-pace"

# KEYS[1]: the bot's next free time, KEYS[2]: the chat's; ARGV: the bot's gap, the chat's gap.
# Returns {slot, now, taken}: taken 0 means the chat may not have one yet, ask again at `slot`
# (strings: Lua numbers become Redis integers otherwise).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local chat = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat > now then
  return {string.format('%.6f', chat), string.format('%.6f', now), '0'}
end
local at = now
local bot = tonumber(redis.call('GET', KEYS[1]) or '0')
if bot > at then at = bot end
local bot_gap = tonumber(ARGV[1])
local chat_gap = tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.6f', at + bot_gap), 'PX',
           math.ceil((at - now + bot_gap) * 1000) + 60000)
redis.call('SET', KEYS[2], string.format('%.6f', at + chat_gap), 'PX',
           math.ceil((at - now + chat_gap) * 1000) + 60000)
return {string.format('%.6f', at), string.format('%.6f', now), '1'}
"""

_local_bot: dict[str, float] = {}  # bot key -> next free monotonic time (this process)
_local_chat: dict[tuple[str, str], float] = {}
_warned = False


def _bot_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]  # never the token itself


@dataclass(frozen=True)
class Slot:
    at: float  # when the message may leave (taken), or when to ask again (not taken)
    now: float  # the time it was asked (same clock: Redis's, or this process's monotonic)
    taken: bool = True

    @property
    def wait(self) -> float:
        return max(0.0, self.at - self.now)


def _local_reserve(bot: str, to: str, bot_gap: float, chat_gap: float) -> Slot:
    now = time.monotonic()
    chat = _local_chat.get((bot, to), 0.0)
    if chat > now:
        return Slot(chat, now, taken=False)
    at = max(now, _local_bot.get(bot, 0.0))
    _local_bot[bot] = at + bot_gap
    _local_chat[(bot, to)] = at + chat_gap
    if len(_local_chat) > 100_000:  # forget chats whose slot has passed
        for key in [k for k, v in _local_chat.items() if v < now]:
            del _local_chat[key]
    return Slot(at, now)


def _redis(url: str) -> Any:
    import redis.asyncio as aioredis

    return http.pooled(
        ("telegram-pace-redis", url),
        lambda: aioredis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5),
        lambda client: client.aclose(),
    )


async def reserve(to: str, chat_gap: float) -> Slot:
    """Take this message's slot, if its chat may have one now (else: when to ask again)."""
    global _warned
    cfg = get_settings()
    bot = _bot_key(cfg.telegram_bot_token)
    bot_gap = 1.0 / BOT_PER_SECOND if BOT_PER_SECOND > 0 else 0.0
    if cfg.redis_url:
        try:
            at, now, taken = await _redis(cfg.redis_url).eval(
                _RESERVE, 2, f"{KEY_PREFIX}:{bot}", f"{KEY_PREFIX}:{bot}:{to}", bot_gap, chat_gap)
            _warned = False
            return Slot(float(at), float(now), taken in (b"1", "1", 1))
        except Exception as exc:  # Redis down: pace this process alone rather than not send
            if not _warned:
                log.warning("telegram pacing: Redis did not answer (%s); pacing per process",
                            type(exc).__name__)
                _warned = True
    return _local_reserve(bot, to, bot_gap, chat_gap)


async def pace(to: str, chat_gap: float) -> Slot:
    """Wait for this message's slot (it may leave when this returns); the slot taken."""
    while True:
        slot = await reserve(to, chat_gap)
        if slot.wait > 0:
            await asyncio.sleep(slot.wait)
        if slot.taken:
            return slot
