"""Browser tests: the real app (reflex run --env prod) driven by Debian's Chromium."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("VOPIX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


AT_HOME = re.compile(r"^https?://[^/]+/?$")
AT_LOGIN = re.compile(r"/login/?$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


BROWSER_TELEGRAM_SECRET = "browser-telegram-secret_42"
BROWSER_WHATSAPP_APP_SECRET = "browser-whatsapp-app-secret"


@pytest.fixture(scope="session")
def channel_fakes() -> Iterator[dict]:
    """Loopback fakes of the Telegram Bot API and the WhatsApp Graph API for the app server."""
    from tests.fakes.telegram_api import FakeTelegramAPI
    from tests.fakes.whatsapp_api import FakeWhatsAppAPI

    with FakeTelegramAPI() as telegram, FakeWhatsAppAPI() as whatsapp:
        yield {"telegram": telegram, "whatsapp": whatsapp}


@pytest.fixture(scope="session")
def smtp():
    """A real SMTP server (aiosmtpd) on a loopback port: every mail the app sends lands here."""
    from tests.fakes.smtp import FakeSMTP

    with FakeSMTP() as server:
        yield server


@pytest.fixture(scope="session")
def server_env(channel_fakes: dict, smtp) -> dict[str, str]:
    """Extra environment for the app server; browser test modules may extend it. The chat
    channels and mail always point at the session's loopback fakes."""
    telegram, whatsapp = channel_fakes["telegram"], channel_fakes["whatsapp"]
    return {
        "VOPIX_SMTP_HOST": "127.0.0.1",
        "VOPIX_SMTP_PORT": str(smtp.port),
        "VOPIX_SMTP_TLS": "none",
        "VOPIX_MAIL_FROM": "VOPIX <no-reply@vopix.test>",
        "VOPIX_TELEGRAM_BOT_TOKEN": telegram.token,
        "VOPIX_TELEGRAM_WEBHOOK_SECRET": BROWSER_TELEGRAM_SECRET,
        "VOPIX_TELEGRAM_BOT_USERNAME": telegram.bot_user["username"],
        "VOPIX_TELEGRAM_API_BASE_URL": telegram.url,
        "VOPIX_WHATSAPP_ACCESS_TOKEN": whatsapp.access_token,
        "VOPIX_WHATSAPP_PHONE_NUMBER_ID": whatsapp.phone_number_id,
        "VOPIX_WHATSAPP_NUMBER": "+1 555 000 9999",
        "VOPIX_WHATSAPP_APP_SECRET": BROWSER_WHATSAPP_APP_SECRET,
        "VOPIX_WHATSAPP_VERIFY_TOKEN": "browser-verify-token",
        "VOPIX_WHATSAPP_TEMPLATE_NAME": "vopix_reply_waiting",
        "VOPIX_WHATSAPP_API_BASE_URL": whatsapp.url,
    }


@pytest.fixture(scope="session")
def app_url(migrated_database: str, server_env: dict[str, str], tmp_path_factory) -> Iterator[str]:
    port = free_port()
    url = f"http://localhost:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "VOPIX_PUBLIC_URL": url,
        "VOPIX_DATABASE_URL": migrated_database,
        "VOPIX_RUN_SCHEDULER": "0",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "PATH": f"{REPO / 'toolchain/node_modules/.bin'}:{REPO / '.venv/bin'}:{os.environ['PATH']}",
        **server_env,
    }
    log_path = tmp_path_factory.mktemp("server") / "reflex.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/reflex"), "run", "--env", "prod", "--single-port", "--loglevel", "warning"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited early:\n{log_path.read_text()[-4000:]}")
            try:
                if (
                    httpx.get(f"{url}/healthz", timeout=2).status_code == 200
                    and httpx.get(f"{url}/login", timeout=5, follow_redirects=True).status_code == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except Exception:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, app_url: str):
    ctx = browser.new_context(base_url=app_url)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


def sign_up(page, email: str, password: str = "purple-otter-42-sings") -> None:
    """Fill the sign-up form as a person would and land on the home page."""
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("I confirm that I am 16 or older").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(AT_HOME, timeout=20_000)
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
