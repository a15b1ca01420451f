"""Unsubscribe links: they work without logging in, for as long as the mail sits in an inbox
(months), and name one person and one kind of optional mail.

A link's token is `<user id>.<kind>.<signature>`: the signature is HMAC-SHA256 over both,
under a key derived (HKDF) from the vault key, so nobody can make one for another person or
another kind, and nothing is stored per mail. It carries no email address (links are
forwarded, and land in logs of mail scanners). Tokens are checked against every vault key in
the keyring, so a key rotation leaves the links of mails already sent working for as long
as the old key stays in VOPIX_VAULT_OLD_KEYS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vopix.core import vault
from vopix.core.kinds import OPTIONAL_MAIL, MailKind
from vopix.core.mail import outbox

PATH = "/unsubscribe"
_HKDF_INFO = b"vopix/unsubscribe-link/v1"
_SHAPE = re.compile(r"([1-9][0-9]{0,17})\.([a-z_]{1,32})\.([A-Za-z0-9_-]{43})")


class BadLink(ValueError):
    """A token that is malformed, forged or altered; the message can be shown as it is."""


@dataclass(frozen=True)
class Target:
    user_id: int
    kind: MailKind


@lru_cache(maxsize=16)
def _link_key(vault_key: bytes) -> bytes:
    # A key of its own for links (never the vault's encryption key itself).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(vault_key)


def _signature(vault_key: bytes, user_id: int, kind: MailKind) -> str:
    mac = hmac.new(_link_key(vault_key), f"unsubscribe|{user_id}|{kind.value}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def _optional(kind: MailKind) -> MailKind:
    if kind not in OPTIONAL_MAIL:
        raise ValueError(f"{kind} mail cannot be unsubscribed from")
    return kind


def token_for(user_id: int, kind: MailKind) -> str:
    """The token of the person's link for `kind`, under the active vault key."""
    ring = vault.keyring()
    return f"{user_id}.{kind.value}.{_signature(ring.keys[ring.active_id], user_id, _optional(kind))}"


def url_for(user_id: int, kind: MailKind) -> str:
    """The absolute unsubscribe link (the mail's footer and its List-Unsubscribe header)."""
    return outbox.link(f"{PATH}?t={token_for(user_id, kind)}")


def read(token: str) -> Target:
    """Whom and what a token names; BadLink when it was not made by us."""
    found = _SHAPE.fullmatch(token or "")
    if found is None:
        raise BadLink("This unsubscribe link is incomplete or damaged.")
    user_id, kind_text, signature = int(found[1]), found[2], found[3]
    try:
        kind = _optional(MailKind(kind_text))
    except ValueError:
        raise BadLink("This unsubscribe link is incomplete or damaged.") from None
    given = signature.encode()
    ring = vault.keyring()
    # Every key is tried (no early exit on a match), each comparison in constant time.
    matched = False
    for raw in ring.keys.values():
        matched |= hmac.compare_digest(_signature(raw, user_id, kind).encode(), given)
    if not matched:
        raise BadLink("This unsubscribe link is not valid: it may have been altered.")
    return Target(user_id, kind)
