"""Every setting is documented for a newcomer: in README.md's table and in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _settings_names() -> set[str]:
    source = (ROOT / "vopix" / "settings.py").read_text()
    names = set(re.findall(r'_(?:env|int|bool)\(\s*"((?:VOPIX_|PORT)[A-Z0-9_]*)"', source))
    assert len(names) > 20, "the settings parser found too few names: update this test"
    return names


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = sorted(n for n in _settings_names() if f"`{n}`" not in readme)
    assert missing == [], f"README.md does not document: {missing}"


def test_every_setting_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    missing = sorted(_settings_names() - listed)
    assert missing == [], f".env.example does not list: {missing}"
