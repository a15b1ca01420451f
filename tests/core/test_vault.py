"""The credential vault: AES-256-GCM, bound to owner and record, with rotating keys."""

from __future__ import annotations

import base64
import os
import secrets
import stat

import pytest
from sqlalchemy import text
from sqlmodel import select

from vopix.cli import main
from vopix.core import vault
from vopix.core.vault import VaultError
from vopix.db import session_scope
from vopix.models import Secret, metadata
from vopix.settings import get_settings

PLAINTEXT = "sk-live-THIS-IS-A-VERY-SECRET-API-KEY-4242"


def _key(kid: str) -> tuple[str, bytes]:
    raw = secrets.token_bytes(32)
    return f"{kid}:{base64.b64encode(raw).decode()}", raw


@pytest.fixture(autouse=True)
def fresh_keyring():
    vault._keyring.cache_clear()
    yield
    vault._keyring.cache_clear()


def _row(secret_id: str) -> Secret:
    with session_scope() as s:
        row = s.get(Secret, secret_id)
        assert row is not None
        return row


def _raw_database_values() -> list[bytes]:
    """Every stored value of every table, as bytes, read past the ORM."""
    values: list[bytes] = []
    with session_scope() as s:
        for table in metadata.sorted_tables:
            for row in s.connection().execute(text(f'SELECT * FROM "{table.name}"')):
                for v in row:
                    if isinstance(v, memoryview):
                        v = v.tobytes()
                    values.append(v if isinstance(v, bytes) else str(v).encode())
    return values


def _assert_reveals_nothing(message: str, *secret_texts: str) -> None:
    for value in secret_texts:
        assert value not in message


@pytest.mark.promise("P05")
def test_round_trip_and_hint(make_user) -> None:
    user_id, _, _ = make_user()
    sid = vault.put_secret(user_id, "openai", PLAINTEXT)
    assert vault.get_secret(user_id, sid) == PLAINTEXT
    assert vault.secret_hint(user_id, sid) == "4242"
    assert vault.put_secret(user_id, "openai", "a-new-value-9999", secret_id=sid) == sid
    assert vault.get_secret(user_id, sid) == "a-new-value-9999"
    assert vault.delete_secret(user_id, sid) is True
    with pytest.raises(VaultError, match="not found"):
        vault.get_secret(user_id, sid)


def test_empty_secret_is_refused(make_user) -> None:
    user_id, _, _ = make_user()
    with pytest.raises(VaultError, match="empty"):
        vault.put_secret(user_id, "openai", "")


@pytest.mark.promise("P05")
@pytest.mark.promise("P06")
def test_plaintext_is_never_stored(make_user) -> None:
    user_id, _, _ = make_user()
    sid = vault.put_secret(user_id, "github", PLAINTEXT)
    row = _row(sid)
    assert row.key_id == "test1"
    assert len(row.ciphertext) == len(PLAINTEXT.encode()) + 16  # GCM tag
    blob = b"\n".join(_raw_database_values())
    assert PLAINTEXT.encode() not in blob
    assert PLAINTEXT[:12].encode() not in blob  # not even a prefix
    assert base64.b64encode(PLAINTEXT.encode()) not in blob
    assert PLAINTEXT.encode().hex().encode() not in blob.lower()


@pytest.mark.promise("P05")
def test_fresh_nonce_for_every_encryption(make_user) -> None:
    user_id, _, _ = make_user()
    a = _row(vault.put_secret(user_id, "slack", PLAINTEXT))
    b = _row(vault.put_secret(user_id, "slack", PLAINTEXT))
    assert len(a.nonce) == len(b.nonce) == vault.NONCE_BYTES == 12
    assert a.nonce != b.nonce
    assert a.ciphertext != b.ciphertext
    vault.put_secret(user_id, "slack", PLAINTEXT, secret_id=a.id)  # re-store the same value
    again = _row(a.id)
    assert again.nonce not in (a.nonce, b.nonce)
    assert again.ciphertext != a.ciphertext


def _copy_ciphertext(src: str, dst: str) -> None:
    with session_scope() as s:
        source, target = s.get(Secret, src), s.get(Secret, dst)
        target.nonce, target.ciphertext, target.key_id = source.nonce, source.ciphertext, source.key_id
        s.add(target)


