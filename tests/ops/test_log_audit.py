"""The suite-wide log audit (tests/ops/log_audit.py) finds what it is there to find."""

from __future__ import annotations

import logging

from tests.ops import log_audit
from vopix.core import log_format


def _line(message: str) -> str:
    record = logging.getLogRecordFactory()("vopix.test", logging.WARNING, __file__, 1, message, None, None)
    return log_format.JsonFormatter().format(record)


def test_a_line_with_a_known_secret_or_a_credential_shape_is_reported() -> None:
    secrets = log_audit.known_secrets()
    assert "Tr0ub4dor&3-horse" in secrets and len(secrets) >= 8
    raw = [
        ("t::raw", '{"message": "password is Tr0ub4dor&3-horse"}'),
        ("t::cookie", '{"message": "Cookie: vopix_session=abcdefghijklmnop"}'),
        ("t::clean", '{"message": "turn done in 12 ms"}'),
        ("t::broken", "not json"),
    ]
    found = {test_id for test_id, _, _ in log_audit.leaks(raw, secrets)}
    assert found == {"t::raw", "t::cookie", "t::broken"}
    masked = next(line for test_id, _, line in log_audit.leaks(raw, secrets) if test_id == "t::raw")
    assert "Tr0ub4dor&3-horse" not in masked


def test_records_made_by_the_app_come_out_scrubbed() -> None:
    log_format.install()
    lines = [
        ("t", _line("login with password=Tr0ub4dor&3-horse")),
        ("t", _line("headers {'cookie': 'vopix_session=abcdefghijklmnop'}")),
        ("t", _line("Authorization: Bearer sk-test-abcdefghijklmnop1234")),
    ]
    assert log_audit.leaks(lines, log_audit.known_secrets()) == []
