"""A database outage answers 503 + Retry-After with a short plain body (issue 15, fault 3);
a statement that is simply wrong still answers 500."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.fakes.telegram_updates import make_text_update
from vopix.api.app import build_api
from vopix.api.middleware import AccessLogMiddleware

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "outage-test-secret"


@pytest.fixture
def post_update(settings_env):
    settings_env(VOPIX_TELEGRAM_BOT_TOKEN="123:outage", VOPIX_TELEGRAM_WEBHOOK_SECRET=SECRET)
    client = TestClient(AccessLogMiddleware(build_api()), raise_server_exceptions=False)

    def post(update_id: int = 5001):
        return client.post("/api/telegram/webhook", json=make_text_update(update_id, 77, "hello"),
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})

    return post


def _assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert "retry" in body.lower() and len(body) < 200
    for leak in ("Traceback", "psycopg", "sqlalchemy", "127.0.0.1", "OperationalError", "vopix.db"):
        assert leak not in body


def test_webhook_answers_503_with_retry_after_when_postgresql_is_unreachable(post_update, settings_env) -> None:
    settings_env(VOPIX_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/unreachable")
    _assert_unavailable(post_update())


def test_webhook_answers_503_when_the_sqlite_file_cannot_be_opened(post_update, settings_env, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder-not-a-file"
    folder.mkdir()
    settings_env(VOPIX_DATABASE_URL=f"sqlite:///{folder}")
    _assert_unavailable(post_update())


def test_a_wrong_statement_is_still_a_500_not_an_outage(post_update, settings_env, tmp_path: Path) -> None:
    settings_env(VOPIX_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    response = post_update()
    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert "Traceback" not in response.text


def test_with_the_database_up_the_webhook_is_acknowledged(post_update) -> None:
    assert post_update(5002).status_code == 200
