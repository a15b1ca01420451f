"""The Channels page's events, without a browser: they act for the socket cookie's person only."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.state.conftest import set_cookie, state_of
from vopix.channels import links
from vopix.core import usage
from vopix.core.kinds import NoticeKind
from vopix.state.channels import ChannelsState

pytestmark = pytest.mark.asyncio


@pytest.fixture
def page(logged_in, settings_env):
    settings_env(
        VOPIX_TELEGRAM_BOT_TOKEN="123:abc", VOPIX_TELEGRAM_BOT_USERNAME="vopix_bot",
        VOPIX_WHATSAPP_ACCESS_TOKEN="EAAG", VOPIX_WHATSAPP_PHONE_NUMBER_ID="1098",
        VOPIX_WHATSAPP_NUMBER="+1 555 000 9999",
    )
    return lambda: logged_in(ChannelsState)


async def test_without_a_session_every_event_sends_to_login() -> None:
    state = state_of(ChannelsState)
    for event in (state.load(), state.connect_telegram(), state.connect_whatsapp(), state.unlink("telegram")):
        assert "/login" in str(await event)
    assert state.telegram_link == "" and state.whatsapp_code == ""


@pytest.mark.promise("P07")
async def test_connect_shows_a_one_time_link_and_qr_then_unlink(page) -> None:
    _, state = page()
    await state.load()
    assert state.telegram_enabled and state.whatsapp_enabled and not state.telegram_linked
    await state.connect_telegram()
    assert state.telegram_link.startswith("https://t.me/vopix_bot?start=")
    assert state.telegram_qr.startswith("data:image/svg+xml") and "svg" in unquote(state.telegram_qr)
    assert state.waiting
    code = state.telegram_link.split("start=")[1]
    links.redeem("telegram", code, 31337, "@ada")
    await state.load()
    assert state.telegram_linked and state.telegram_name == "@ada" and state.telegram_link == ""
    await state.unlink("telegram")
    assert state.message == "Telegram unlinked." and not state.telegram_linked
    assert links.find_user("telegram", 31337) is None


async def test_whatsapp_code_number_window_and_notice(page) -> None:
    user_id, state = page()
    await state.connect_whatsapp()
    assert len(state.whatsapp_code) == 8 and state.whatsapp_number == "+1 555 000 9999"
    assert state.whatsapp_chat_link == f"https://wa.me/15550009999?text=LINK%20{state.whatsapp_code}"
    links.redeem("whatsapp", state.whatsapp_code, "15551234567", "Ada")
    usage.add_notice(
        user_id, "window-1", "Your agent could not reply freely on WhatsApp.", kind=NoticeKind.WHATSAPP_WINDOW
    )
    usage.add_notice(user_id, "whatsapp-window-looking", "Another kind of notice, whatever its key.")
    await state.load()
    assert state.whatsapp_linked and state.whatsapp_name == "+15551234567"
    assert state.whatsapp_window.startswith("open until ")
    assert [n["text"] for n in state.notices] == ["Your agent could not reply freely on WhatsApp."]
    await state.dismiss(state.notices[0]["id"])
    assert state.notices == []


async def test_one_person_cannot_unlink_another(page) -> None:
    owner, _ = page()
    links.redeem("telegram", links.create_code(owner, "telegram").code, 5150, "")
    _, other = page()
    await other.unlink("telegram")
    assert other.message == "Telegram was not linked."
    assert links.find_user("telegram", 5150) == owner


@pytest.mark.promise("P07")
async def test_wait_for_link_from_a_socket_without_the_cookie_shows_nothing(page) -> None:
    """`wait_for_link` is a background event any client can send by name: on a socket without
    the login cookie (a copied client token) it must not read the person's links."""
    _, state = page()
    await state.connect_whatsapp()
    links.redeem("whatsapp", state.whatsapp_code, "15551234567", "Ada")
    set_cookie(state, "")
    await ChannelsState.event_handlers["wait_for_link"].fn(state)
    assert not state.whatsapp_linked and state.whatsapp_name == ""
