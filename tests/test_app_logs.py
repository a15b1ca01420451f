"""The real app, driven through its socket: an event naming a handler that does not exist makes
Reflex log the whole event with its headers; the log must not give the session cookie away."""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import warnings
from collections.abc import Iterator

import pytest

from vopix.core import sessions

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NAMESPACE = "/_event"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[TestClient]:
    # Pages evaluated for the backend only; Reflex's build folders kept out of the shared tree.
    monkeypatch.setenv("__REFLEX_SKIP_COMPILE", "true")
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(tmp_path / "web"))
    monkeypatch.setenv("REFLEX_STATES_WORKDIR", str(tmp_path / "states"))
    from vopix.vopix import app

    with TestClient(app(), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def reflex_console() -> Iterator[logging.Logger]:
    """Reflex's own console sink, as under `reflex run` (it stops propagation to the root)."""
    from reflex_base.utils import log as reflex_log

    reflex_log.configure()
    try:
        yield logging.getLogger("reflex")
    finally:
        reflex_log._reset()


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the event was not processed in time"
        time.sleep(0.05)


@pytest.mark.promise("P06")
def test_an_unknown_event_is_logged_without_the_cookie_or_any_credential(
    client: TestClient, reflex_console: logging.Logger, make_user, caplog, capfd
) -> None:
    user_id, _, password = make_user()
    token, _ = sessions.start_session(user_id)
    bearer = secrets.token_urlsafe(24)
    client_token = secrets.token_hex(16)
    caplog.set_level(logging.INFO)
    reflex_console.addHandler(caplog.handler)  # what Reflex's console sink gets, caplog sees
    try:
        with client.websocket_connect(
            f"{NAMESPACE}/?EIO=4&transport=websocket&token={client_token}",
            headers={
                "cookie": f"theme=dark; {sessions.COOKIE_NAME}={token}",
                "authorization": f"Bearer {bearer}",
                "origin": "http://testserver",
                "upgrade": "websocket",
                "connection": "Upgrade",
            },
        ) as ws:
            assert ws.receive_text().startswith("0")  # engine.io open
            ws.send_text(f"40{NAMESPACE},")
            assert ws.receive_text().startswith(f"40{NAMESPACE},")  # socket.io connected
            event = {
                # A frontend from another deploy names a handler this backend does not have.
                "name": "reflex___state____state.vopix___state___account____account_state.gone",
                "payload": {"form": {"password": password}},
                "router_data": {"pathname": "/account", "query": {}},
            }
            ws.send_text(f"42{NAMESPACE}," + json.dumps(["event", event]))
            _wait_for(lambda: "No registered handler" in caplog.text)
    finally:
        reflex_console.removeHandler(caplog.handler)
    out, err = capfd.readouterr()
    console = re.sub(r"\s", "", out + err)  # Rich wraps long lines, possibly inside a token
    assert "gone" in caplog.text and "Errorprocessingevent" in console  # both sinks wrote it
    assert "'host': 'testserver'" in caplog.text  # the event is still there to debug
    for secret in (token, bearer, client_token, password):
        assert secret not in caplog.text
        assert secret not in console