@pytest.mark.promise("P05")
@pytest.mark.promise("P19")
def test_ciphertext_moved_to_another_user_fails_to_decrypt(make_user) -> None:
    alice, _, _ = make_user()
    mallory, _, _ = make_user()
    alice_sid = vault.put_secret(alice, "gmail", PLAINTEXT)
    mallory_sid = vault.put_secret(mallory, "gmail", "mallorys-own-token-0000")
    _copy_ciphertext(alice_sid, mallory_sid)
    with pytest.raises(VaultError, match="failed authentication") as err:
        vault.get_secret(mallory, mallory_sid)
    _assert_reveals_nothing(str(err.value), PLAINTEXT)
    # Re-owning the row itself does not help either.
    with session_scope() as s:
        row = s.get(Secret, alice_sid)
        row.user_id = mallory
        s.add(row)
    with pytest.raises(VaultError, match="failed authentication"):
        vault.get_secret(mallory, alice_sid)


@pytest.mark.promise("P05")
def test_ciphertext_moved_to_another_record_fails_to_decrypt(make_user) -> None:
    user_id, _, _ = make_user()
    first = vault.put_secret(user_id, "slack", PLAINTEXT)
    second = vault.put_secret(user_id, "slack", "second-secret-value-1111")
    _copy_ciphertext(first, second)
    with pytest.raises(VaultError, match="failed authentication"):
        vault.get_secret(user_id, second)
    assert vault.get_secret(user_id, first) == PLAINTEXT
    with session_scope() as s:  # relabelling the purpose breaks it too
        row = s.get(Secret, first)
        row.purpose = "github"
        s.add(row)
    with pytest.raises(VaultError):
        vault.get_secret(user_id, first)


@pytest.mark.promise("P19")
def test_another_users_secret_id_is_not_found(make_user) -> None:
    alice, _, _ = make_user()
    mallory, _, _ = make_user()
    sid = vault.put_secret(alice, "github", PLAINTEXT)
    with pytest.raises(VaultError, match="not found") as err:
        vault.get_secret(mallory, sid)
    _assert_reveals_nothing(str(err.value), PLAINTEXT)
    with pytest.raises(VaultError, match="not found"):
        vault.put_secret(mallory, "github", "overwrite-attempt-0000", secret_id=sid)
    assert vault.secret_hint(mallory, sid) is None
    assert vault.delete_secret(mallory, sid) is False
    assert vault.get_secret(alice, sid) == PLAINTEXT


@pytest.mark.promise("P05")
def test_key_rotation_re_encrypts_every_secret(make_user, settings_env, capsys) -> None:
    spec_a, _ = _key("kA")
    spec_b, _ = _key("kB")
    settings_env(VOPIX_VAULT_KEY=spec_a)
    alice, _, _ = make_user()
    bob, _, _ = make_user()
    stored = {
        vault.put_secret(alice, "openai", PLAINTEXT): (alice, PLAINTEXT),
        vault.put_secret(alice, "slack", "xoxb-slack-token-0001"): (alice, "xoxb-slack-token-0001"),
        vault.put_secret(bob, "github", "ghp-github-token-0002"): (bob, "ghp-github-token-0002"),
    }
    before = {sid: _row(sid).ciphertext for sid in stored}

    settings_env(VOPIX_VAULT_KEY=spec_b, VOPIX_VAULT_OLD_KEYS=spec_a)
    assert main(["vault", "rotate"]) == 0
    assert "re-encrypted 3 secrets under key kB" in capsys.readouterr().out
    for sid, (owner, value) in stored.items():
        row = _row(sid)
        assert row.key_id == "kB"
        assert row.ciphertext != before[sid]
        assert vault.get_secret(owner, sid) == value
    assert main(["vault", "rotate"]) == 0  # nothing left to do
    assert "re-encrypted 0 secrets" in capsys.readouterr().out

    settings_env(VOPIX_VAULT_KEY=spec_b, VOPIX_VAULT_OLD_KEYS="")  # old key retired
    for sid, (owner, value) in stored.items():
        assert vault.get_secret(owner, sid) == value
    out = capsys.readouterr()
    _assert_reveals_nothing(out.out + out.err, spec_a, spec_b, PLAINTEXT)


