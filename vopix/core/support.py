"""Where people can write for help: one sentence, or none when no address is set.

Text that tells people to contact support must give them a way to do so, so every mention goes
through here and disappears when VOPIX_SUPPORT_EMAIL is empty.
"""

from __future__ import annotations

from vopix.settings import get_settings


def support_email() -> str:
    return get_settings().support_email.strip()


def contact_sentence() -> str:
    """' For help, write to <address>.' (leading space, to append), or '' without an address."""
    address = support_email()
    return f" For help, write to {address}." if address else ""
