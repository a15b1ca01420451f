"""A mail's Message-ID comes from its outbox row, so the one duplicate SMTP cannot avoid (the
server took the mail, the worker died before recording it, the lease ran out and another
worker sent it again) reaches the receiver with the same Message-ID and is de-duplicated."""

from __future__ import annotations

import re

import pytest

from tests.fakes.smtp import FakeSMTP
from vopix.core.clock import utcnow
from vopix.core.kinds import MailKind, MailStatus
from vopix.core.mail import outbox, transport, worker
from vopix.db import session_scope
from vopix.models import MailOutbox

pytestmark = pytest.mark.asyncio


def _test_mail(to: str) -> int:
    return outbox.send_mail(to=to, kind=MailKind.TEST, template="test", public_url="http://testserver")


async def test_a_mail_sent_again_after_a_crash_carries_the_same_message_id(smtp: FakeSMTP) -> None:
    mail_id = _test_mail("ada@example.com")
    first = outbox.claim("worker-a")
    assert first is not None and first.id == mail_id
    await transport.deliver(first)  # the server has it; worker-a dies before mark_sent
    later = utcnow() + outbox.LEASE + outbox.LEASE
    again = outbox.claim("worker-b", now=later)  # the lease ran out: another worker resends
    assert again is not None and again.id == mail_id and again.attempts == 2
    delivered = await worker.send_one(again, "worker-b")
    assert delivered is not None

    got = smtp.wait_for(2)
    ids = {r.message["Message-ID"] for r in got}
    assert len(got) == 2 and len(ids) == 1  # two deliveries, one mail for the receiver
    [message_id] = ids
    assert re.fullmatch(rf"<outbox-{mail_id}-\d+@vopix\.test>", message_id)
    with session_scope() as s:
        row = s.get(MailOutbox, mail_id)
        assert row is not None and row.status == MailStatus.SENT and row.message_id == message_id


async def test_two_mails_to_the_same_person_have_different_message_ids(smtp: FakeSMTP) -> None:
    _test_mail("ada@example.com")
    _test_mail("ada@example.com")
    assert await worker.drain() == 2
    got = smtp.wait_for(2)
    assert len({r.message["Message-ID"] for r in got}) == 2
