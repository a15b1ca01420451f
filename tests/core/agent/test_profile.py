"""Agent settings: bad input gets a clear message and changes nothing."""

from __future__ import annotations

import pytest

from vopix.core.agent import profile


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "UTC+2", "../../etc/passwd", "europe/paris", "x" * 80])
def test_a_bad_time_zone_is_refused_and_nothing_changes(make_user, zone: str) -> None:
    user_id, _, _ = make_user()
    profile.update_persona(user_id, name="Ada", personality="", language="English", timezone="Europe/Paris")
    with pytest.raises(profile.ProfileError, match="is not a time zone name"):
        profile.update_persona(user_id, name="Bob", personality="", language="French", timezone=zone)
    view = profile.get_profile(user_id)
    assert (view.name, view.language, view.timezone) == ("Ada", "English", "Europe/Paris")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "name of 1 to 60"),
        ({"name": "n" * 61}, "name of 1 to 60"),
        ({"personality": "p" * 4001}, "under 4000"),
        ({"language": "l" * 61}, "at most 60"),
    ],
)
def test_bad_persona_fields_are_refused(make_user, fields: dict, message: str) -> None:
    user_id, _, _ = make_user()
    values = {"name": "Ada", "personality": "", "language": "English", "timezone": "UTC", **fields}
    with pytest.raises(profile.ProfileError, match=message):
        profile.update_persona(user_id, **values)
    assert profile.get_profile(user_id).name == "Vopi"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "nope", "model": "m"}, "listed AI providers"),
        ({"kind": "openai", "model": ""}, "Name the model"),
        ({"kind": "openai", "model": "m", "base_url": "ftp://x"}, "http:// or https://"),
        ({"kind": "openai", "model": "m", "api_key": "has space"}, "does not look right"),
    ],
)
def test_bad_provider_settings_are_refused_and_no_key_is_stored(make_user, kwargs: dict, message: str) -> None:
    user_id, _, _ = make_user()
    with pytest.raises(profile.ProfileError, match=message):
        profile.update_provider(user_id, **kwargs)
    view = profile.get_profile(user_id)
    assert view.provider_kind == "" and not view.has_own_key


def _vault_keys(user_id: int) -> list[str]:
    from sqlmodel import select

    from vopix.db import session_scope
    from vopix.models import Secret

    with session_scope() as s:
        rows = s.exec(select(Secret).where(Secret.user_id == user_id, Secret.purpose == profile.KEY_PURPOSE))
        return [row.id for row in rows]


OWN = {
    "openai": {"kind": "openai", "model": "gpt-x", "api_key": "sk-openai-key-1111"},
    "anthropic": {"kind": "anthropic", "model": "claude-x", "api_key": "sk-ant-key-2222"},
    "": {"kind": "", "model": "None", "base_url": "None", "api_key": None},  # hidden fields ignored
}


@pytest.mark.parametrize(
    "order",
    [
        ["openai", "", "anthropic", "", "openai"],
        ["anthropic", "openai", "", "openai", "anthropic"],
        ["", "openai", "anthropic", "openai", ""],
    ],
)
def test_switching_provider_kinds_in_any_order_keeps_only_the_current_key(make_user, order: list[str]) -> None:
    user_id, _, _ = make_user()
    other, _, _ = make_user()
    profile.update_provider(other, **OWN["openai"])
    for kind in order:
        view = profile.update_provider(user_id, **OWN[kind])
        assert view.provider_kind == kind
        keys = _vault_keys(user_id)
        if kind:
            assert view.has_own_key and view.key_hint == OWN[kind]["api_key"][-4:]
            assert len(keys) == 1  # the key of the provider left behind is gone from the vault
        else:
            assert not view.has_own_key and keys == [] and (view.model, view.base_url) == ("", "")
    assert len(_vault_keys(other)) == 1


def test_the_key_is_kept_while_the_kind_stays_and_a_new_kind_needs_its_own_key(make_user) -> None:
    user_id, _, _ = make_user()
    profile.update_provider(user_id, **OWN["openai"])
    (kept,) = _vault_keys(user_id)
    view = profile.update_provider(user_id, kind="openai", model="gpt-y", api_key=None)
    assert view.has_own_key and view.model == "gpt-y" and _vault_keys(user_id) == [kept]
    with pytest.raises(profile.ProfileError, match="API key for this provider"):
        profile.update_provider(user_id, kind="anthropic", model="claude-x")  # the OpenAI key is not sent there
    assert profile.get_profile(user_id).provider_kind == "openai" and _vault_keys(user_id) == [kept]
