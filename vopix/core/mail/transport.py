"""Handing a mail to SMTP (aiosmtplib: a maintained asyncio client, so sending never blocks
the event loop), or, with no SMTP host set (local use), writing it as an .eml file into the
data folder's outbox."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from vopix.core.mail.addresses import header_text
from vopix.core.mail.outbox import Claimed
from vopix.settings import get_settings

log = logging.getLogger("vopix.mail")
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Delivered:
    message_id: str
    where: str  # "smtp" or the .eml file's path


class SendFailed(Exception):
    """`permanent`: the server refused for good (5xx: unknown recipient, refused sender);
    otherwise (down, slow, 4xx) the mail is tried again later."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


def outbox_dir() -> Path:
    return get_settings().data_dir / "outbox"


def message_id_for(mail: Claimed, domain: str) -> str:
    """The same Message-ID for every attempt at one outbox row: a resend after a crash (the
    server took the mail, the worker died before recording it) is one mail to the receiver,
    which de-duplicates by Message-ID. The row's creation time keeps ids apart across
    databases that reuse row ids (a restored backup, a fresh install on the same domain)."""
    if mail.created_at is None:  # a mail built outside the outbox (benchmarks)
        return make_msgid(idstring=f"mail{mail.id}", domain=domain)
    created = mail.created_at if mail.created_at.tzinfo else mail.created_at.replace(tzinfo=UTC)
    return f"<outbox-{mail.id}-{int(created.timestamp() * 1_000_000)}@{domain}>"


def build_message(mail: Claimed) -> EmailMessage:
    cfg = get_settings()
    msg = EmailMessage()
    msg["From"] = cfg.mail_from
    msg["To"] = mail.to_address
    msg["Subject"] = header_text(mail.subject)
    msg["Date"] = formatdate(localtime=False)
    domain = cfg.mail_from.rsplit("@", 1)[-1].strip(">") or "vopix.local"
    msg["Message-ID"] = message_id_for(mail, domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    if mail.unsubscribe_url:
        # RFC 8058 one-click unsubscribe (mail clients POST to the URL).
        msg["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(mail.text_body)
    msg.add_alternative(mail.html_body, subtype="html")
    return msg


async def deliver(mail: Claimed) -> Delivered:
    msg = build_message(mail)
    cfg = get_settings()
    if not cfg.smtp_host:
        path = await asyncio.to_thread(_write_eml, mail.id, msg)
        log.info("no VOPIX_SMTP_HOST: mail %s written to %s", mail.id, path)
        return Delivered(str(msg["Message-ID"]), str(path))
    tls = cfg.smtp_tls
    try:
        await aiosmtplib.send(
            msg,
            hostname=cfg.smtp_host,
            port=cfg.smtp_port,
            username=cfg.smtp_username or None,
            password=cfg.smtp_password or None,
            use_tls=tls == "tls",
            start_tls=tls == "starttls",
            timeout=TIMEOUT_SECONDS,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        raise SendFailed(f"recipient refused ({codes})", permanent=all(c >= 500 for c in codes)) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendFailed(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
    return Delivered(str(msg["Message-ID"]), "smtp")


def _write_eml(mail_id: int, msg: EmailMessage) -> Path:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9@._-]", "_", str(msg["To"]))[:80]
    path = folder / f"{mail_id:08d}-{safe}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(msg))
    tmp.replace(path)  # whole files only
    return path
