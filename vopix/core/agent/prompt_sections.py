"""Extra sections of the system prompt that other domains contribute (skills, memory)."""

from __future__ import annotations

from collections.abc import Callable

PromptSection = Callable[[int], "str | None"]
_SECTIONS: list[tuple[int, PromptSection]] = []


def register_prompt_section(fn: PromptSection, order: int = 50) -> PromptSection:
    """Register `fn(user_id) -> text or None`; lower `order` comes first."""
    if all(existing is not fn for _, existing in _SECTIONS):
        _SECTIONS.append((order, fn))
        _SECTIONS.sort(key=lambda pair: pair[0])
    return fn


def registered() -> list[PromptSection]:
    return [fn for _, fn in _SECTIONS]


def sections_for(user_id: int) -> list[str]:
    out = []
    for _, fn in _SECTIONS:
        text = fn(user_id)
        if text:
            out.append(text.strip())
    return out
