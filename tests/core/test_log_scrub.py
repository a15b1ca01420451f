"""The log scrubber: no credential survives into a log line, and the rest of the line does."""

from __future__ import annotations

import io
import json
import logging
import secrets
import types

import pytest

from vopix.core import log_scrub, sessions
from vopix.core.log_scrub import REDACTED, scrub

pytestmark = pytest.mark.promise("P06")

TOKEN = secrets.token_urlsafe(32)  # the shape of a real session token


def test_a_reflex_event_repr_keeps_its_shape_but_no_credential() -> None:
    line = (
        "Error processing event queue entry for Event(name='reflex___state____state.gone', "
        "router_data={'pathname': '/chat', 'headers': {'host': 'vopix.example.com', "
        f"'cookie': 'theme=dark; {sessions.COOKIE_NAME}={TOKEN}', 'authorization': "
        "'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'user-agent': 'Firefox'}, "
        "'token': '0d4c2b8e-5f1a-4e57-9c39-0c1b3f0a9d11'}, payload={'form_data': "
        "{'current_password': 'hunter2 with spaces', 'email': 'a@example.com'}}) [txid=1]:"
    )
    clean = scrub(line)
    for secret in (TOKEN, "eyJhbGciOiJIUzI1NiJ9", "0d4c2b8e-5f1a", "hunter2"):
        assert secret not in clean
    for kept in ("reflex___state____state.gone", "'host': 'vopix.example.com'", "'user-agent': 'Firefox'",
                 "'email': 'a@example.com'", "[txid=1]"):
        assert kept in clean
    assert scrub(clean) == clean


def test_raw_http_headers() -> None:
    text = (
        f"Cookie: theme=dark; {sessions.COOKIE_NAME}={TOKEN}\r\n"
        f"Set-Cookie: {sessions.COOKIE_NAME}={TOKEN}; HttpOnly; SameSite=Lax; Path=/\r\n"
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345\r\n"
        "X-Telegram-Bot-Api-Secret-Token: tg-webhook-secret-value\r\n"
        "X-Hub-Signature-256: sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\r\n"
        "Stripe-Signature: t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd\r\n"
        "Host: vopix.example.com\r\n"
    )
    clean = scrub(text)
    for secret in (TOKEN, "abcdefghijklmnop", "tg-webhook-secret-value", "9f86d081884c7d65",
                   "1492774577", "5257a869e7ecebeda"):
        assert secret not in clean
    assert "Host: vopix.example.com" in clean
    assert clean.count(REDACTED) == 6


def test_a_cookie_pair_anywhere_and_the_scrape_of_asgi_headers() -> None:
    assert TOKEN not in scrub(f"refused {sessions.COOKIE_NAME}={TOKEN} from 203.0.113.9")
    assert "from 203.0.113.9" in scrub(f"refused {sessions.COOKIE_NAME}={TOKEN} from 203.0.113.9")
    scope = repr([(b"host", b"testserver"), (b"cookie", f"{sessions.COOKIE_NAME}={TOKEN}".encode())])
    assert TOKEN not in scrub(scope) and "b'testserver'" in scrub(scope)


def test_telegram_bot_token_in_a_url() -> None:
    line = ('HTTP Request: POST https://api.telegram.org/bot7123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0'
            '/sendMessage "HTTP/1.1 200 OK"')
    clean = scrub(line)
    assert "AAHfiqksKZ8WmR2zSjiQ7" not in clean and "7123456789" not in clean
    assert "https://api.telegram.org/bot<redacted>/sendMessage" in clean


def test_keys_in_json_and_dict_reprs_by_name_not_by_accident() -> None:
    body = json.dumps({
        "password": "pw-1", "newPassword": "pw-2", "api_key": "key-3", "access_token": "at-4",
        "refresh_token": "rt-5", "client_secret": "cs-6", "hub.verify_token": "vt-7",
        "max_tokens": 512, "input_tokens": 40, "passage": "kept", "name": "kept too",
    })
    clean = scrub(body)
    for secret in ("pw-1", "pw-2", "key-3", "at-4", "rt-5", "cs-6", "vt-7"):
        assert secret not in clean
    assert json.loads(clean)["max_tokens"] == 512 and json.loads(clean)["input_tokens"] == 40
    assert json.loads(clean)["passage"] == "kept" and json.loads(clean)["name"] == "kept too"
    assert json.loads(clean)["password"] == REDACTED  # still valid JSON
    as_repr = scrub(repr({"secret": "s-8", "token": 12345678, "tokens": 3}))
    assert "s-8" not in as_repr and "12345678" not in as_repr and "'tokens': 3" in as_repr
    escaped = scrub(json.dumps(json.dumps({"password": "pw-9"})))  # JSON inside a JSON string
    assert "pw-9" not in escaped


