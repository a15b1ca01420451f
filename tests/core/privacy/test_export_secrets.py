"""No secret in any file of an export: the bytes of the whole ZIP, every member uncompressed,
are searched for the tokens, the provider key, the password hash, the vault's ciphertexts and
nonces, the key hint, the refresh-token and link hashes."""

from __future__ import annotations

import base64

import pytest
from sqlmodel import select

from tests.core.privacy.export_helpers import (
    GITHUB_REFRESH,
    GITHUB_TOKEN,
    PROVIDER_KEY,
    no_export_files,
    read_zip,
    run_export,
    seed_account,
)
from vopix.core import sessions
from vopix.core.privacy import export
from vopix.db import session_scope
from vopix.models import ActionToken, RefreshToken, Secret, User

__all__ = ["no_export_files"]


def _needles(user_id: int, extra: list[str]) -> list[bytes]:
    needles = [s.encode() for s in extra]
    with session_scope() as s:
        user = s.get(User, user_id)
        assert user is not None
        needles.append(user.password_hash.encode())
        secrets = s.exec(select(Secret).where(Secret.user_id == user_id)).all()
        assert len(secrets) >= 3  # the provider key, the GitHub access and refresh tokens
        for row in secrets:
            for blob in (row.ciphertext, row.nonce):
                needles += [blob, base64.b64encode(blob), blob.hex().encode()]
            if row.hint:
                needles.append(row.hint.encode())
        needles += [r.token_hash.encode() for r in s.exec(select(RefreshToken)).all()]
        needles += [r.token_hash.encode() for r in s.exec(select(ActionToken)).all()]
    return [n for n in needles if len(n) >= 4]


@pytest.mark.promise("P28")
@pytest.mark.promise("P06")
def test_no_token_key_hash_or_ciphertext_is_in_any_file(make_user) -> None:
    user_id, email, _ = make_user()
    seed_account(user_id, email)
    cookie_token, _ = sessions.start_session(user_id, ip="198.51.100.7", user_agent="Firefox")
    _, path = run_export(user_id)
    raw = path.read_bytes()
    files = read_zip(path)
    assert len(files) > 10
    needles = _needles(user_id, [PROVIDER_KEY, GITHUB_TOKEN, GITHUB_REFRESH, cookie_token,
                                 PROVIDER_KEY[-4:] + "\"", "sk-export"])
    for needle in needles:
        assert needle not in raw, needle
        for name, data in files.items():
            assert needle not in data, (name, needle)
    # ...while what is not secret is there: the export is not empty by accident.
    everything = b"".join(files.values())
    assert b"octocat" in everything and b"198.51.100.7" in everything


def test_an_agents_base_url_loses_any_credential_in_it() -> None:
    assert export.acc._public_url("https://user:pa55@llm.example.com:8443/v1?key=abc") == (
        "https://llm.example.com:8443/v1")
    assert export.acc._public_url("") == ""
