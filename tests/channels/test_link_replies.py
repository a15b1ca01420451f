"""One table of link replies for both channels, and the channels' shared HTTP clients."""

from __future__ import annotations

import pytest

from vopix.channels import links, telegram, whatsapp, worker
from vopix.core import http


@pytest.mark.parametrize("channel", links.CHANNELS)
def test_every_link_reply_reads_in_the_channels_own_words(channel: str) -> None:
    button = {"telegram": "Connect Telegram", "whatsapp": "Connect WhatsApp"}[channel]
    for which in links.LinkReply:
        text = links.reply(channel, which)
        assert "{" not in text and "}" not in text
        other = "WhatsApp" if channel == "telegram" else "Telegram"
        assert other not in text
    for which in (links.LinkReply.HOW_TO_LINK, links.LinkReply.UNKNOWN, links.LinkReply.EXPIRED):
        assert button in links.reply(channel, which)
    assert links.reply(channel, "no-such-reason") == links.reply(channel, links.LinkReply.UNKNOWN)


@pytest.mark.asyncio
async def test_the_channels_lifespan_closes_their_clients_at_stop(channels_env) -> None:
    async with worker.channels_lifespan():
        client = http.client(whatsapp.POOL, timeout=whatsapp.POOL_TIMEOUT)
        bot = telegram.get_bot()
        assert telegram.get_bot() is bot and http.client(whatsapp.POOL) is client
    assert client.is_closed
    assert telegram.get_bot() is not bot  # shut down and forgotten: the next use makes a new one
    await http.close_all()
