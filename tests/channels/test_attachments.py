"""Photos and documents sent on Telegram and WhatsApp land in the workspace's inbox/ and the
agent's turn names them; too large or over the storage left, the person is told why and nothing
is kept."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from tests.channels.helpers import drain, link_telegram, link_whatsapp, post_update, post_whatsapp
from tests.fakes.ai_provider import Reply
from tests.fakes.telegram_api import make_document_update, make_photo_update, make_voice_update
from tests.fakes.whatsapp_webhooks import make_document_webhook, make_image_webhook
from vopix.core import attachments
from vopix.core.agent import history
from vopix.core.workspace import store
from vopix.db import session_scope
from vopix.models import Message, Plan

pytestmark = pytest.mark.asyncio
CHAT = 555_000_222
NUMBER = "15551230000"
JPEG = b"\xff\xd8\xff\xe0" + b"pixels" * 100


def _inbox(user_id: int) -> dict[str, bytes]:
    if not store.exists(user_id, attachments.INBOX):
        return {}
    return {
        e.name.split(" ", 1)[1]: store.read_bytes(user_id, e.path, 10**6)[1]
        for e in store.list_entries(user_id, attachments.INBOX)
    }


def _turn_text(fake_ai) -> str:
    return json.dumps(fake_ai.requests[-1].body["messages"], ensure_ascii=False)


def _limit_storage(limit: int) -> None:
    with session_scope() as s:
        plan = s.get(Plan, "free")
        plan.storage_bytes = limit
        s.add(plan)


def _stored_user_messages() -> list[str]:
    with session_scope() as s:
        return list(s.exec(select(Message.content).where(Message.role == "user")))


async def test_a_telegram_photo_lands_in_inbox_and_the_agent_is_told(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    telegram_api.add_file("PHOTO-1", JPEG, "photos/file_7.jpg")
    fake_ai.script(Reply("A nice photo."))
    await post_update(api, make_photo_update(8101, CHAT, file_id="PHOTO-1", caption="What is this?"))
    await drain()
    assert _inbox(agent_user) == {"photo.jpg": JPEG}
    [entry] = store.list_entries(agent_user, attachments.INBOX)
    sent = _turn_text(fake_ai)
    assert "What is this?" in sent and f"Attached: {entry.path} (image/jpeg, " in sent
    assert telegram_api.sent_messages[-1]["text"] == "A nice photo."
    # The web history shows the same message, its attachment named.
    [conv] = history.list_conversations(agent_user)
    page, _ = history.messages_page(agent_user, conv.id)
    text, files = attachments.split_note(page[0].content)
    assert (text, [f.path for f in files], page[0].channel) == ("What is this?", [entry.path], "telegram")


async def test_a_telegram_document_keeps_a_cleaned_name(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    telegram_api.add_file("DOC-1", b"%PDF-1.7 report", "documents/file_3.pdf")
    fake_ai.script(Reply("Got the report."))
    await post_update(api, make_document_update(8102, CHAT, file_id="DOC-1", file_name="../../Q4 report.pdf"))
    await drain()
    assert _inbox(agent_user) == {"Q4 report.pdf": b"%PDF-1.7 report"}
    assert "Q4 report.pdf (application/pdf, 15 bytes)" in _turn_text(fake_ai)


async def test_a_telegram_file_over_the_maximum_is_refused_clearly(
    api, agent_user, telegram_api, fake_ai, settings_env
) -> None:
    settings_env(VOPIX_MAX_FILE_BYTES="1000")
    link_telegram(agent_user, CHAT)
    telegram_api.add_file("DOC-2", b"x" * 48_213)
    await post_update(api, make_document_update(8103, CHAT, file_id="DOC-2", file_name="big.pdf"))
    await drain()
    reply = telegram_api.sent_messages[-1]["text"]
    assert "could not save that file" in reply and "the largest file allowed is 1000 bytes" in reply
    assert telegram_api.calls_to("getFile") == []  # refused on its announced size, nothing fetched
    assert _inbox(agent_user) == {} and fake_ai.requests == [] and _stored_user_messages() == []


async def test_a_telegram_photo_over_the_storage_left_keeps_nothing(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    _limit_storage(store.storage_used(agent_user) + 100)
    telegram_api.add_file("PHOTO-2", JPEG)
    await post_update(api, make_photo_update(8104, CHAT, file_id="PHOTO-2"))
    await drain()
    reply = telegram_api.sent_messages[-1]["text"]
    assert "does not fit: only 100 bytes of your storage is free" in reply and "Billing page" in reply
    assert _inbox(agent_user) == {} and fake_ai.requests == []


async def test_voice_notes_still_get_a_clear_answer(api, agent_user, telegram_api, fake_ai) -> None:
    link_telegram(agent_user, CHAT)
    await post_update(api, make_voice_update(8105, CHAT))
    await drain()
    assert "voice notes" in telegram_api.sent_messages[-1]["text"]
    assert fake_ai.requests == [] and _inbox(agent_user) == {}


async def test_a_whatsapp_image_lands_in_inbox_and_the_agent_is_told(api, agent_user, whatsapp_api, fake_ai) -> None:
    link_whatsapp(agent_user, NUMBER)
    whatsapp_api.add_media("media-77", JPEG, "image/jpeg")
    fake_ai.script(Reply("That is a cat."))
    await post_whatsapp(api, make_image_webhook("wamid.P1", NUMBER, "media-77", caption="look"))
    await drain()
    assert _inbox(agent_user) == {"photo.jpg": JPEG}
    [entry] = store.list_entries(agent_user, attachments.INBOX)
    sent = _turn_text(fake_ai)
    assert "look" in sent and f"Attached: {entry.path} (image/jpeg, " in sent
    assert whatsapp_api.texts_to(NUMBER)[-1] == "That is a cat."


async def test_a_whatsapp_document_and_a_refused_one(api, agent_user, whatsapp_api, fake_ai, settings_env) -> None:
    link_whatsapp(agent_user, NUMBER)
    whatsapp_api.add_media("media-78", b"a,b\n1,2\n", "text/csv")
    fake_ai.script(Reply("Two columns."))
    await post_whatsapp(api, make_document_webhook("wamid.D1", NUMBER, "media-78", filename="data.csv",
                                                   mime_type="text/csv"))
    await drain()
    assert _inbox(agent_user) == {"data.csv": b"a,b\n1,2\n"}
    assert "data.csv (text/csv, 8 bytes)" in _turn_text(fake_ai)

    settings_env(VOPIX_MAX_FILE_BYTES="100")
    whatsapp_api.add_media("media-79", JPEG, "image/jpeg")
    await post_whatsapp(api, make_image_webhook("wamid.P2", NUMBER, "media-79"))
    await drain()
    reply = whatsapp_api.texts_to(NUMBER)[-1]
    assert "could not save that file" in reply and "the largest file allowed is 100 bytes" in reply
    assert len(_inbox(agent_user)) == 1 and len(fake_ai.requests) == 1
