"""Test set-up: a real database per run (SQLite or PostgreSQL), migrated with alembic, and
emptied after every test so each test starts from nothing.

VOPIX_TEST_DB=sqlite (default) or postgres chooses the pass; VOPIX_TEST_PG_URL points at the
PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

# Every JSON log line of the run is checked for credentials at the end (issue 17).
pytest_plugins = ["tests.ops.log_audit"]

_TMP = Path(tempfile.mkdtemp(prefix="vopix-test-"))
TEST_DB = os.environ.get("VOPIX_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("VOPIX_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_DB_NAME = f"vopix_test_{os.getpid()}"

# Settings are read from the environment: set them before anything imports vopix.
os.environ.update(
    {
        "VOPIX_DATA_DIR": str(_TMP / "data"),
        "VOPIX_BCRYPT_ROUNDS": "4",
        "VOPIX_VAULT_KEY": "test1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "VOPIX_VAULT_OLD_KEYS": "",
        "VOPIX_PUBLIC_URL": "http://testserver",
        "VOPIX_RUN_SCHEDULER": "0",
        # The fake providers listen on 127.0.0.1; test_egress.py turns this off again.
        "VOPIX_ALLOW_PRIVATE_PROVIDER_URLS": "1",
    }
)
for _name in (
    "VOPIX_DEFAULT_PROVIDER",
    "VOPIX_DEFAULT_API_KEY",
    "VOPIX_DEFAULT_BASE_URL",
    "VOPIX_DEFAULT_MODEL",
    "VOPIX_REDIS_URL",
):
    os.environ.pop(_name, None)


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


if TEST_DB == "postgres":
    _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{PG_DB_NAME}"')
    os.environ["VOPIX_DATABASE_URL"] = _pg_url(PG_DB_NAME).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
else:
    os.environ["VOPIX_DATABASE_URL"] = f"sqlite:///{_TMP / 'data' / 'vopix.db'}"


def pytest_report_header(config: pytest.Config) -> str:
    return f"vopix test database: {TEST_DB} ({os.environ['VOPIX_DATABASE_URL'].split('@')[-1]})"


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[str]:
    from vopix import db, platform
    from vopix.settings import reload_settings

    reload_settings()
    platform.install()  # as every entry point does: tools, prompt sections, hooks, jobs
    db.migrate()
    _snapshot_seeds()
    yield os.environ["VOPIX_DATABASE_URL"]
    db.dispose_engines()
    if TEST_DB == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}" WITH (FORCE)')


# Reference data seeded by migrations (plans): restored, not emptied, after each test.
SEEDED_TABLES = ("plan",)
_seed_rows: dict[str, list[dict]] = {}


def _snapshot_seeds() -> None:
    from sqlalchemy import text

    from vopix import db

    with db.get_engine().connect() as conn:
        for table in SEEDED_TABLES:
            _seed_rows[table] = [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{table}"'))]


def _empty_all_tables() -> None:
    from sqlalchemy import text

    from vopix import db
    from vopix.models import metadata

    engine = db.get_engine()
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        # Everything else first: users point at their plan, so the plans go back last.
        tables = [t for t in tables if t not in SEEDED_TABLES]
        # DELETE, children first, on both databases: on PostgreSQL a TRUNCATE of ~40 tables
        # costs about 2 s (new files for every table), a DELETE of the few rows a test leaves
        # about 20 ms. Ids go on counting, as in production (a test must not rely on id 1).
        for t in tables:
            conn.execute(text(f'DELETE FROM "{t}"'))
        for table, rows in _seed_rows.items():
            conn.execute(text(f'DELETE FROM "{table}"'))
            if rows:
                conn.execute(metadata.tables[table].insert(), rows)


@pytest.fixture(autouse=True)
def clean_database(migrated_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from vopix.settings import reload_settings

    reload_settings()
    yield
    monkeypatch.undo()
    reload_settings()
    _empty_all_tables()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch):
    """Change settings for one test: settings_env(VOPIX_X="1")."""
    from vopix.settings import reload_settings

    def apply(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        reload_settings()

    return apply


STRIPE_PRICES = {
    "price_pro": {"unit_amount": 1200, "currency": "eur", "product_name": "Pro"},
    "price_team": {"unit_amount": 3900, "currency": "eur", "product_name": "Team"},
}


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run, for the browser and the cluster tests alike: a second
    sync Playwright started while the first runs leaves an event loop marked running in the
    main thread, and every asyncio test after it fails."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def github_fake(settings_env):
    """A fake of github.com and api.github.com (tests/fakes/github.py), VOPIX's GitHub OAuth app
    registered with it."""
    from tests.fakes.github import FakeGitHub

    with FakeGitHub() as fake:
        settings_env(
            VOPIX_GITHUB_CLIENT_ID=fake.client_id, VOPIX_GITHUB_CLIENT_SECRET=fake.client_secret,
            VOPIX_GITHUB_BASE_URL=fake.url, VOPIX_GITHUB_API_BASE_URL=fake.url,
        )
        yield fake


@pytest.fixture
def stripe_fake(settings_env):
    """A stateful fake Stripe (tests/fakes/stripe.py) that the real SDK talks to, and VOPIX set
    up to bill through it: Pro and Team priced, the webhook secret shared."""
    from tests.fakes.stripe import FakeStripeAPI

    with FakeStripeAPI(prices=STRIPE_PRICES) as fake:
        settings_env(
            VOPIX_STRIPE_SECRET_KEY=fake.api_key,
            VOPIX_STRIPE_WEBHOOK_SECRET=fake.webhook_secret,
            VOPIX_STRIPE_API_BASE_URL=fake.url,
            VOPIX_STRIPE_PRICES="pro=price_pro,team=price_team",
        )
        yield fake


@pytest.fixture
def make_user():
    """Create an account; returns (user_id, email, password)."""
    from vopix.core import accounts

    counter = {"n": 0}

    def create(email: str | None = None, password: str = "Tr0ub4dor&3-horse") -> tuple[int, str, str]:
        counter["n"] += 1
        address = email or f"user{counter['n']}-{secrets.token_hex(3)}@example.com"
        user = accounts.sign_up(address, password, age_confirmed=True)
        return user.id, user.email, password

    return create


class SessionsClock:
    """A stopped clock for login sessions: `.now` is what they see, `.advance(hours=1)` moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def rotate_token(token: str) -> str:
    """Rotate a login's refresh token now (as a page load's refresh does); the new token."""
    from vopix.core import sessions

    result = sessions.refresh(token)
    assert result is not None and result.new_token is not None
    return result.new_token


@pytest.fixture
def sessions_clock(monkeypatch: pytest.MonkeyPatch) -> SessionsClock:
    """Login sessions (expiry, rotation grace) run on this clock for one test."""
    from vopix.core import sessions
    from vopix.core.clock import utcnow

    clock = SessionsClock(utcnow())
    monkeypatch.setattr(sessions, "utcnow", clock)
    return clock


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: sync Playwright keeps an event loop running in the main thread
    for the rest of the session, which asyncio tests after it would trip over."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))
