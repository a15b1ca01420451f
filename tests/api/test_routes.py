"""HTTP routes without Reflex: health, the session cookie, security headers and the access log."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
from sqlmodel import col, select

from vopix.api.app import build_api
from vopix.api.middleware import AccessLogMiddleware
from vopix.core import access_log, accounts, sessions
from vopix.db import session_scope
from vopix.models import AccessLog, AuthSession

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

COOKIE = sessions.COOKIE_NAME
CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")


@pytest.fixture
def client() -> TestClient:
    access_log.writer.flush()  # entries queued by earlier tests stay out of this one
    with session_scope() as s:
        for row in s.exec(select(AccessLog)).all():
            s.delete(row)
    app = AccessLogMiddleware(build_api())
    return TestClient(app, base_url="http://testserver")


def _set_cookies(response) -> list[str]:
    return response.headers.get_list("set-cookie")


def _cookie_attrs(header: str) -> tuple[str, str, dict[str, str]]:
    first, *attrs = [p.strip() for p in header.split(";")]
    name, _, value = first.partition("=")
    parsed = {}
    for a in attrs:
        k, _, v = a.partition("=")
        parsed[k.lower()] = v
    return name, value, parsed


def _login(client: TestClient, user_id: int, **headers: str):
    nonce = accounts.issue_login_nonce(user_id)
    return client.post("/api/auth/session", json={"nonce": nonce}, headers=headers)


def _token_of(response) -> str:
    (header,) = _set_cookies(response)
    name, value, _ = _cookie_attrs(header)
    assert name == COOKIE
    return value


def _post_with_cookie(client: TestClient, path: str, token: str):
    client.cookies.clear()
    return client.post(path, headers={"cookie": f"{COOKIE}={token}"})


def _session_count() -> int:
    with session_scope() as s:
        return len(s.exec(select(AuthSession)).all())


def test_healthz_reports_a_reachable_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "reachable"
    assert _set_cookies(response) == []  # no cookie of any kind without a login (P32)


def test_healthz_is_503_when_the_database_is_unreachable(client, settings_env) -> None:
    settings_env(VOPIX_DATABASE_URL="postgresql://nobody@127.0.0.1:1/unreachable")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "unreachable"}


def test_healthz_503_when_ping_fails(client, monkeypatch) -> None:
    monkeypatch.setattr("vopix.db.ping", lambda: False)
    assert client.get("/healthz").status_code == 503


@pytest.mark.promise("P32")
def test_login_sets_one_httponly_lax_host_only_cookie(client, make_user) -> None:
    user_id, _, _ = make_user()
    response = _login(client, user_id, **{"user-agent": CHROME})
    assert response.status_code == 200
    cookies = _set_cookies(response)
    assert len(cookies) == 1
    name, token, attrs = _cookie_attrs(cookies[0])
    assert name == COOKIE and token
    assert "httponly" in attrs
    assert attrs["samesite"].lower() == "lax"
    assert attrs["path"] == "/"
    assert "domain" not in attrs  # host-only
    assert "secure" not in attrs  # plain http in this test
    assert int(attrs["max-age"]) == 30 * 86400
    assert response.headers["cache-control"] == "no-store"
    info = sessions.resolve(token)
    assert info is not None and info.user_id == user_id
    (row,) = sessions.list_sessions(user_id, info.session_id)
    assert (row.device, row.ip) == ("Chrome on Linux", "testclient")


@pytest.mark.promise("P15")
@pytest.mark.promise("P32")
def test_https_deployment_sets_secure_cookie_and_hsts(client, make_user, settings_env) -> None:
    settings_env(VOPIX_PUBLIC_URL="https://vopix.example")
    user_id, _, _ = make_user()
    response = _login(client, user_id, origin="https://vopix.example")
    assert response.status_code == 200
    _, _, attrs = _cookie_attrs(_set_cookies(response)[0])
    assert "secure" in attrs and "httponly" in attrs
    hsts = response.headers["strict-transport-security"]
    assert "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000
    assert "strict-transport-security" in client.get("/healthz").headers
    logout = client.post("/api/auth/logout", headers={"cookie": f"{COOKIE}=x"})
    assert "secure" in _cookie_attrs(_set_cookies(logout)[0])[2]


@pytest.mark.promise("P15")
def test_no_hsts_over_plain_http(client) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers


def test_reused_nonce_is_refused(client, make_user) -> None:
    user_id, _, _ = make_user()
    nonce = accounts.issue_login_nonce(user_id)
    assert client.post("/api/auth/session", json={"nonce": nonce}).status_code == 200
    client.cookies.clear()
    again = client.post("/api/auth/session", json={"nonce": nonce})
    assert again.status_code == 401
    assert _set_cookies(again) == []
    assert client.post("/api/auth/session", json={"nonce": "made-up"}).status_code == 401
    assert _session_count() == 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"nonce"', b"null", b"\xff\xfe"])
def test_malformed_body_is_400(client, body: bytes) -> None:
    response = client.post("/api/auth/session", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert _set_cookies(response) == []


def test_an_oversized_login_body_is_refused_unread(client, make_user) -> None:
    """Anyone can POST here (non-browser clients pass the same-origin check): a body far over
    what a nonce needs is refused by its size, not buffered and parsed."""
    user_id, _, _ = make_user()
    nonce = accounts.issue_login_nonce(user_id)
    padded = b'{"nonce": "' + nonce.encode() + b'"}' + b" " * (5 * 1024 * 1024)
    response = client.post("/api/auth/session", content=padded, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert _set_cookies(response) == [] and _session_count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},
        {"origin": "null"},
    ],
)
def test_cross_site_login_is_refused_without_a_cookie(client, make_user, headers) -> None:
    user_id, _, _ = make_user()
    response = _login(client, user_id, **headers)
    assert response.status_code == 403
    assert _set_cookies(response) == []
    assert _session_count() == 0


def test_same_origin_browser_login_is_accepted(client, make_user) -> None:
    user_id, _, _ = make_user()
    response = _login(client, user_id, origin="http://testserver", **{"sec-fetch-site": "same-origin"})
    assert response.status_code == 200


def test_cross_site_refresh_and_logout_are_refused(client, make_user) -> None:
    user_id, _, _ = make_user()
    token = _token_of(_login(client, user_id))
    for path in ("/api/auth/refresh", "/api/auth/logout"):
        response = client.post(path, headers={"origin": "https://evil.example"})
        assert response.status_code == 403
        assert _set_cookies(response) == []
    assert sessions.resolve(token).user_id == user_id  # not logged out by another site


@pytest.mark.promise("P32")
def test_refresh_rotates_the_cookie_and_replay_revokes_the_session(client, make_user, settings_env, sessions_clock) -> None:
    settings_env(VOPIX_TOKEN_ROTATE_SECONDS="0")
    user_id, _, _ = make_user()
    old = _token_of(_login(client, user_id))
    refreshed = client.post("/api/auth/refresh")
    assert refreshed.status_code == 200 and refreshed.json()["rotated"] is True
    new = _token_of(refreshed)
    assert new != old
    assert client.cookies.get(COOKIE) == new
    assert sessions.resolve(new).user_id == user_id

    sessions_clock.now += timedelta(seconds=31)  # past the reuse grace
    replay = _post_with_cookie(client, "/api/auth/refresh", old)
    assert replay.status_code == 401
    name, value, attrs = _cookie_attrs(_set_cookies(replay)[0])
    assert name == COOKIE and value in ("", '""') and attrs["max-age"] == "0"
    assert _post_with_cookie(client, "/api/auth/refresh", new).status_code == 401
    with session_scope() as s:
        (row,) = s.exec(select(AuthSession)).all()
    assert row.revoked_reason == "token_reuse"


def test_refresh_without_rotation_keeps_the_cookie(client, make_user) -> None:
    user_id, _, _ = make_user()
    _login(client, user_id)
    response = client.post("/api/auth/refresh")
    assert response.status_code == 200 and response.json() == {"ok": True, "rotated": False}
    assert _set_cookies(response) == []


def test_refresh_without_a_cookie_is_401_and_sets_nothing(client) -> None:
    response = client.post("/api/auth/refresh")
    assert response.status_code == 401
    assert _set_cookies(response) == []


def test_logout_revokes_the_session_and_clears_the_cookie(client, make_user) -> None:
    user_id, _, _ = make_user()
    token = _token_of(_login(client, user_id))
    response = client.post("/api/auth/logout")
    assert response.status_code == 200
    _, value, attrs = _cookie_attrs(_set_cookies(response)[0])
    assert value in ("", '""') and attrs["max-age"] == "0" and "httponly" in attrs
    assert COOKIE not in client.cookies
    assert sessions.resolve(token) is None
    with session_scope() as s:
        (row,) = s.exec(select(AuthSession)).all()
    assert row.revoked_reason == "logout"
    assert _post_with_cookie(client, "/api/auth/refresh", token).status_code == 401


def _log_rows() -> list[AccessLog]:
    access_log.writer.flush()
    with session_scope() as s:
        return list(s.exec(select(AccessLog).order_by(col(AccessLog.id))).all())


@pytest.mark.promise("P09")
def test_access_log_records_requests_with_ip_and_user(client, make_user) -> None:
    user_id, _, _ = make_user()
    token = _token_of(_login(client, user_id))
    client.get("/healthz")
    client.get("/no-such-page")
    client.cookies.clear()
    client.get("/healthz", headers={"x-forwarded-for": "203.0.113.50"})  # proxy not trusted
    rows = [(r.method, r.path, r.status, r.ip, r.user_id) for r in _log_rows()]
    assert rows == [
        ("POST", "/api/auth/session", 200, "testclient", None),
        ("GET", "/healthz", 200, "testclient", user_id),
        ("GET", "/no-such-page", 404, "testclient", user_id),
        ("GET", "/healthz", 200, "testclient", None),
    ]
    assert token


@pytest.mark.promise("P09")
def test_access_log_uses_forwarded_ip_only_behind_a_trusted_proxy(client, settings_env) -> None:
    settings_env(VOPIX_TRUST_PROXY="1")
    client.get("/healthz", headers={"x-forwarded-for": "203.0.113.50, 10.0.0.1"})
    assert [r.ip for r in _log_rows()] == ["203.0.113.50"]


@pytest.mark.promise("P09")
@pytest.mark.promise("P32")
def test_access_log_never_records_query_strings_or_cookies(client, make_user) -> None:
    user_id, _, _ = make_user()
    token = _token_of(_login(client, user_id))
    client.get("/healthz?code=SECRET-OAUTH-CODE-123&state=xyz")
    rows = _log_rows()
    assert rows[-1].path == "/healthz" and rows[-1].user_id == user_id
    dump = " ".join(str(v) for r in rows for v in r.model_dump().values())
    assert "SECRET-OAUTH-CODE" not in dump and "state=" not in dump and "?" not in dump
    assert token not in dump and COOKIE not in dump


def test_security_headers_on_every_response(client) -> None:
    for response in (client.get("/healthz"), client.get("/missing"),
                     client.post("/api/auth/session", content=b"{")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