@pytest.mark.promise("P06")
def test_missing_old_key_names_the_key_but_no_material(make_user, settings_env) -> None:
    spec_a, raw_a = _key("kA")
    spec_b, raw_b = _key("kB")
    settings_env(VOPIX_VAULT_KEY=spec_a)
    user_id, _, _ = make_user()
    sid = vault.put_secret(user_id, "openai", PLAINTEXT)
    settings_env(VOPIX_VAULT_KEY=spec_b, VOPIX_VAULT_OLD_KEYS="")
    with pytest.raises(VaultError, match="'kA' is not configured") as err:
        vault.get_secret(user_id, sid)
    with pytest.raises(VaultError, match="'kA'"):
        vault.rotate_all()
    assert _row(sid).key_id == "kA"  # a failed rotation changes nothing
    for text_ in (str(err.value), repr(err.value)):
        _assert_reveals_nothing(text_, PLAINTEXT, spec_a.split(":")[1], spec_b.split(":")[1])
        assert raw_a.hex() not in text_ and raw_b.hex() not in text_


@pytest.mark.promise("P06")
def test_reprs_never_show_key_material_or_plaintext(make_user) -> None:
    user_id, _, _ = make_user()
    sid = vault.put_secret(user_id, "openai", PLAINTEXT)
    ring = vault.keyring()
    key_b64 = get_settings().vault_key.split(":")[1]
    raw = ring.keys[ring.active_id]
    with session_scope() as s:
        row_repr = repr(s.exec(select(Secret).where(Secret.id == sid)).one())
    for shown in (repr(ring), str(ring), repr(get_settings()), row_repr):
        _assert_reveals_nothing(shown, PLAINTEXT, key_b64, repr(raw), raw.hex())


def test_dev_key_file_is_created_private_with_a_warning(settings_env, tmp_path, capsys, make_user) -> None:
    settings_env(VOPIX_VAULT_KEY="", VOPIX_DATA_DIR=str(tmp_path / "data"))
    ring = vault.keyring()
    key_file = tmp_path / "data" / "vault.key"
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    err = capsys.readouterr().err
    assert "WARNING" in err and "VOPIX_VAULT_KEY" in err
    assert key_file.read_text().strip().split(":")[1] not in err

    vault._keyring.cache_clear()
    again = vault.keyring()
    assert capsys.readouterr().err == ""  # reused, no second warning
    assert again.active_id == ring.active_id and again.keys == ring.keys
    user_id, _, _ = make_user()
    sid = vault.put_secret(user_id, "openai", PLAINTEXT)
    vault._keyring.cache_clear()
    assert vault.get_secret(user_id, sid) == PLAINTEXT


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no-separator", "must look like"),
        (":" + base64.b64encode(b"k" * 32).decode(), "must look like"),
        ("k1:not base64 at all!", "'k1' is not valid base64"),
        ("k1:" + base64.b64encode(b"short-key-16byte").decode(), "'k1' must be 32 bytes .*got 16"),
        ("k1:" + base64.b64encode(b"x" * 33).decode(), "must be 32 bytes"),
        ("k" * 40 + ":" + base64.b64encode(b"k" * 32).decode(), "must look like"),
    ],
)
def test_bad_key_specs_give_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(VaultError, match=message) as err:
        vault.parse_key(spec)
    _, _, material = spec.partition(":")
    if len(material) > 4:
        assert material not in str(err.value)


def test_bad_configured_keys_are_refused(settings_env, make_user) -> None:
    user_id, _, _ = make_user()
    settings_env(VOPIX_VAULT_KEY="k1:" + base64.b64encode(b"x" * 31).decode())
    with pytest.raises(VaultError, match="must be 32 bytes"):
        vault.put_secret(user_id, "openai", PLAINTEXT)
    good, _ = _key("k2")
    settings_env(VOPIX_VAULT_KEY=good, VOPIX_VAULT_OLD_KEYS="old:%%%")
    with pytest.raises(VaultError, match="'old' is not valid base64"):
        vault.keyring()
    with session_scope() as s:
        assert s.exec(select(Secret)).first() is None


def test_generated_keys_are_valid() -> None:
    kid, raw = vault.parse_key(vault.generate_key())
    assert len(raw) == 32 and kid.startswith("k")
    assert main(["vault", "new-key"]) == 0
