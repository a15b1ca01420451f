"""The export section's state without a browser: progress read from the database (so a reload
shows it), a second export refused with a message, the link once ready, expiry told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.core.privacy.export_helpers import no_export_files
from vopix.core.privacy import export, export_worker
from vopix.state.privacy import PrivacyState
from vopix.state.privacy_export import PrivacyExportState

pytestmark = pytest.mark.asyncio
__all__ = ["no_export_files"]


async def _call(state: PrivacyExportState, name: str):
    return await PrivacyExportState.event_handlers[name].fn(state)


async def test_start_shows_progress_a_second_press_changes_nothing_then_the_link(logged_in) -> None:
    _user_id, state = logged_in(PrivacyExportState)
    await _call(state, "load")
    assert state.export_status == "" and state.download_href == ""

    reply = await _call(state, "start_export")
    assert reply is PrivacyExportState.watch  # progress is followed in the background
    assert state.export_status == "queued" and state.in_progress
    assert "started" in state.export_message and state.export_error == ""

    await _call(state, "start_export")
    assert "already being prepared" in state.export_error
    assert state.export_status == "queued"

    claimed = export_worker.claim("w")
    assert claimed is not None
    await _call(state, "load")  # a reload reads the progress from the database
    assert state.export_status == "running" and "part" in state.progress_text.lower()
    export_worker.run_one(claimed, "w")

    await _call(state, "load")
    assert state.export_status == "ready" and not state.in_progress
    assert state.download_href == f"/api/privacy/exports/{state.export_id}/download"
    assert state.expires_text and state.size_text


async def test_an_expired_export_is_told_and_has_no_link(logged_in) -> None:
    user_id, state = logged_in(PrivacyExportState)
    export.request_export(user_id)
    export_worker.drain()
    view = export.latest_export(user_id)
    assert view is not None and view.expires_at is not None
    export.purge_exports(view.expires_at + timedelta(seconds=1))
    await _call(state, "load")
    assert state.export_status == "expired" and state.download_href == ""


async def test_the_page_load_runs_each_sections_load(logged_in) -> None:
    _, state = logged_in(PrivacyState)
    reply = await PrivacyState.event_handlers["load"].fn(state)
    assert PrivacyExportState.load in reply


async def test_logged_out_goes_to_the_login_page(make_user) -> None:
    from tests.state.conftest import state_of

    state = state_of(PrivacyExportState)
    reply = await _call(state, "start_export")
    assert "login" in str(reply)
    assert export.latest_export(1) is None
