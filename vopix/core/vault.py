"""The credential vault: AES-256-GCM with a fresh nonce per encryption, associated data that
binds each ciphertext to its owner and record, and a key id stored beside it so keys rotate.

Keys come from VOPIX_VAULT_KEY ("<key id>:<base64 of 32 bytes>"); old keys that may still
decrypt stay in VOPIX_VAULT_OLD_KEYS (comma separated). For local development only, a key is
generated once into <data dir>/vault.key (mode 0600) with a warning.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session, select

from vopix.core.clock import utcnow
from vopix.db import session_scope
from vopix.models import Secret
from vopix.settings import get_settings

NONCE_BYTES = 12
KEY_FILE = "vault.key"


class VaultError(RuntimeError):
    """Raised without ever including key material or plaintext."""


@dataclass(frozen=True)
class Keyring:
    active_id: str
    keys: dict[str, bytes] = field(repr=False)  # never in logs or tracebacks

    def active(self) -> AESGCM:
        return AESGCM(self.keys[self.active_id])

    def for_id(self, key_id: str) -> AESGCM:
        if key_id not in self.keys:
            raise VaultError(f"vault key {key_id!r} is not configured (VOPIX_VAULT_OLD_KEYS?)")
        return AESGCM(self.keys[key_id])


def generate_key() -> str:
    """A new key in the VOPIX_VAULT_KEY format, with a key id from the date."""
    kid = utcnow().strftime("k%Y%m%d%H%M%S")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def parse_key(spec: str) -> tuple[str, bytes]:
    kid, sep, b64 = spec.strip().partition(":")
    if not sep or not kid or len(kid) > 32:
        raise VaultError("a vault key must look like '<key id>:<base64 of 32 bytes>'")
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise VaultError(f"vault key {kid!r} is not valid base64") from exc
    if len(raw) != 32:
        raise VaultError(f"vault key {kid!r} must be 32 bytes (AES-256), got {len(raw)}")
    return kid, raw


def _dev_key_file(data_dir: Path) -> str:
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    spec = generate_key()
    # Written whole under a temporary name, then linked in: a second worker starting at the
    # same moment either wins the link or reads the complete file, never half of it.
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(spec + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    print(
        f"WARNING: VOPIX_VAULT_KEY is not set; generated a development key in {path}. "
        "Set VOPIX_VAULT_KEY in production and keep it out of the database's backups.",
        file=sys.stderr,
    )
    return spec


@lru_cache(maxsize=4)
def _keyring(active_spec: str, old_specs: str) -> Keyring:
    kid, raw = parse_key(active_spec)
    keys = {kid: raw}
    for spec in filter(None, (p.strip() for p in old_specs.split(","))):
        old_id, old_raw = parse_key(spec)
        keys.setdefault(old_id, old_raw)
    return Keyring(kid, keys)


def keyring() -> Keyring:
    cfg = get_settings()
    spec = cfg.vault_key or _dev_key_file(cfg.data_dir)
    return _keyring(spec, cfg.vault_old_keys)


def _aad(user_id: int, secret_id: str, purpose: str) -> bytes:
    return f"vopix-vault/v1|user={user_id}|secret={secret_id}|purpose={purpose}".encode()


def encrypt(ring: Keyring, user_id: int, secret_id: str, purpose: str, plaintext: str) -> tuple[bytes, bytes]:
    nonce = os.urandom(NONCE_BYTES)
    ct = ring.active().encrypt(nonce, plaintext.encode("utf-8"), _aad(user_id, secret_id, purpose))
    return nonce, ct


def _decrypt_row(ring: Keyring, row: Secret) -> str:
    return _decrypt(ring, row.id, row.user_id, row.purpose, row.key_id, row.nonce, row.ciphertext)


def _decrypt(
    ring: Keyring, secret_id: str, user_id: int, purpose: str, key_id: str, nonce: bytes, ct: bytes
) -> str:
    try:
        raw = ring.for_id(key_id).decrypt(nonce, ct, _aad(user_id, secret_id, purpose))
    except VaultError:
        raise
    except Exception as exc:  # InvalidTag: tampered, moved to another owner or wrong key
        raise VaultError(f"secret {secret_id} failed authentication") from exc
    return raw.decode("utf-8")


def decrypt_fields(
    secret_id: str, user_id: int, purpose: str, key_id: str, nonce: bytes, ciphertext: bytes
) -> str:
    """Decrypt a secret from its columns, read by the caller in its own query."""
    return _decrypt(keyring(), secret_id, user_id, purpose, key_id, nonce, ciphertext)


def hint_of(plaintext: str) -> str:
    """The last 4 characters, the only part of a secret ever shown again."""
    return plaintext[-4:] if len(plaintext) >= 12 else ""


def put_secret(user_id: int, purpose: str, plaintext: str, *, secret_id: str | None = None) -> str:
    """Store (or replace) a secret; returns its id."""
    with session_scope() as s:
        return store_secret(s, user_id, purpose, plaintext, secret_id=secret_id)


def store_secret(
    s: Session, user_id: int, purpose: str, plaintext: str, *, secret_id: str | None = None
) -> str:
    """put_secret in the caller's transaction (a token pair replaced together, say)."""
    if not plaintext:
        raise VaultError("refusing to store an empty secret")
    ring = keyring()
    row = s.get(Secret, secret_id) if secret_id else None
    if row is not None and row.user_id != user_id:
        raise VaultError("secret not found")
    sid = secret_id or str(uuid.uuid4())
    nonce, ct = encrypt(ring, user_id, sid, purpose, plaintext)
    now = utcnow()
    if row is None:
        row = Secret(
            id=sid,
            user_id=user_id,
            purpose=purpose,
            created_at=now,
            key_id=ring.active_id,
            nonce=nonce,
            ciphertext=ct,
        )
    row.purpose, row.key_id, row.nonce, row.ciphertext = purpose, ring.active_id, nonce, ct
    row.hint, row.updated_at = hint_of(plaintext), now
    s.add(row)
    s.flush()  # before any row that points at it (the ORM does not know those foreign keys)
    return sid


