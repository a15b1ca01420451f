"""P20: served over https or with Redis set, VOPIX refuses to start on SQLite, saying why and
how to point it at PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from vopix.core.cluster import SQLiteInProduction, check_topology
from vopix.settings import get_settings


@pytest.mark.promise("P20")
@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"VOPIX_PUBLIC_URL": "https://vopix.example"}, "VOPIX_PUBLIC_URL is https"),
        ({"VOPIX_REDIS_URL": "redis://127.0.0.1:6379/0"}, "VOPIX_REDIS_URL is set"),
    ],
)
def test_production_on_sqlite_does_not_start(
    env: dict[str, str], why: str, settings_env: Callable[..., None], monkeypatch: pytest.MonkeyPatch,
    tmp_path,
) -> None:
    settings_env(VOPIX_DATABASE_URL=f"sqlite:///{tmp_path / 'vopix.db'}", **env)
    with pytest.raises(SQLiteInProduction) as refused:
        check_topology(get_settings())
    message = str(refused.value)
    assert why in message
    assert "VOPIX_DATABASE_URL=postgresql://" in message and "python -m vopix migrate" in message

    # The app itself: its start-up (the lifespan) stops with that message.
    monkeypatch.setenv("__REFLEX_SKIP_COMPILE", "true")
    monkeypatch.setenv("REFLEX_WEB_WORKDIR", str(tmp_path / "web"))
    monkeypatch.setenv("REFLEX_STATES_WORKDIR", str(tmp_path / "states"))
    from vopix.vopix import app

    with pytest.raises(SQLiteInProduction, match="will not start on SQLite"), TestClient(app()):
        pass


@pytest.mark.promise("P20")
def test_local_sqlite_and_production_postgresql_start(settings_env: Callable[..., None], tmp_path) -> None:
    settings_env(VOPIX_DATABASE_URL=f"sqlite:///{tmp_path / 'vopix.db'}", VOPIX_PUBLIC_URL="http://localhost:3000")
    check_topology(get_settings())  # a laptop: one process, SQLite, http
    settings_env(VOPIX_DATABASE_URL="postgresql://vopix@db:5432/vopix", VOPIX_PUBLIC_URL="https://vopix.example",
                 VOPIX_REDIS_URL="redis://127.0.0.1:6379/0")
    check_topology(get_settings())
