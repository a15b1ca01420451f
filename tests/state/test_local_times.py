"""Every page shows times in the person's own time zone, not in UTC (issue 14, bug 8)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from vopix.channels import links
from vopix.core import sessions
from vopix.core.agent import history, profile
from vopix.core.workspace import store
from vopix.state.account import AccountState
from vopix.state.channels import ChannelsState
from vopix.state.chat import ChatState
from vopix.state.workspace import WorkspaceState

pytestmark = pytest.mark.asyncio


def _choose_zone(user_id: int, zone: str) -> None:
    p = profile.get_profile(user_id)
    profile.update_persona(user_id, name=p.name, personality=p.personality, language=p.language, timezone=zone)


def _in(zone: str, moment: datetime) -> str:
    """Worked out independently of the code under test."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


async def test_account_sessions_show_when_they_started_in_lisbon_time(logged_in) -> None:
    user_id, state = logged_in(AccountState)
    _choose_zone(user_id, "Europe/Lisbon")
    await state.load()
    [row] = state.session_rows
    [session] = sessions.list_sessions(user_id, None)
    assert row["started"] == _in("Europe/Lisbon", session.created_at)
    assert "UTC" not in row["started"]


async def test_channels_show_linked_since_window_and_code_expiry_in_tokyo_time(logged_in, settings_env) -> None:
    settings_env(
        VOPIX_TELEGRAM_BOT_TOKEN="123:abc", VOPIX_TELEGRAM_BOT_USERNAME="vopix_bot",
        VOPIX_WHATSAPP_ACCESS_TOKEN="EAAG", VOPIX_WHATSAPP_PHONE_NUMBER_ID="1098",
        VOPIX_WHATSAPP_NUMBER="+1 555 000 9999",
    )
    user_id, state = logged_in(ChannelsState)
    _choose_zone(user_id, "Asia/Tokyo")
    await state.load()
    await state.connect_whatsapp()
    assert state.code_expires.endswith(" JST")
    links.redeem("whatsapp", state.whatsapp_code, "15551234567", "Ada")
    await state.load()
    wa = links.links_for(user_id)["whatsapp"]
    assert state.whatsapp_since == _in("Asia/Tokyo", wa.linked_at)
    assert state.whatsapp_window.startswith("open until ") and state.whatsapp_window.endswith(" JST")


async def test_workspace_files_show_when_they_changed_in_tokyo_time(logged_in) -> None:
    user_id, state = logged_in(WorkspaceState)
    _choose_zone(user_id, "Asia/Tokyo")
    store.write_text(user_id, "notes.md", "hello")
    await state.load()
    entry = next(e for e in store.list_entries(user_id) if e.path == "notes.md")
    row = next(r for r in state.entries if r["path"] == "notes.md")
    assert row["updated"] == _in("Asia/Tokyo", entry.updated_at)


async def test_chat_messages_and_search_results_show_lisbon_time(logged_in) -> None:
    user_id, state = logged_in(ChatState)
    _choose_zone(user_id, "Europe/Lisbon")
    conv = history.create_conversation(user_id, "Trip")
    said = history.add_message(user_id, conv.id, "user", "pack the umbrella")
    state.current_id = conv.id
    await state.load()
    assert [m["time"] for m in state.messages] == [_in("Europe/Lisbon", said.created_at)]
    await state.search({"query": "umbrella"})
    assert [h["time"] for h in state.search_results] == [_in("Europe/Lisbon", said.created_at)]


async def test_a_person_who_never_chose_a_zone_sees_utc(logged_in) -> None:
    _, state = logged_in(WorkspaceState)
    await state.load()
    assert state.entries and all(r["updated"].endswith(" UTC") for r in state.entries)
