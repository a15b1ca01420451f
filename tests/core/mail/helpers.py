"""Reading the links of queued mails, for tests that do not run an SMTP server."""

from __future__ import annotations

import re

from sqlmodel import col, select

from vopix.db import session_scope
from vopix.models import MailOutbox


def mailed_token(address: str, path: str) -> str:
    """The token of the newest queued mail to `address` whose link opens `path`."""
    with session_scope() as s:
        rows = s.exec(
            select(MailOutbox).where(MailOutbox.to_address == address).order_by(col(MailOutbox.id).desc())
        ).all()
    for row in rows:
        match = re.search(rf"{re.escape(path)}\?token=([A-Za-z0-9_-]+)", row.text_body)
        if match:
            return match.group(1)
    raise AssertionError(f"no queued mail to {address} with a {path} link")
