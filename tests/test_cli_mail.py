"""The operator's mail commands: `python -m vopix mail test --to ADDRESS` and `mail outbox`."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from tests.fakes.smtp import FakeSMTP
from vopix.cli import main
from vopix.core.mail import outbox


@pytest.fixture
def data_dir(settings_env, tmp_path: Path) -> Path:
    """No SMTP host (local use) and a data folder of this test's own, so the .eml files in
    its outbox are this test's only."""
    settings_env(VOPIX_SMTP_HOST="", VOPIX_DATA_DIR=str(tmp_path))
    return tmp_path


def test_without_an_smtp_host_the_test_mail_is_an_eml_file_and_the_command_says_where(
    data_dir: Path, capsys
) -> None:
    assert main(["mail", "test", "--to", "operator@example.com"]) == 0
    out = capsys.readouterr().out
    folder = data_dir / "outbox"
    assert "operator@example.com" in out and "sent" in out and str(folder) in out

    [path] = folder.glob("*.eml")
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "operator@example.com"
    assert msg["Subject"] == "VOPIX test mail"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "mail delivery works" in text and "mail delivery works" in html
    assert "List-Unsubscribe" not in msg  # a test mail is not an optional mail

    assert main(["mail", "outbox"]) == 0
    listing = capsys.readouterr().out
    assert f"1 .eml file in {folder}" in listing
    assert path.name in listing
    assert '"sent": 1' in listing


def test_mail_outbox_with_nothing_sent_says_so(data_dir: Path, capsys) -> None:
    assert main(["mail", "outbox"]) == 0
    out = capsys.readouterr().out
    assert f"0 .eml files in {data_dir / 'outbox'}" in out
    assert "queue: {}" in out


def test_with_an_smtp_host_the_test_mail_arrives_there(settings_env, tmp_path: Path, capsys) -> None:
    with FakeSMTP() as smtp:
        settings_env(
            VOPIX_DATA_DIR=str(tmp_path), VOPIX_SMTP_HOST="127.0.0.1", VOPIX_SMTP_PORT=str(smtp.port),
            VOPIX_SMTP_TLS="none", VOPIX_MAIL_FROM="VOPIX <no-reply@vopix.test>",
        )
        assert main(["mail", "test", "--to", "operator@example.com"]) == 0
        out = capsys.readouterr().out
        [mail] = smtp.wait_for(1)
    assert "sent" in out and "SMTP 127.0.0.1" in out
    assert mail.rcpt_tos == ["operator@example.com"]
    assert mail.message["Subject"] == "VOPIX test mail"
    assert mail.message["From"] == "VOPIX <no-reply@vopix.test>"
    assert "mail delivery works" in mail.text and "mail delivery works" in mail.html
    assert not (tmp_path / "outbox").exists()  # no .eml when an SMTP host is set


def test_a_refused_recipient_exits_1_with_the_reason_and_mail_outbox_lists_it(
    settings_env, tmp_path: Path, capsys
) -> None:
    with FakeSMTP() as smtp:
        smtp.handler.refuse["nobody@example.com"] = "550 5.1.1 No such user"
        settings_env(
            VOPIX_DATA_DIR=str(tmp_path), VOPIX_SMTP_HOST="127.0.0.1", VOPIX_SMTP_PORT=str(smtp.port),
            VOPIX_SMTP_TLS="none",
        )
        assert main(["mail", "test", "--to", "nobody@example.com"]) == 1
        out = capsys.readouterr().out
        assert "failed" in out and "550" in out
        assert main(["mail", "outbox"]) == 0
        listing = capsys.readouterr().out
    assert smtp.received == []
    assert '"failed": 1' in listing
    assert "failed #" in listing and "nobody@example.com" in listing and "550" in listing


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("not an address", "one plain email address"),
        ("operator@localhost", "does not look like an email address"),
        ("two@at@example.com", "one plain email address"),
        ("Operator <operator@example.com>", "one plain email address"),
        ("operator@example.com\r\nBcc: victim@example.net", "line break"),
        ("x" * 250 + "@example.com", "longer than 254 characters"),
    ],
)
def test_a_malformed_address_exits_1_with_a_clear_message_and_queues_nothing(
    data_dir: Path, address: str, says: str, capsys
) -> None:
    assert main(["mail", "test", "--to", address]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and says in captured.err
    assert "Traceback" not in captured.err
    assert outbox.list_outbox() == []
    assert not (data_dir / "outbox").exists()
