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
