"""Tests for Telegram protocol helpers and python-telegram-bot against the fake API."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.fakes.telegram_api import (
    FakeTelegramAPI,
    make_document_update,
    make_photo_update,
    make_start_update,
    make_text_update,
    make_voice_update,
)
from vopix.channels.formatting import markdown_to_telegram_html
from vopix.channels.telegram_protocol import (
    MalformedPayload,
    deep_link,
    parse_update,
    verify_secret_token,
)


def _bot(fake: FakeTelegramAPI, token: str | None = None) -> Bot:
    return Bot(
        token or fake.token,
        base_url=f"{fake.url}/bot",
        base_file_url=f"{fake.url}/file/bot",
    )


# --------------------------------------------------------------------------- pure helpers


def test_verify_secret_token() -> None:
    assert verify_secret_token("s3cret_-X", "s3cret_-X")
    assert not verify_secret_token("wrong", "s3cret_-X")
    assert not verify_secret_token(None, "s3cret_-X")
    assert not verify_secret_token("", "")
    assert not verify_secret_token("anything", "")
    assert not verify_secret_token("ünïcode", "s3cret")


def test_deep_link() -> None:
    assert deep_link("vopix_bot", "Ab-9_z") == "https://t.me/vopix_bot?start=Ab-9_z"
    assert deep_link("@vopix_bot", "x" * 64).endswith("=" + "x" * 64)
    for bad in ["", "x" * 65, "a b", "a&b=c", "ñ", "a/b"]:
        with pytest.raises(ValueError):
            deep_link("vopix_bot", bad)
    with pytest.raises(ValueError):
        deep_link("bad bot/", "abc")


def test_parse_text_update() -> None:
    data = make_text_update(10, 4242, "hello <b>", user_id=77, first_name="Grace")
    inbound = parse_update(data, None)
    assert inbound is not None
    assert (inbound.update_id, inbound.chat_id, inbound.chat_type) == (10, 4242, "private")
    assert (inbound.user_id, inbound.first_name) == (77, "Grace")
    assert (inbound.kind, inbound.text, inbound.start_code) == ("text", "hello <b>", None)
    assert inbound.date is not None and inbound.date.tzinfo is not None


def test_parse_start_with_code() -> None:
    inbound = parse_update(make_start_update(11, 4242, "Lk_3-x9"), None)
    assert inbound is not None
    assert (inbound.kind, inbound.start_code, inbound.text) == (
        "command_start", "Lk_3-x9", "/start Lk_3-x9"
    )
    plain = parse_update(make_start_update(12, 4242, None), None)
    assert plain is not None and plain.kind == "command_start" and plain.start_code is None
    bad = parse_update(make_text_update(13, 4242, "/start bad$code"), None)
    assert bad is not None and bad.kind == "command_start" and bad.start_code is None
    other = parse_update(make_text_update(14, 4242, "/help"), None)
    assert other is not None and other.kind == "text"


def test_parse_media_updates() -> None:
    photo = parse_update(make_photo_update(20, 1, file_id="PHOTO", caption="cat"), None)
    assert photo is not None
    assert (photo.kind, photo.file_id, photo.text) == ("photo", "PHOTO", "cat")
    assert photo.file_size == 71_114
    voice = parse_update(make_voice_update(21, 1, file_id="VOICE"), None)
    assert voice is not None
    assert (voice.kind, voice.file_id, voice.mime_type) == ("voice", "VOICE", "audio/ogg")
    assert voice.text is None
    doc = parse_update(make_document_update(22, 1, file_name="a.pdf"), None)
    assert doc is not None
    assert (doc.kind, doc.file_name, doc.mime_type) == ("document", "a.pdf", "application/pdf")
    sticker = make_text_update(23, 1, "x")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "S", "file_unique_id": "U", "width": 512, "height": 512,
        "is_animated": False, "is_video": False, "type": "regular",
    }
    parsed = parse_update(sticker, None)
    assert parsed is not None and parsed.kind == "other" and parsed.file_id is None


def test_updates_without_message_give_none() -> None:
    assert parse_update({"update_id": 5}, None) is None
    edited = make_text_update(6, 1, "x")
    edited["edited_message"] = edited.pop("message")
    assert parse_update(edited, None) is None


def _bad_updates() -> list[Any]:
    base = make_text_update(1, 1, "hi")

    def without(*path: str) -> dict[str, Any]:
        body = copy.deepcopy(base)
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return body

    wrong_chat = copy.deepcopy(base)
    wrong_chat["message"]["chat"]["id"] = "abc"
    wrong_text = copy.deepcopy(base)
    wrong_text["message"]["text"] = {"nested": True}
    photo_without_id = make_photo_update(2, 1)
    for size in photo_without_id["message"]["photo"]:
        del size["file_id"]
    return [
        None, [], "update", {}, {"update_id": "1"}, {"update_id": True},
        {"update_id": 1, "message": "text"}, {"update_id": 1, "message": {}},
        without("message", "date"), without("message", "chat"),
        without("message", "chat", "type"), wrong_chat, wrong_text, photo_without_id,
    ]


@pytest.mark.parametrize("data", _bad_updates())
def test_malformed_updates(data: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_update(data, None)


# --------------------------------------------------------------------------- against the fake


@pytest.mark.asyncio
async def test_bot_initialize_and_send(telegram_api: FakeTelegramAPI) -> None:
    bot = _bot(telegram_api)
    await bot.initialize()
    try:
        assert bot.username == "vopix_test_bot"
        html = markdown_to_telegram_html("**Hi** <script>x</script>")
        message = await bot.send_message(4242, html, parse_mode="HTML")
        assert message.text == "Hi <script>x</script>"
        assert message.chat.id == 4242
        await bot.send_chat_action(4242, "typing")
    finally:
        await bot.shutdown()
    assert [c.method for c in telegram_api.calls] == ["getMe", "sendMessage", "sendChatAction"]
    sent = telegram_api.sent_messages[0]
    assert sent["chat_id"] == 4242 and sent["parse_mode"] == "HTML" and sent["text"] == html


@pytest.mark.asyncio
async def test_fake_rejects_raw_html_and_long_text(telegram_api: FakeTelegramAPI) -> None:
    async with _bot(telegram_api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
            await bot.send_message(1, "<script>x</script>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await bot.send_message(1, "😀" * 2049)
        telegram_api.block_chat(9)
        with pytest.raises(Forbidden):
            await bot.send_message(9, "hi")


@pytest.mark.asyncio
async def test_429_then_success(telegram_api: FakeTelegramAPI) -> None:
    telegram_api.fail_next("sendMessage", times=1)
    async with _bot(telegram_api) as bot:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(1, "first")
        retry = info.value.retry_after
        assert (retry.total_seconds() if isinstance(retry, timedelta) else retry) == 1
        await bot.send_message(1, "second")
    assert [m["text"] for m in telegram_api.sent_messages] == ["first", "second"]


@pytest.mark.asyncio
async def test_wrong_token_is_401(telegram_api: FakeTelegramAPI) -> None:
    bot = _bot(telegram_api, token="999:wrong")
    with pytest.raises(InvalidToken):
        await bot.initialize()
    assert telegram_api.calls == []


@pytest.mark.asyncio
async def test_get_updates_long_poll(telegram_api: FakeTelegramAPI) -> None:
    async with _bot(telegram_api) as bot:
        start = time.monotonic()
        assert await bot.get_updates(timeout=0) == ()
        assert time.monotonic() - start < 1

        async def push_later() -> None:
            await asyncio.sleep(0.2)
            telegram_api.push_update(make_text_update(100, 5, "one"))
            telegram_api.push_update(make_start_update(101, 5, "CODE1"))

        task = asyncio.create_task(push_later())
        updates = await bot.get_updates(offset=0, timeout=5)
        await task
        assert [u.update_id for u in updates] == [100, 101]
        again = await bot.get_updates(offset=101, timeout=0)
        assert [u.update_id for u in again] == [101]
        assert await bot.get_updates(offset=102, timeout=0) == ()
        inbound = parse_update(updates[1].to_dict(), bot)
        assert inbound is not None and inbound.start_code == "CODE1"


@pytest.mark.asyncio
async def test_webhook_methods(telegram_api: FakeTelegramAPI) -> None:
    async with _bot(telegram_api) as bot:
        assert await bot.set_webhook(
            "https://vopix.example/tg", secret_token="s3cret", allowed_updates=["message"]
        )
        info = await bot.get_webhook_info()
        assert info.url == "https://vopix.example/tg"
        assert telegram_api.webhook["secret_token"] == "s3cret"
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        with pytest.raises(BadRequest):
            await bot.set_webhook("http://insecure.example/tg")
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert (await bot.get_webhook_info()).url == ""


@pytest.mark.asyncio
async def test_get_file_and_download(telegram_api: FakeTelegramAPI) -> None:
    telegram_api.add_file("VOICE1", b"OggS-data", "voice/file_7.oga")
    async with _bot(telegram_api) as bot:
        tg_file = await bot.get_file("VOICE1")
        assert tg_file.file_path is not None and tg_file.file_size == 9
        assert bytes(await tg_file.download_as_bytearray()) == b"OggS-data"
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("nope")