def get_secret(user_id: int, secret_id: str) -> str:
    with session_scope() as s:
        return read_secret(s, user_id, secret_id)


def read_secret(s: Session, user_id: int, secret_id: str) -> str:
    """A secret's plaintext, in the caller's transaction; another person's is not found."""
    row = s.get(Secret, secret_id)
    if row is None or row.user_id != user_id:
        raise VaultError("secret not found")
    return _decrypt_row(keyring(), row)


def secret_hint(user_id: int, secret_id: str) -> str | None:
    with session_scope() as s:
        row = s.get(Secret, secret_id)
        return row.hint if row is not None and row.user_id == user_id else None


def delete_secret(user_id: int, secret_id: str) -> bool:
    with session_scope() as s:
        return remove_secret(s, user_id, secret_id)


def remove_secret(s: Session, user_id: int, secret_id: str) -> bool:
    """delete_secret in the caller's transaction."""
    row = s.get(Secret, secret_id)
    if row is None or row.user_id != user_id:
        return False
    s.delete(row)
    return True


def rotate_all(batch: int = 500) -> int:
    """Re-encrypt every secret not under the active key. Returns how many were re-encrypted."""
    ring = keyring()
    done = 0
    while True:
        with session_scope() as s:
            rows = s.exec(select(Secret).where(Secret.key_id != ring.active_id).limit(batch)).all()
            if not rows:
                return done
            for row in rows:
                plaintext = _decrypt_row(ring, row)
                row.nonce, row.ciphertext = encrypt(ring, row.user_id, row.id, row.purpose, plaintext)
                row.key_id = ring.active_id
                s.add(row)
            done += len(rows)
