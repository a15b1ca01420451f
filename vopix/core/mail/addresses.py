"""Checking addresses and header text before they go anywhere near a mail header."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.utils import parseaddr

MAX_ADDRESS = 254  # RFC 5321 path limit
MAX_SUBJECT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


class BadAddress(ValueError):
    pass


def header_text(value: str, limit: int = MAX_SUBJECT) -> str:
    """Text safe in a header: CR, LF and other controls (header injection) become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def checked_address(raw: str) -> str:
    """A single plain address (local@domain) or BadAddress with a message saying why."""
    value = raw.strip()
    if not value:
        raise BadAddress("An email address is needed.")
    if len(value) > MAX_ADDRESS:
        raise BadAddress(f"That email address is longer than {MAX_ADDRESS} characters.")
    if _CONTROL.search(value):
        raise BadAddress("That email address contains a line break or a control character.")
    name, addr = parseaddr(value)
    if name or addr != value or value.count("@") != 1:
        raise BadAddress("Give one plain email address, like name@example.com.")
    local, domain = value.rsplit("@", 1)
    if not local or "." not in domain.strip(".") or len(local) > 64 or " " in value:
        raise BadAddress("That does not look like an email address.")
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError) as exc:
        raise BadAddress("That does not look like an email address.") from exc
    return value
