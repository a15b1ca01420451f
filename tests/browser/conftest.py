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
from typing import TYPE_CHECKING

import httpx
import pytest
from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from tests.browser._stripe_relay import WebhookRelay
    from tests.fakes.github import FakeGitHub
    from tests.fakes.stripe import FakeStripeAPI

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("VOPIX_CHROMIUM", "/usr/bin/chromium")
TASK_CLOCK_FILE = Path(f"/tmp/vopix-task-clock-{os.getpid()}")  # seconds the task workers run ahead
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


# A loaded CI machine (two database passes, other builds) can take more than Playwright's 5 s
# default for a state round trip; a passing check returns as soon as it holds, so only a failure
# waits the longer time.
expect.set_options(timeout=15_000)

# Every page.goto and page.reload waits until the app is live on the page it lands on (its
# outer element's data-live="1", vopix/components/ui.py live_marker): on a loaded machine a
# click on the prerendered page before the app boots does nothing, and typing may be wiped.
# `live=False` skips the wait (a context without scripts never gets live).
_LIVE = "() => { const el = document.querySelector('[data-live]'); return !el || el.dataset.live === '1'; }"
_goto, _reload = Page.goto, Page.reload


def _goto_live(self: Page, url: str, *args, live: bool = True, **kwargs):
    response = _goto(self, url, *args, **kwargs)
    if live:
        self.wait_for_function(_LIVE)
    return response


def _reload_live(self: Page, *args, live: bool = True, **kwargs):
    response = _reload(self, *args, **kwargs)
    if live:
        self.wait_for_function(_LIVE)
    return response


Page.goto, Page.reload = _goto_live, _reload_live  # type: ignore[method-assign]

AT_HOME = re.compile(r"^https?://[^/]+/chat/?$")  # where a logged-in person starts
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


# What the browser tests' Stripe sells: Pro and Team, monthly, in euros.
STRIPE_PRICES = {
    "price_pro": {"unit_amount": 1200, "currency": "eur", "product_name": "Pro"},
    "price_team": {"unit_amount": 3900, "currency": "eur", "product_name": "Team"},
}


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripeAPI]:
    """A stateful fake of Stripe on a loopback port (API, Checkout, portal, hosted invoices)
    that the app server bills through: billing is on for every browser test."""
    from tests.fakes.stripe import FakeStripeAPI

    with FakeStripeAPI(prices=STRIPE_PRICES) as fake:
        yield fake


@pytest.fixture(scope="session")
def webhook_relay(app_url: str) -> Iterator[WebhookRelay]:
    """Forwards the fake's signed events, in order and asynchronously as Stripe does, to the
    running app's webhook; `delivered()` waits for them and gives the app's answers."""
    from tests.browser._stripe_relay import WebhookRelay

    with WebhookRelay(f"{app_url}/api/stripe/webhook") as relay:
        yield relay


@pytest.fixture(scope="session")
def stripe_webhooks(fake_stripe: FakeStripeAPI, webhook_relay: WebhookRelay) -> Iterator[FakeStripeAPI]:
    """The fake Stripe, now sending every new event, signed, towards the running app's webhook
    (through `webhook_relay`)."""
    fake_stripe.deliver_to(webhook_relay.url)
    yield fake_stripe
    fake_stripe.deliver_to(None)


BROWSER_GITHUB_REPO = "octocat/hello"  # the repository the fake GitHub's octocat owns


@pytest.fixture(scope="session")
def fake_github() -> Iterator[FakeGitHub]:
    """A fake of github.com (OAuth app consent) and api.github.com on a loopback port, with an
    OAuth app set up: the app server's GitHub integration signs in through it. Whoever clicks
    "Authorize" there is its "octocat", who owns BROWSER_GITHUB_REPO."""
    from tests.fakes.github import FakeGitHub

    with FakeGitHub() as fake:
        fake.add_repo(BROWSER_GITHUB_REPO, issues=[{"title": "Crash on start", "labels": ["bug"]}])
        yield fake


@pytest.fixture(scope="session")
def server_env(
    channel_fakes: dict, smtp, fake_stripe: FakeStripeAPI, fake_github: FakeGitHub
) -> dict[str, str]:
    """Extra environment for the app server; browser test modules may extend it. The chat
    channels, mail, Stripe and GitHub always point at the session's loopback fakes."""
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
        "VOPIX_STRIPE_SECRET_KEY": fake_stripe.api_key,
        "VOPIX_STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
        "VOPIX_STRIPE_API_BASE_URL": fake_stripe.url,
        "VOPIX_STRIPE_PRICES": "pro=price_pro,team=price_team",
        "VOPIX_GITHUB_CLIENT_ID": fake_github.client_id,
        "VOPIX_GITHUB_CLIENT_SECRET": fake_github.client_secret,
        "VOPIX_GITHUB_BASE_URL": fake_github.url,
        "VOPIX_GITHUB_API_BASE_URL": fake_github.url,
        "VOPIX_TASK_CLOCK_FILE": str(TASK_CLOCK_FILE),  # test_tasks.py moves the task workers' clock
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
    # Live once its submit button is (disabled until the app has booted): what is typed into
    # the prerendered page before that may be wiped when the app boots.
    expect(page.get_by_role("button", name="Create account")).to_be_enabled()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("I confirm that I am 16 or older").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(AT_HOME, timeout=20_000)
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(email)


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    expect(page.get_by_role("button", name="Log in")).to_be_enabled()  # the app is live (sign_up)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture(scope="module")
def provider():
    """A scripted fake AI provider for one test module (tests/fakes/ai_provider.py)."""
    from tests.fakes.ai_provider import FakeAIProvider

    with FakeAIProvider() as fake:
        yield fake


def point_agent_at(page, provider) -> None:
    """Save an OpenAI-compatible provider pointing at the fake, as a person would."""
    page.goto("/settings")
    form = page.get_by_role("form", name="AI provider")
    form.get_by_label("Provider").select_option(label="OpenAI-compatible")
    form.get_by_label("Model").fill("fake-model")
    form.get_by_label("Base URL (optional)").fill(provider.openai_base_url)
    form.get_by_label("API key").fill("sk-browser-test-key-5678")
    form.get_by_role("button", name="Save provider").click()
    expect(page.get_by_text("AI provider saved: OpenAI-compatible.")).to_be_visible()
