"""Export everything, in Chromium: with a conversation and a workspace file, press Export, see
the progress and then the link, download the ZIP, and find the conversation and the file in it
and no secret (issue 12)."""

from __future__ import annotations

import io
import re
import secrets
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from vopix.core import accounts
from vopix.core.agent import history, profile
from vopix.core.integrations import connections
from vopix.core.workspace import store
from vopix.db import session_scope
from vopix.models import User

TOKEN = "ghp_browserExportTOKEN00112233445566"
KEY = "sk-browser-export-KEY-aabbccddeeff"


@pytest.mark.promise("P28")
@pytest.mark.promise("P30")
def test_export_shows_progress_then_a_link_and_the_zip_holds_the_data_and_no_secret(page, smtp) -> None:
    email = f"exporter-{secrets.token_hex(4)}@example.com"
    sign_up(page, email)
    user_id = accounts.find_user_id(email)
    assert user_id is not None
    with session_scope() as s:
        password_hash = s.get(User, user_id).password_hash  # type: ignore[union-attr]
    conv = history.create_conversation(user_id, "Packing list")
    history.add_message(user_id, conv.id, "user", "What do I pack for Porto?")
    history.add_message(user_id, conv.id, "assistant", "An umbrella and good shoes.")
    store.write_text(user_id, "notes/porto.md", "# Porto\n- umbrella\n")
    profile.update_provider(user_id, kind="openai", model="gpt-test", base_url="", api_key=KEY)
    connections.save(user_id, "github", method="token", account="octocat", account_id="1", scopes="repo",
                     access_token=TOKEN)

    # In the navigation (which may fold it into its "More" menu at this width).
    expect(page.locator('nav[aria-label="Main"] a[href="/privacy"]').first).to_be_attached()
    page.goto("/privacy")
    expect(page).to_have_title("Privacy · VOPIX")
    section = page.get_by_role("region", name="Export your data")
    section.get_by_role("button", name="Export my data").click()
    expect(section.get_by_role("progressbar", name="Export progress")).to_be_visible()
    link = section.get_by_role("link", name="Download your data (ZIP)")
    expect(link).to_be_visible(timeout=30_000)
    expect(section).to_contain_text("The link works for you only, until")

    # Progress and the link come from the database: a reload shows the link again.
    page.reload()
    expect(link).to_be_visible()

    with page.expect_download() as download:
        link.click()
    assert re.fullmatch(r"vopix-export-\d{4}-\d{2}-\d{2}\.zip", download.value.suggested_filename)
    raw = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        names = zf.namelist()
        files = {n: zf.read(n) for n in names}
    assert f"conversations/{conv.id}-packing-list.json" in names
    assert b"An umbrella and good shoes." in files[f"conversations/{conv.id}-packing-list.md"]
    assert files["workspace/notes/porto.md"] == b"# Porto\n- umbrella\n"
    assert {"README.txt", "account.json", "agent.json", "integrations.json", "security.json"} <= set(names)
    for secret in (TOKEN, KEY, password_hash):
        assert secret.encode() not in raw
        assert all(secret.encode() not in data for data in files.values())

    deadline = time.monotonic() + 15
    while not (ready := [m for m in smtp.received if email in m.rcpt_tos
                         and m.message["Subject"] == "Your VOPIX export is ready"]):
        assert time.monotonic() < deadline, "no 'export ready' mail"
        time.sleep(0.2)
    assert len(ready) == 1 and "/privacy" in ready[0].text
