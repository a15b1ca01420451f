"""An account with something in every part of an export, and what it takes to open the ZIP."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from vopix.core.agent import history, profile
from vopix.core.clock import utcnow
from vopix.core.integrations import connections
from vopix.core.privacy import export, export_worker
from vopix.core.workspace import store
from vopix.db import session_scope
from vopix.models import AccessLog, ChannelLink, ScriptRun, UsageDaily

PROVIDER_KEY = "sk-export-test-PROVIDERKEY-9f8e7d"
GITHUB_TOKEN = "ghp_exportTestTOKEN0123456789abcdef"
GITHUB_REFRESH = "ghr_exportTestREFRESH0123456789"


@pytest.fixture(autouse=True)
def no_export_files():
    """Each test starts with an empty exports folder (the data folder outlives a test)."""
    for path in export.export_dir().iterdir():
        path.unlink()
    yield


@dataclass(frozen=True)
class Seeded:
    user_id: int
    email: str
    conversation_id: int
    conversation_title: str


def seed_account(user_id: int, email: str) -> Seeded:
    profile.update_persona(user_id, name="Ada's agent", personality="Brief.", language="English",
                           timezone="Europe/Lisbon")
    profile.update_provider(user_id, kind="openai", model="gpt-test", base_url="", api_key=PROVIDER_KEY)
    conv = history.create_conversation(user_id, "Trip to Porto: trains?")
    history.add_message(user_id, conv.id, "user", "Which train goes to Porto?")
    history.add_message(user_id, conv.id, "tool", '{"hits": 2}', tool_name="workspace_search",
                        tool_call_id="call_1", tool_args='{"query": "porto"}')
    history.add_message(user_id, conv.id, "assistant", "The Alfa Pendular, at 9:00.", channel="telegram")
    store.write_text(user_id, "notes/travel/porto.md", "# Porto\nTrain at 9:00.\n")
    store.write_bytes(user_id, "images/pixel.bin", bytes((i * 37 + 1) % 256 for i in range(1024)))
    connections.save(user_id, "github", method="oauth", account="octocat", account_id="1", scopes="repo",
                     access_token=GITHUB_TOKEN, refresh_token=GITHUB_REFRESH)
    now = utcnow()
    with session_scope() as s:
        s.add(ChannelLink(user_id=user_id, channel="telegram", external_id="424242", display_name="Ada"))
        s.add(UsageDaily(user_id=user_id, day=date.today(), model="gpt-test", api_calls=3, messages=2,
                         input_tokens=100, output_tokens=50))
        s.add(AccessLog(user_id=user_id, method="GET", path="/chat", status=200, ip="203.0.113.9", at=now))
        s.add(AccessLog(user_id=user_id, method="GET", path="/old", status=200, ip="203.0.113.9",
                        at=now - timedelta(days=40)))
        s.add(ScriptRun(user_id=user_id, script="scripts/hello.py", args="[]", status="ok", exit_code=0,
                        stdout="hello\n"))
    return Seeded(user_id, email, conv.id, conv.title)


def run_export(user_id: int) -> tuple[export.ExportView, Path]:
    """Ask for an export and let this thread's worker write it."""
    export.request_export(user_id)
    assert export_worker.drain() == 1
    view = export.latest_export(user_id)
    assert view is not None and view.status == "ready", view
    path, _ = export.download_path(user_id, view.id)
    return view, path


def read_zip(data: bytes | Path) -> dict[str, bytes]:
    raw = data.read_bytes() if isinstance(data, Path) else data
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}


def json_of(files: dict[str, bytes], name: str) -> dict:
    return json.loads(files[name].decode("utf-8"))
