"""The task workers' test clock knobs (VOPIX_TASK_CLOCK_FILE, VOPIX_TASK_CLOCK_OFFSET_SECONDS,
read by vopix/core/tasks/runs.py clock()) move every reminder's due time: a deployment that
counts as production (https or Redis, as for P20) refuses to start with either set; a test
server (http, one process) still may."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vopix.core.cluster import ClockKnobInProduction, check_topology
from vopix.core.tasks.runs import clock
from vopix.settings import get_settings

PG = "postgresql://vopix@db:5432/vopix"


@pytest.mark.parametrize("knob", ["VOPIX_TASK_CLOCK_FILE", "VOPIX_TASK_CLOCK_OFFSET_SECONDS"])
@pytest.mark.parametrize(
    ("production", "why"),
    [
        ({"VOPIX_PUBLIC_URL": "https://vopix.example"}, "VOPIX_PUBLIC_URL is https"),
        ({"VOPIX_PUBLIC_URL": "http://10.0.0.5:8000", "VOPIX_REDIS_URL": "redis://127.0.0.1:6379/0"},
         "VOPIX_REDIS_URL is set"),
    ],
)
def test_production_with_a_task_clock_knob_does_not_start(
    knob: str, production: dict[str, str], why: str, settings_env: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch, tmp_path,
) -> None:
    monkeypatch.delenv("VOPIX_TASK_CLOCK_FILE", raising=False)
    monkeypatch.delenv("VOPIX_TASK_CLOCK_OFFSET_SECONDS", raising=False)
    settings_env(VOPIX_DATABASE_URL=PG, **production)
    check_topology(get_settings())  # without the knob: starts
    monkeypatch.setenv(knob, str(tmp_path / "clock") if knob.endswith("FILE") else "3600")
    with pytest.raises(ClockKnobInProduction) as refused:
        check_topology(get_settings())
    assert knob in str(refused.value) and why in str(refused.value)


def test_a_test_server_may_move_the_task_clock(
    settings_env: Callable[..., None], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    clock_file = tmp_path / "clock"
    clock_file.write_text("180")
    monkeypatch.setenv("VOPIX_TASK_CLOCK_FILE", str(clock_file))
    monkeypatch.delenv("VOPIX_TASK_CLOCK_OFFSET_SECONDS", raising=False)
    settings_env(VOPIX_DATABASE_URL=f"sqlite:///{tmp_path / 'vopix.db'}", VOPIX_PUBLIC_URL="http://localhost:3000",
                 VOPIX_REDIS_URL="")
    check_topology(get_settings())  # the browser tests' server: http, one process
    from vopix.core.clock import utcnow

    assert (clock() - utcnow()).total_seconds() > 170  # the knob still works there