def test_query_strings_and_keyword_reprs() -> None:
    line = "GET /api/oauth/callback?state=s1&access_token=at-1&token=t-2&api_key=k-3&page=2 HTTP/1.1"
    clean = scrub(line)
    assert "at-1" not in clean and "t-2" not in clean and "k-3" not in clean
    assert "state=s1" in clean and "page=2 HTTP/1.1" in clean
    assert "pw-4" not in scrub("check_credentials(email='a@example.com', password='pw-4')")


@pytest.mark.parametrize(
    "key",
    [
        "sk-proj-4f9aQz1b2C3d4E5f6G7h8I9j0KlMnOpQ",  # OpenAI
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",  # Anthropic
        "sk_live_51HaBcDeFgHiJkLmNoPqRsTuV",  # Stripe
        "whsec_abcdefghijklmnopqrstuvwx",  # Stripe webhook secret
        "xoxb-123456789012-abcdefghijklmnop",  # Slack
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",  # GitHub
        "ya29.a0AfH6SMBxxxxxxxxxxxxxxxxxxxx",  # Google access token
        "postgresql+psycopg://vopix:pa55-word-9@db:5432/vopix",  # a password in a URL
    ],
)
def test_api_keys_by_their_shape(key: str) -> None:
    line = f"provider call failed with {key} (401)"
    clean = scrub(line)
    assert key not in clean and "(401)" in clean
    if "://" in key:
        assert "pa55-word-9" not in clean and "@db:5432/vopix" in clean


def test_the_vault_key_and_other_configured_secrets(settings_env) -> None:
    from vopix.core import vault

    key = vault.generate_key()
    settings_env(VOPIX_VAULT_KEY=key, VOPIX_TELEGRAM_WEBHOOK_SECRET="plain words secret")
    assert key.partition(":")[2] not in scrub(f"keyring loaded {key}")
    assert key.partition(":")[2] not in scrub(f"raw {key.partition(':')[2]}")
    # A configured secret is recognised as itself, with nothing around it to give it away.
    assert "plain words secret" not in scrub("webhook set up with plain words secret, ok")


def _capture(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(name)
    logger.handlers = [logging.StreamHandler(stream)]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_a_handler_added_after_install_still_gets_scrubbed_records() -> None:
    log_scrub.install()
    log_scrub.install()  # idempotent: one factory, one filter per handler
    assert getattr(logging.getLogRecordFactory(), "_vopix_scrub", False)
    logger, stream = _capture("vopix.tests.late_handler")
    logger.warning("event %s with headers %s", "x.y", {"cookie": f"{sessions.COOKIE_NAME}={TOKEN}"})
    assert TOKEN not in stream.getvalue() and "event x.y with headers" in stream.getvalue()


def test_argument_shape_is_kept_when_scrubbing_the_arguments_is_enough() -> None:
    # uvicorn's access formatter unpacks record.args; flattening them would break it.
    log_scrub.install()
    logger, stream = _capture("vopix.tests.access")
    seen: list[logging.LogRecord] = []
    logger.addFilter(lambda r: seen.append(r) or True)
    logger.info('%s - "%s %s HTTP/%s" %d', "203.0.113.9", "GET", "/api/x?token=abc123", "1.1", 200)
    (record,) = seen
    assert isinstance(record.args, tuple) and len(record.args) == 5 and record.args[4] == 200
    assert "abc123" not in stream.getvalue() and '"GET /api/x?token=<redacted> HTTP/1.1" 200' in stream.getvalue()


def test_a_traceback_that_holds_a_secret_is_scrubbed() -> None:
    log_scrub.install()
    logger, stream = _capture("vopix.tests.traceback")
    try:
        raise ValueError(f"bad cookie {sessions.COOKIE_NAME}={TOKEN}")
    except ValueError:
        logger.exception("request failed")
    out = stream.getvalue()
    assert TOKEN not in out and "request failed" in out and "ValueError: bad cookie" in out


def test_a_record_made_without_the_factory_is_scrubbed_by_the_handler_filter() -> None:
    log_scrub.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(log_scrub.ScrubFilter())
    handler.handle(logging.makeLogRecord({"msg": "from a queue: %s", "args": (f"Cookie: {TOKEN}",)}))
    assert TOKEN not in stream.getvalue() and "from a queue:" in stream.getvalue()


def test_print_functions_that_bypass_logging_are_wrapped() -> None:
    printed: list[str] = []
    module = types.ModuleType("fake_console")
    module.print = lambda msg, **kw: printed.append(msg)  # type: ignore[attr-defined]
    log_scrub.wrap_printers(module, "print", "missing")
    log_scrub.wrap_printers(module, "print")  # wrapped once
    module.print(f"[red]{sessions.COOKIE_NAME}={TOKEN}[/red]", style="x")
    assert printed == [f"[red]{sessions.COOKIE_NAME}={REDACTED}[/red]"]
