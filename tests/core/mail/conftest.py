"""Mail tests talk to a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.smtp import FakeSMTP


@pytest.fixture
def smtp(settings_env) -> Iterator[FakeSMTP]:
    with FakeSMTP() as server:
        settings_env(
            VOPIX_SMTP_HOST="127.0.0.1", VOPIX_SMTP_PORT=str(server.port), VOPIX_SMTP_TLS="none",
            VOPIX_MAIL_FROM="VOPIX <no-reply@vopix.test>",
        )
        yield server
