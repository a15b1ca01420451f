"""Extension points other domains register with, so accounts need not import them all."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

UserHook = Callable[[Session, int], None]
_on_user_created: list[UserHook] = []


def on_user_created(fn: UserHook) -> UserHook:
    """Register `fn(session, user_id)` to run inside the sign-up transaction (once)."""
    if fn not in _on_user_created:
        _on_user_created.append(fn)
    return fn


def user_created_hooks() -> list[UserHook]:
    return list(_on_user_created)


def run_user_created(session: Session, user_id: int) -> None:
    for fn in _on_user_created:
        fn(session, user_id)
