"""The export download route: the owner only, while it lasts; everyone else learns nothing."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest

from tests.core.privacy.export_helpers import no_export_files, read_zip, run_export
from vopix.core import sessions
from vopix.core.privacy import export
from vopix.core.workspace import store
from vopix.routes import export_download_url

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = ["no_export_files"]
COOKIE = sessions.COOKIE_NAME


def _get(client: TestClient, export_id: int | str, headers: dict[str, str] | None = None):
    client.cookies.clear()
    return client.get(f"/api/privacy/exports/{export_id}/download", headers=headers or {})


@pytest.mark.promise("P28")
@pytest.mark.promise("P30")
def test_the_owner_downloads_the_zip_as_an_attachment(client, person) -> None:
    user_id, cookie = person()
    store.write_text(user_id, "notes/a.md", "alpha\n")
    view, path = run_export(user_id)
    assert export_download_url(view.id) == f"/api/privacy/exports/{view.id}/download"
    r = _get(client, view.id, cookie)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith('attachment; filename="vopix-export-')
    assert r.headers["cache-control"] == "private, no-store"
    assert r.content == path.read_bytes()
    assert read_zip(r.content)["workspace/notes/a.md"] == b"alpha\n"


def test_another_persons_export_is_not_found_and_says_nothing_of_it(client, person) -> None:
    owner, _ = person()
    _, stranger = person()
    view, _ = run_export(owner)
    theirs = _get(client, view.id, stranger)
    missing = _get(client, view.id + 999, stranger)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.text == missing.text == "There is no such export.\n"
    assert _get(client, "not-a-number", stranger).status_code == 404


def test_logged_out_is_asked_to_log_in(client, person) -> None:
    owner, _ = person()
    view, _ = run_export(owner)
    r = _get(client, view.id)
    assert r.status_code == 401 and "Log in" in r.text
    assert _get(client, view.id, {"cookie": f"{COOKIE}=forged"}).status_code == 401


def test_an_expired_export_is_refused_with_a_clear_message(client, person) -> None:
    user_id, cookie = person()
    view, _ = run_export(user_id)
    assert view.expires_at is not None
    export.purge_exports(view.expires_at + timedelta(minutes=1))
    r = _get(client, view.id, cookie)
    assert r.status_code == 410 and "expired" in r.text and "PK" not in r.text


def test_a_deleted_file_and_an_unfinished_export_are_told_as_such(client, person) -> None:
    user_id, cookie = person()
    view, path = run_export(user_id)
    path.unlink()
    r = _get(client, view.id, cookie)
    assert r.status_code == 410 and "deleted" in r.text
    queued = export.request_export(user_id)
    r = _get(client, queued.id, cookie)
    assert r.status_code == 409 and "still being prepared" in r.text
