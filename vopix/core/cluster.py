"""What a deployment of several workers or instances needs before it may start (issue 15).

Served over https, or with Redis set (several workers), VOPIX is in production, and
production runs on PostgreSQL (privacy policy P20): SQLite is one process's embedded database,
and its file lock cannot be shared by machines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from vopix.settings import Settings

# Test servers' knobs that move the task workers' clock (vopix/core/tasks/runs.py clock()).
TASK_CLOCK_KNOBS = ("VOPIX_TASK_CLOCK_FILE", "VOPIX_TASK_CLOCK_OFFSET_SECONDS")


class SQLiteInProduction(RuntimeError):
    """Refusal to start a production deployment on SQLite."""


class ClockKnobInProduction(RuntimeError):
    """Refusal to start a production deployment whose task clock a test knob moves."""


def production_reasons(cfg: Settings) -> list[str]:
    """Why this deployment counts as production (https, or Redis: several workers); [] if not."""
    reasons = []
    if cfg.is_https:
        reasons.append(f"VOPIX_PUBLIC_URL is https ({cfg.public_origin})")
    if cfg.redis_url:
        reasons.append("VOPIX_REDIS_URL is set (several workers share their state)")
    return reasons


def check_test_clock(cfg: Settings, environ: Mapping[str, str] = os.environ) -> None:
    """Raise ClockKnobInProduction when a task clock knob is set in production: reminders
    would come due at the wrong time for everyone."""
    knobs = [k for k in TASK_CLOCK_KNOBS if environ.get(k, "").strip()]
    reasons = production_reasons(cfg)
    if knobs and reasons:
        raise ClockKnobInProduction(
            f"VOPIX will not start in production with {' and '.join(knobs)} set (test servers "
            f"only: they move the task workers' clock), since {' and '.join(reasons)}. Unset them "
            "and start again."
        )


def check_topology(cfg: Settings) -> None:
    """Raise ClockKnobInProduction for a test clock knob in production (check_test_clock), and
    SQLiteInProduction, saying why and what to do, for https or Redis on SQLite."""
    check_test_clock(cfg)
    if not cfg.is_sqlite:
        return
    reasons = production_reasons(cfg)
    if not reasons:
        return
    raise SQLiteInProduction(
        "VOPIX will not start on SQLite in production: " + " and ".join(reasons) + ". "
        "Production data lives in PostgreSQL. Set VOPIX_DATABASE_URL="
        "postgresql://USER:PASSWORD@HOST:5432/DBNAME, run `python -m vopix migrate`, then "
        "start again (docs/deploy.md). For a local trial on SQLite, use an http address and "
        "leave VOPIX_REDIS_URL empty."
    )
