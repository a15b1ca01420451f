"""Workspace download routes: owner only, attachment headers, streamed files and zips."""

from __future__ import annotations

import asyncio
import io
import tracemalloc
import warnings
import zipfile
from urllib.parse import quote

import pytest

from vopix.api.app import build_api
from vopix.api.workspace_routes import attachment
from vopix.core import sessions
from vopix.core.workspace import store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

COOKIE = sessions.COOKIE_NAME


def _get(client: TestClient, url: str, headers: dict[str, str] | None = None, **params: str):
    client.cookies.clear()
    return client.get(url, params=params, headers=headers or {})


def _assert_download_headers(response, filename: str) -> None:
    assert response.headers["content-disposition"] == attachment(filename)
    assert response.headers["content-disposition"].startswith("attachment; ")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"
    assert "sandbox" in response.headers["content-security-policy"]


@pytest.mark.promise("P04")
def test_a_file_downloads_as_an_attachment_with_safe_headers(client, person) -> None:
    user_id, cookie = person()
    store.write_text(user_id, "Notes/Résumé 📄.md", "# CV\n")
    r = _get(client, "/api/workspace/file", cookie, path="notes/résumé 📄.md")
    assert r.status_code == 200 and r.content == b"# CV\n"
    _assert_download_headers(r, "Résumé 📄.md")
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"R_sum_ _.md\"; filename*=UTF-8''" + quote("Résumé 📄.md", safe="")
    )
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.headers["content-length"] == "5"


@pytest.mark.parametrize(
    ("name", "content"),
    [("page.html", b"<script>alert(1)</script>"), ("logo.svg", b"<svg onload=alert(1)/>"),
     ("x.xhtml", b"<html/>"), ("run.js", b"alert(1)")],
)
def test_active_content_is_sent_as_plain_bytes(client, person, name, content) -> None:
    user_id, cookie = person()
    store.write_bytes(user_id, name, content)
    r = _get(client, "/api/workspace/file", cookie, path=name)
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    _assert_download_headers(r, name)


def test_awkward_names_get_a_safe_ascii_fallback() -> None:
    assert attachment('a"b;c\\d.txt') == "attachment; filename=\"a_b_c_d.txt\"; filename*=UTF-8''a%22b%3Bc%5Cd.txt"
    assert attachment("日本.txt").startswith('attachment; filename="__.txt"; filename*=UTF-8\'\'%E6%97%A5')


def test_downloads_need_a_login(client, person) -> None:
    user_id, _ = person()
    for url in ("/api/workspace/file", "/api/workspace/zip"):
        assert _get(client, url, path="README.md").status_code == 401
        assert _get(client, url, {"cookie": f"{COOKIE}=forged-token"}, path="README.md").status_code == 401
    token, info = sessions.start_session(user_id)
    sessions.end_session(info.session_id, user_id=user_id, reason="test")
    assert _get(client, "/api/workspace/file", {"cookie": f"{COOKIE}={token}"}, path="README.md").status_code == 401


def test_no_route_reaches_another_persons_files(client, person) -> None:
    alice, _ = person()
    _, bob_cookie = person()
    store.write_text(alice, "private/diary.md", "alice only")
    missing = _get(client, "/api/workspace/file", bob_cookie, path="private/nothing-here.md")
    for url, path in (("/api/workspace/file", "private/diary.md"), ("/api/workspace/zip", "private")):
        r = _get(client, url, bob_cookie, path=path)
        assert r.status_code == 404 and b"alice only" not in r.content
        assert r.json()["error"].startswith("There is no")
    assert missing.status_code == 404  # a missing file and someone else's look alike
    whole = _get(client, "/api/workspace/zip", bob_cookie)
    names = zipfile.ZipFile(io.BytesIO(whole.content)).namelist()
    assert not any(n.startswith("private") for n in names)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [("../../etc/passwd", 400, "not allowed as a name"), ("/etc/passwd", 400, "relative to your workspace"),
     ("a\\b", 400, "backslash"), ("skills", 400, "is a folder"), ("", 400, "Give a file or folder name"),
     ("nope.md", 404, "There is no")],
)
def test_bad_paths_get_clear_answers(client, person, path, status, message) -> None:
    _, cookie = person()
    r = _get(client, "/api/workspace/file", cookie, path=path)
    assert r.status_code == status and message in r.json()["error"]


def test_a_folder_downloads_as_a_zip(client, person) -> None:
    user_id, cookie = person()
    store.write_text(user_id, "Trip Plans/day1.md", "Porto")
    store.write_bytes(user_id, "Trip Plans/photos/p.jpg", b"\xff\xd8" + b"\x00" * 5000)
    r = _get(client, "/api/workspace/zip", cookie, path="trip plans")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    _assert_download_headers(r, "Trip Plans.zip")
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    assert zf.read("Trip Plans/day1.md") == b"Porto" and len(zf.read("Trip Plans/photos/p.jpg")) == 5002
    whole = _get(client, "/api/workspace/zip", cookie)
    _assert_download_headers(whole, "workspace.zip")
    assert "README.md" in zipfile.ZipFile(io.BytesIO(whole.content)).namelist()


async def _drain(app, path: str, cookie: str) -> tuple[int, int, int]:
    """Call the ASGI app directly and drop each body piece as it arrives, so what is measured is
    the server's own memory, not a client's copy. Returns (status, bytes, pieces)."""
    sent = {"status": 0, "bytes": 0, "pieces": 0}

    async def receive() -> dict:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body" and message.get("body"):
            sent["bytes"] += len(message["body"])
            sent["pieces"] += 1

    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    await app(scope, receive, send)
    return sent["status"], sent["bytes"], sent["pieces"]


@pytest.mark.asyncio
async def test_a_big_file_streams_chunk_by_chunk_in_flat_memory(person) -> None:
    user_id, cookie = person()
    size = 12 * 1024 * 1024
    piece = bytes(range(256)) * 1024
    store.write_stream(user_id, "big.bin", (piece for _ in range(size // len(piece))))
    app = build_api()
    tracemalloc.start()
    try:
        status, received, pieces = await _drain(app, "/api/workspace/file?path=big.bin", cookie["cookie"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200 and received == size and pieces == size // (256 * 1024)
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes: the download held too much in memory"
    tracemalloc.start()
    try:
        status, received, pieces = await _drain(app, "/api/workspace/zip?path=", cookie["cookie"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200 and received > size and pieces > 10
    assert peak < 4 * 1024 * 1024, f"zip peak {peak} bytes"
