"""tasks.json in the data export: the person's tasks as stored, their runs and the delivery
settings, and nobody else's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.core.privacy.export_helpers import json_of, read_zip, run_export
from tests.core.tasks.conftest import T0, run_at
from vopix.core.tasks import store


@pytest.mark.promise("P28")
@pytest.mark.promise("P30")
def test_the_export_holds_the_persons_tasks_their_runs_and_settings(person) -> None:
    user, other = person("Europe/Berlin"), person()
    store.save_delivery_settings(user, "telegram", "22:00", "07:00")
    daily = store.create(user, "reminder", "water the plants", {"repeat": "daily", "time": "08:00"}, now=T0)
    store.create(user, "agent", "Summarise my week", {"repeat": "weekly", "days": ["FR"], "time": "17:00"}, now=T0)
    store.create(other, "reminder", "someone else's secret plan", {"in_minutes": 5}, now=T0)
    run_at(daily.next_runs[0] + timedelta(seconds=1))
    _, path = run_export(user)
    files = read_zip(path)
    doc = json_of(files, "tasks.json")
    assert doc["delivery"] == {"channel": "telegram", "quiet_start": "22:00", "quiet_end": "07:00"}
    assert [(t["kind"], t["text"], t["rrule"], t["timezone"]) for t in doc["tasks"]] == [
        ("reminder", "water the plants", "FREQ=DAILY", "Europe/Berlin"),
        ("agent", "Summarise my week", "FREQ=WEEKLY;BYDAY=FR", "Europe/Berlin"),
    ]
    assert [r["task_id"] for r in doc["runs"]] == [daily.id]
    assert b"someone else's secret plan" not in b"".join(files.values())
    assert "tasks.json" in files["README.txt"].decode()
