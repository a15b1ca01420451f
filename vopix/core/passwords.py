"""Password rules and bcrypt hashing."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import bcrypt

from vopix.settings import get_settings

MIN_LENGTH = 10
MAX_BYTES = 72  # bcrypt reads no further; bcrypt 5 raises beyond it, so we refuse first.

# The most common passwords of at least 10 characters (public breach corpora).
COMMON_PASSWORDS = frozenset(
    """
    1234567890 0123456789 12345678910 1111111111 0000000000 1234567891 9876543210
    qwertyuiop password123 password12 password1234 passwordpassword iloveyou123
    qwerty12345 qwerty123456 1q2w3e4r5t 1q2w3e4r5t6y asdfghjkl; asdfghjkl1 zaq12wsxcde
    abcdefghij abc1234567 aaaaaaaaaa letmein123 welcome123 admin12345 administrator
    changeme123 football123 baseball123 princess123 sunshine123 superman123 trustno1234
    michael123 dragon1234 monkey1234 master1234 starwars123 whatever123 q1w2e3r4t5
    q1w2e3r4t5y6 1qaz2wsx3edc qazwsxedcrfv passw0rd123 p@ssw0rd123 p@ssword123
    123qweasdzxc 987654321a a123456789 123456789a 1234567890a 1234567890q
    """.split()
)


class PasswordRejected(ValueError):
    """A password that breaks a rule; the message is shown to the person."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_LENGTH} characters.")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise PasswordRejected(
            f"Use at most {MAX_BYTES} bytes (about {MAX_BYTES} plain letters; accents and emoji take more)."
        )
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        raise PasswordRejected("That password is too common. Choose one that is harder to guess.")


def bcrypt_rounds() -> int:
    # 12 in production; the test suite lowers it (VOPIX_BCRYPT_ROUNDS=4) to stay fast.
    return get_settings().bcrypt_rounds


def hash_password(password: str) -> str:
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(bcrypt_rounds())).decode("ascii")


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    """A real hash of a throwaway string, so an unknown email costs the same bcrypt work."""
    return bcrypt.hashpw(b"vopix-no-such-user", bcrypt.gensalt(rounds))


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-work check: unknown users and over-long inputs still pay for one bcrypt."""
    raw = password.encode("utf-8")
    too_long = len(raw) > MAX_BYTES
    target = password_hash.encode("ascii") if password_hash else _dummy_hash(bcrypt_rounds())
    candidate = raw[:MAX_BYTES] if not too_long else hashlib.sha256(raw).hexdigest().encode()
    ok = bcrypt.checkpw(candidate, target)
    return bool(ok and password_hash and not too_long)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
