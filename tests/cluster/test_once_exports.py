"""Once across processes (issue 15): several people ask for their data export, two export
workers (processes) share them, and the one writing an export is killed -9 half-way through its
ZIP. Every export ends ready exactly once: one ZIP each in the exports folder (no partial file
left), one "your export is ready" mail each, the killed one taken again by the other worker
after its lease (a second attempt) and complete."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from tests.cluster._workers import Workers, until
from tests.core.privacy.export_helpers import read_zip
from vopix.core.agent import history
from vopix.core.kinds import MailKind
from vopix.core.privacy import export
from vopix.core.workspace import store
from vopix.db import session_scope
from vopix.models import DataExport, MailOutbox

PEOPLE = 4

# A process's export worker, as the app's lifespan runs it, with a short lease (the production
# minute is too long to wait for) and a slow disk: each part of the ZIP takes 0.4 s more, so
# that the kill lands in the middle of an export.
CHILD = """
import asyncio, time
from datetime import timedelta
from vopix import platform
platform.install()
from vopix.core.privacy import export_worker
from vopix.core.privacy.export_parts import ExportPart, parts

def slowly(write):
    def slow(w):
        time.sleep(0.4)
        write(w)
    return slow

export_worker.LEASE = timedelta(seconds=3)
export_worker.parts = lambda: [ExportPart(p.name, slowly(p.write), p.describe) for p in parts()]
asyncio.run(export_worker.run(idle_poll=0.5))
"""


def _exports() -> list[DataExport]:
    with session_scope() as s:
        return list(s.exec(select(DataExport)).all())


def _ready_mails() -> list[MailOutbox]:
    with session_scope() as s:
        return list(s.exec(select(MailOutbox).where(MailOutbox.kind == MailKind.PRIVACY)).all())


@pytest.mark.promise("P28")
@pytest.mark.promise("P30")
def test_an_export_worker_killed_mid_export_leaves_every_export_ready_once(
    tmp_path: Path, scratch_db: str, settings_env, make_user
) -> None:
    settings_env(VOPIX_DATA_DIR=str(tmp_path / "data"))  # an exports folder of this test's own
    people = {}
    for _ in range(PEOPLE):
        user_id, email, _ = make_user()
        conv = history.create_conversation(user_id, "Trip to Porto")
        history.add_message(user_id, conv.id, "user", f"Which train, {email}?")
        store.write_text(user_id, "notes/porto.md", "Train at 9:00.\n")
        export.request_export(user_id)
        people[user_id] = email
    with Workers(tmp_path, CHILD) as workers:
        victim = workers.start()

        def victim_mid_export() -> DataExport | None:
            return next((e for e in _exports() if e.status == "running" and e.parts_done >= 2
                         and f":{victim.pid}:" in e.worker), None)

        held = until(victim_mid_export, 60, "the first worker half-way through an export")
        other = workers.start()  # the second worker, now that the first holds an export
        until(lambda: any(f":{other.pid}:" in e.worker for e in _exports()), 60, "the second worker at work")
        assert list(export.export_dir().glob(f"export-{held.id}-1-*.part"))  # the ZIP half-written
        workers.kill9(victim)
        until(lambda: all(e.status == "ready" for e in _exports()), 90, "every export ready")
        assert other.poll() is None, workers.log(other)

    exports = {e.id: e for e in _exports()}
    taken_over = exports[held.id]
    assert (taken_over.attempts, f":{other.pid}:" in taken_over.worker) == (2, True)
    assert all(e.attempts == 1 for e in exports.values() if e.id != held.id)
    files = sorted(p.name for p in export.export_dir().iterdir())
    assert files == sorted(e.file_name for e in exports.values())  # one ZIP each, no .part left
    for e in exports.values():
        zipped = read_zip(export.export_dir() / e.file_name)
        assert "README.txt" in zipped and any(n.startswith("conversations/") for n in zipped)
        assert e.parts_done == e.parts_total and e.bytes_written == (export.export_dir() / e.file_name).stat().st_size
    mails = Counter(m.to_address for m in _ready_mails() if m.subject == "Your VOPIX export is ready")
    assert mails == Counter(dict.fromkeys(people.values(), 1))
