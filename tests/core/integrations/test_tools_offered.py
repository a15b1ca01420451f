"""Which integration tools a turn offers: those of the services the person has connected now,
found with one query whatever the number of services (the turn asks for every one of them)."""

from __future__ import annotations

from sqlalchemy import event

from vopix.core.agent.tools import tools_for
from vopix.core.integrations import connections
from vopix.db import get_engine


def _connect(user_id: int, service_id: str) -> None:
    connections.save(user_id, service_id, method="token", account="me", account_id="1", scopes="",
                     access_token="tok-" + service_id)


def _selects_during(fn) -> tuple[object, list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        return fn(), seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_only_connected_services_tools_are_offered_from_one_query(make_user) -> None:
    user_id, _, _ = make_user()
    other_id, _, _ = make_user()
    _connect(user_id, "github")
    _connect(other_id, "slack")  # someone else's connection offers this person nothing

    offered, selects = _selects_during(lambda: {t.name for t in tools_for(user_id)})
    assert "github_create_issue" in offered
    assert not any(name.startswith("slack_") for name in offered)
    connection_selects = [s for s in selects if "integration" in s.lower()]
    assert len(connection_selects) == 1, connection_selects

    connections.remove(user_id, "github", alert=False)
    assert not any(name.startswith("github_") for name in {t.name for t in tools_for(user_id)})
