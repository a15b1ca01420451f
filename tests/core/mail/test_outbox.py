"""The outbox: mail written with its event, sent once by any number of workers, retried while
the server is down or slow, given up (and kept for operators) when it is refused."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading

import pytest
from sqlmodel import select

from tests.fakes.smtp import FakeSMTP
from vopix.core.kinds import MailKind, MailStatus
from vopix.core.mail import outbox, transport, worker
from vopix.core.mail.addresses import BadAddress
from vopix.db import session_scope
from vopix.models import MailOutbox

pytestmark = pytest.mark.asyncio


def _rows() -> list[MailOutbox]:
    with session_scope() as s:
        return list(s.exec(select(MailOutbox).order_by(MailOutbox.id)))


def _test_mail(to: str = "ada@example.com", **kw: str) -> int:
    return outbox.send_mail(to=to, kind=MailKind.TEST, template="test", public_url="http://testserver", **kw)


async def test_a_queued_mail_arrives_once_with_both_parts_and_its_headers(smtp: FakeSMTP) -> None:
    _test_mail()
    assert await worker.drain() == 1
    [got] = smtp.wait_for(1)
    assert got.rcpt_tos == ["ada@example.com"] and got.mail_from == "no-reply@vopix.test"
    assert got.message["Subject"] == "VOPIX test mail"
    assert got.message["From"] == "VOPIX <no-reply@vopix.test>"
    assert got.message["Message-ID"].endswith("@vopix.test>")
    assert got.message["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in got.message  # service mail: nothing to unsubscribe from
    assert "mail delivery works" in got.text and "<p>If you can read it" in got.html
    [row] = _rows()
    assert (row.status, row.attempts, row.text_body, row.html_body) == (MailStatus.SENT, 1, "", "")
    assert await worker.drain() == 0  # never twice


async def test_mail_of_a_rolled_back_event_is_never_sent(smtp: FakeSMTP) -> None:
    with pytest.raises(RuntimeError), session_scope() as s:
        outbox.enqueue(s, to="ada@example.com", kind=MailKind.TEST, template="test", public_url="x")
        raise RuntimeError("the event failed")
    assert await worker.drain() == 0 and _rows() == [] and smtp.received == []


async def test_two_workers_send_each_mail_once(smtp: FakeSMTP) -> None:
    for i in range(20):
        _test_mail(f"person{i}@example.com")
    counts = await asyncio.gather(worker.drain("worker-a"), worker.drain("worker-b"))
    assert sum(counts) == 20
    got = smtp.wait_for(20)
    assert sorted(r.rcpt_tos[0] for r in got) == sorted(f"person{i}@example.com" for i in range(20))
    assert {r.status for r in _rows()} == {MailStatus.SENT}


async def test_an_smtp_server_that_is_down_means_retries_then_a_recorded_failure(settings_env) -> None:
    from tests.fakes.smtp import _free_port

    settings_env(VOPIX_SMTP_HOST="127.0.0.1", VOPIX_SMTP_PORT=str(_free_port()), VOPIX_SMTP_TLS="none")
    _test_mail()
    assert await worker.drain() == 1
    [row] = _rows()
    assert (row.status, row.attempts) == (MailStatus.PENDING, 1)
    assert row.next_attempt_at > row.created_at  # after the back-off, not at once
    assert "Error" in row.last_error and "ada@example.com" not in row.last_error
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        with session_scope() as s:  # time passes: the back-off is over
            r = s.get(MailOutbox, row.id)
            r.next_attempt_at = r.created_at
            s.add(r)
        await worker.drain()
    [row] = _rows()
    assert (row.status, row.attempts, row.text_body) == (MailStatus.FAILED, outbox.MAX_ATTEMPTS, "")
    assert outbox.backlog() == {"failed": 1}


async def test_a_refused_recipient_fails_at_once_a_busy_mailbox_is_retried(smtp: FakeSMTP) -> None:
    smtp.handler.refuse["nobody@example.com"] = "550 5.1.1 No such user"
    smtp.handler.refuse["full@example.com"] = "452 4.2.2 Mailbox full"
    _test_mail("nobody@example.com")
    _test_mail("full@example.com")
    await worker.drain()
    refused, busy = _rows()
    assert (refused.status, refused.attempts) == (MailStatus.FAILED, 1)
    assert "550" in refused.last_error
    assert (busy.status, busy.attempts) == (MailStatus.PENDING, 1)


async def test_a_server_that_stalls_is_given_up_on_for_now_and_retried(smtp: FakeSMTP, monkeypatch) -> None:
    monkeypatch.setattr(transport, "TIMEOUT_SECONDS", 0.5)
    smtp.handler.stall_seconds = 3
    _test_mail()
    await worker.drain()
    [row] = _rows()
    assert (row.status, row.attempts) == (MailStatus.PENDING, 1)
    assert "Timeout" in row.last_error or "timed out" in row.last_error.lower()


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("", "needed"),
        ("not-an-address", "plain email address"),
        ("ada@example.com\r\nBcc: eve@example.com", "line break"),
        ("Ada <ada@example.com>", "plain email address"),
        ("a" * 250 + "@example.com", "longer than 254"),
        ("ada@localhost", "does not look like"),
        ("two@@example.com", "plain email address"),
    ],
)
async def test_bad_addresses_are_refused_with_a_reason_and_nothing_is_queued(address: str, why: str) -> None:
    with pytest.raises(BadAddress, match=why):
        _test_mail(address)
    assert _rows() == []


async def test_line_breaks_in_a_subject_cannot_add_headers(smtp: FakeSMTP) -> None:
    outbox.send_mail(
        to="ada@example.com", kind=MailKind.SECURITY, template="security_alert",
        what="sign-in\r\nBcc: eve@example.com", what_sentence="x", when="now", device="d", ip="i",
        action_url="http://testserver/x",
    )
    await worker.drain()
    [got] = smtp.wait_for(1)
    assert got.message["Subject"] == "VOPIX security alert: sign-in Bcc: eve@example.com"
    assert "Bcc" not in got.message and got.rcpt_tos == ["ada@example.com"]


async def test_optional_mail_carries_one_click_unsubscribe_headers(smtp: FakeSMTP) -> None:
    outbox.send_mail(
        to="ada@example.com", kind=MailKind.QUOTA, template="quota_warning", headline="80% used",
        plan="Free", action_url="http://testserver/usage",
        unsubscribe_url="http://testserver/api/mail/unsubscribe?t=abc",
    )
    await worker.drain()
    [got] = smtp.wait_for(1)
    assert got.message["List-Unsubscribe"] == "<http://testserver/api/mail/unsubscribe?t=abc>"
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Unsubscribe: http://testserver/api/mail/unsubscribe?t=abc" in got.text


async def test_without_an_smtp_host_mail_is_written_as_an_eml_file(settings_env, tmp_path) -> None:
    settings_env(VOPIX_SMTP_HOST="", VOPIX_DATA_DIR=str(tmp_path))
    mail_id = _test_mail()
    await worker.drain()
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    assert path.name.startswith(f"{mail_id:08d}-")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ada@example.com" and message["Subject"] == "VOPIX test mail"
    assert _rows()[0].status == MailStatus.SENT


async def test_the_running_worker_sends_new_mail_at_once(smtp: FakeSMTP) -> None:
    task = asyncio.create_task(worker.run(idle_poll=60))
    try:
        await asyncio.sleep(0.1)  # idle, waiting a minute for work
        thread = threading.Thread(target=_test_mail)  # queued from a request's worker thread
        thread.start()
        thread.join()
        for _ in range(100):
            if smtp.received:
                break
            await asyncio.sleep(0.05)
        assert [r.rcpt_tos for r in smtp.received] == [["ada@example.com"]]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.promise("P13")
async def test_optional_mail_without_an_unsubscribe_link_is_refused() -> None:
    for kind in (MailKind.QUOTA, MailKind.PRODUCT_NEWS):
        with pytest.raises(ValueError, match="unsubscribe"):
            outbox.send_mail(to="ada@example.com", kind=kind, template="test", public_url="x")
    assert _rows() == []


async def test_the_cli_test_mail_goes_alone_and_a_passing_database_error_does_not_resend(
    smtp: FakeSMTP, monkeypatch
) -> None:
    waiting = _test_mail("waiting@example.com")
    test_mail = _test_mail("operator@example.com")
    assert (await worker.send_now(test_mail)) is not None
    assert [r.rcpt_tos for r in smtp.wait_for(1)] == [["operator@example.com"]]
    assert {r.id: r.status for r in _rows()} == {waiting: MailStatus.PENDING, test_mail: MailStatus.SENT}

    real_mark_sent, fails = outbox.mark_sent, {"left": 2}

    def flaky_mark_sent(*args, **kwargs):
        if fails["left"]:
            fails["left"] -= 1
            raise OSError("database connection reset")
        return real_mark_sent(*args, **kwargs)

    monkeypatch.setattr(outbox, "mark_sent", flaky_mark_sent)
    monkeypatch.setattr(asyncio, "sleep", _no_wait)
    await worker.drain()
    assert {r.id: r.status for r in _rows()} == {waiting: MailStatus.SENT, test_mail: MailStatus.SENT}
    assert len(smtp.wait_for(2)) == 2


_real_sleep = asyncio.sleep


async def _no_wait(seconds: float, *args: object) -> None:
    await _real_sleep(0)
