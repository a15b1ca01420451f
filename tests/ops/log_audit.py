"""A suite-wide check (issue 17): every log line the whole test run writes, formatted as the app
formats it with VOPIX_LOG_FORMAT=json, holds no cookie, token, key or password.

Loaded for every test session (tests/conftest.py: pytest_plugins). A handler on the root logger
formats each record that reaches it with the app's JsonFormatter, after the app's scrubbing (the
record factory of vopix/core/log_scrub.py, installed here as the app installs it). At the end of
the session the captured lines are searched for the credentials the suite itself uses (the test
vault key, the fakes' bot tokens, API keys and webhook secrets, the test password, the provider
key) and for anything the scrubber would still redact (a cookie, a Bearer token, a key by its
shape). A line that holds one fails the session and is reported with the test that wrote it
(the credential itself masked).

What reaches the root logger is what the levels let through: warnings and errors everywhere, and
everything in the tests that raise a level (caplog.set_level), as in production.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest

MAX_LINES = 200_000
KNOWN_PASSWORDS = ("Tr0ub4dor&3-horse",)  # the make_user fixture's default
PROVIDER_KEYS = ("sk-test-abcdefghijklmnop1234",)  # the agent_user fixture's key


class _AuditHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []  # (test id, JSON line)
        self.test_id = "(collection)"
        self.dropped = 0
        from vopix.core.log_format import JsonFormatter
        from vopix.core.log_scrub import ScrubFilter

        self.setFormatter(JsonFormatter())
        self.addFilter(ScrubFilter())  # as on the app's handlers: records made without the factory

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.lines) >= MAX_LINES:
            self.dropped += 1
            return
        try:
            self.lines.append((self.test_id, self.format(record)))
        except Exception:  # a record that cannot be formatted is the app's formatter's problem
            self.dropped += 1


_handler: _AuditHandler | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _handler
    from vopix.core import log_format

    log_format.install()  # the record stamp and the scrubber, as every entry point installs them
    _handler = _AuditHandler()
    logging.getLogger().addHandler(_handler)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Any:
    if _handler is not None:
        _handler.test_id = item.nodeid
        root = logging.getLogger()
        if _handler not in root.handlers:  # a test (or Reflex's log set-up) reset the handlers
            root.addHandler(_handler)
    yield


def known_secrets() -> list[str]:
    """The credentials this suite hands to the app, longest first."""
    from tests.channels import conftest as channels
    from tests.fakes import stripe, telegram_api, whatsapp_api

    found = {
        os.environ.get("VOPIX_VAULT_KEY", "").partition(":")[2],
        channels.TELEGRAM_SECRET, channels.WHATSAPP_APP_SECRET, channels.WHATSAPP_VERIFY_TOKEN,
        telegram_api.DEFAULT_TOKEN, telegram_api.DEFAULT_TOKEN.partition(":")[2],
        stripe.DEFAULT_API_KEY, stripe.DEFAULT_WEBHOOK_SECRET, whatsapp_api.DEFAULT_ACCESS_TOKEN,
        *KNOWN_PASSWORDS, *PROVIDER_KEYS,
    }
    return sorted((s for s in found if len(s) >= 8), key=len, reverse=True)


def leaks(lines: list[tuple[str, str]], secrets: list[str]) -> list[tuple[str, str, str]]:
    """(test id, why, masked line) for each line holding a credential."""
    from vopix.core.log_scrub import scrub

    out: list[tuple[str, str, str]] = []
    for test_id, line in lines:
        why = next((f"known secret {s[:3]}…" for s in secrets if s in line), None)
        if why is None:
            try:
                obj = json.loads(line)
            except ValueError:
                out.append((test_id, "not one JSON object", line[:200]))
                continue
            for field in ("message", "exc", "stack"):
                text = obj.get(field)
                if isinstance(text, str) and scrub(text) != text:
                    why = f"the scrubber would still redact something in {field}"
                    break
        if why is not None:
            masked = line
            for s in secrets:
                masked = masked.replace(s, s[:3] + "…")
            out.append((test_id, why, masked[:300]))
    return out


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _handler is None:
        return
    logging.getLogger().removeHandler(_handler)
    found = leaks(_handler.lines, known_secrets())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"log audit: {len(_handler.lines)} JSON log lines checked for credentials, "
            f"{len(found)} found"
        )
    if found:
        if reporter is not None:
            for test_id, why, line in found[:20]:
                reporter.write_line(f"  LEAK in {test_id}: {why}: {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
