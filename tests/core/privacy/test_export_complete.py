"""Every table that holds something of a person is in the export, or says why it is not.

The export is run on a populated account with a listener on the engine that notes every table
each statement reads; a table added later with a link to user.id (or one the purge knows by
address or customer id) and no export part reading it fails here until it gets a part or a
reason in `export.NOT_EXPORTED`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Table, event
from sqlalchemy.sql import visitors

from tests.core.privacy.export_helpers import no_export_files, run_export, seed_account
from vopix.core.privacy import export, export_parts, purge
from vopix.core.privacy.export_parts import ExportPart
from vopix.db import get_engine

__all__ = ["no_export_files"]  # autouse fixture


def _tables_in(statement: Any) -> Iterator[str]:
    for node in visitors.iterate(statement):
        if isinstance(node, Table):
            yield node.name


def _personal_tables() -> set[str]:
    linked = {table.name for table, _column, _ in purge.user_columns()}
    return linked | {table for table, _column in purge.UNLINKED}


@pytest.mark.promise("P30")
def test_every_table_that_holds_a_person_is_exported_or_says_why_not(make_user, monkeypatch) -> None:
    user_id, email, _ = make_user()
    seed_account(user_id, email)
    read: set[str] = set()
    writing: list[str] = []  # the part being written (the worker's own reads do not count)

    def note(_conn: Any, statement: Any, *_args: Any) -> None:
        if writing and getattr(statement, "is_select", False):
            read.update(_tables_in(statement))

    def watched(part: ExportPart) -> ExportPart:
        def write(w: Any) -> None:
            writing.append(part.name)
            try:
                part.write(w)
            finally:
                writing.pop()
        return ExportPart(part.name, write, part.describe)

    monkeypatch.setattr(export_parts, "_PARTS", [watched(p) for p in export_parts.parts()])

    engine = get_engine()
    event.listen(engine, "before_execute", note)
    try:
        run_export(user_id)
    finally:
        event.remove(engine, "before_execute", note)

    personal = _personal_tables()
    missing = sorted(personal - read - set(export.NOT_EXPORTED))
    assert missing == [], f"tables of a person that no export part reads: {missing}"
    # A reason for a table that is exported after all, or that no longer exists, is stale.
    assert sorted(set(export.NOT_EXPORTED) & read) == []
    assert set(export.NOT_EXPORTED) <= personal
    assert all(len(why) > 20 for why in export.NOT_EXPORTED.values())


@pytest.mark.promise("P30")
def test_a_staff_members_own_role_is_in_their_security_file(make_user) -> None:
    from tests.core.privacy.export_helpers import json_of, read_zip
    from vopix.core.privacy import staff

    user_id, email, _ = make_user()
    staff.grant(email, "support", by="operator test")
    _, path = run_export(user_id)
    role = json_of(read_zip(path), "security.json")["staff_role"]
    assert role["role"] == "support" and role["revoked_at"] is None
