"""The Content-Security-Policy on pages and static assets, served the way the single-port app
serves them: our routes, then Reflex's mount of its production build, inside the middleware."""

from __future__ import annotations

import base64
import hashlib
import warnings
from pathlib import Path

import pytest
from starlette.applications import Starlette

from vopix.api.app import build_api
from vopix.api.middleware import AccessLogMiddleware
from vopix.core import sessions
from vopix.core.workspace import store

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

THEME = 'document.documentElement.classList.add("dark");'
ROUTER = "window.__reactRouterContext = {};\n  window.go = 1;"
PAGE = (
    "<!DOCTYPE html><html><head><script>" + THEME + "</script>"
    '<script type="module" src="/assets/app.js"></script>'
    '<style data-emotion="css x">.x{position:fixed}</style></head>'
    "<body><h1>Log in</h1><script>" + ROUTER.replace("\n", "\r\n") + "</script></body></html>"
)


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _directives(response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Starlette:
    """A production build with one page and one asset, mounted as `reflex run --single-port`
    mounts it."""
    from reflex.utils.exec import get_frontend_mount

    build = tmp_path / ".web" / "build" / "client"
    (build / "login").mkdir(parents=True)
    (build / "assets").mkdir()
    (build / "login" / "index.html").write_text(PAGE, encoding="utf-8")
    (build / "login.html").write_text(PAGE, encoding="utf-8")  # Reflex writes both
    (build / "assets" / "app.js").write_text("console.log('app');", encoding="utf-8")
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(tmp_path / ".web"))
    api = build_api()
    api.routes.append(get_frontend_mount())
    return api


def _client(app: Starlette) -> TestClient:
    return TestClient(AccessLogMiddleware(app), base_url="http://testserver")


def test_pages_and_assets_carry_the_content_security_policy(app) -> None:
    client = _client(app)
    page = client.get("/login")
    assert page.status_code == 200 and "<h1>Log in</h1>" in page.text
    asset = client.get("/assets/app.js")
    assert asset.status_code == 200
    for response in (page, asset, client.get("/healthz")):
        d = _directives(response)
        assert d["default-src"] == ["'self'"]
        # The build's own inline scripts, by hash (CRLF hashed as the browser reads it: LF).
        assert d["script-src"][0] == "'self'"
        assert sorted(s for s in d["script-src"] if s.startswith("'sha256-")) == sorted(
            [_hash(THEME), _hash(ROUTER)]
        )
        assert "'unsafe-inline'" not in d["script-src"] and "*" not in " ".join(d["script-src"])
        assert d["style-src"] == ["'self'", "'unsafe-inline'"]
        assert d["img-src"] == ["'self'", "data:"]
        assert d["font-src"] == ["'self'", "data:"]
        assert d["connect-src"] == ["'self'", "ws://testserver"]
        assert d["object-src"] == ["'none'"]
        assert d["base-uri"] == ["'self'"]
        assert d["frame-ancestors"] == ["'none'"]
        assert d["form-action"] == ["'self'"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_the_socket_source_follows_the_public_url(app, settings_env) -> None:
    settings_env(VOPIX_PUBLIC_URL="https://vopix.example")
    d = _directives(_client(app).get("/login"))
    assert d["connect-src"] == ["'self'", "wss://vopix.example"]


def test_workspace_downloads_keep_their_sandboxing_policy(app, make_user) -> None:
    user_id, _, _ = make_user()
    token, _ = sessions.start_session(user_id)
    store.write_text(user_id, "page.html", "<script>alert(1)</script>")
    response = _client(app).get(
        "/api/workspace/file", params={"path": "page.html"}, headers={"cookie": f"{sessions.COOKIE_NAME}={token}"}
    )
    assert response.status_code == 200
    assert response.headers.get_list("content-security-policy") == ["default-src 'none'; sandbox"]


def test_a_build_being_replaced_never_fails_a_request_nor_sticks(tmp_path: Path, monkeypatch) -> None:
    """A page that vanishes while the hashes are read (a rebuild) gives no inline script for
    that moment; the next read, with the build complete, has them all."""
    from vopix.api import csp

    build = tmp_path / "client"
    build.mkdir()
    (build / "index.html").write_text(PAGE, encoding="utf-8")
    real_read = Path.read_text

    def vanished(self: Path, *args, **kwargs) -> str:
        raise FileNotFoundError(str(self))

    monkeypatch.setattr(Path, "read_text", vanished)
    assert csp.script_hashes(build) == ()
    monkeypatch.setattr(Path, "read_text", real_read)
    assert set(csp.script_hashes(build)) == {_hash(THEME), _hash(ROUTER)}
