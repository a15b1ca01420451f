"""deploy/prometheus/alerts.yml (issue 17): promtool (Debian's `prometheus` package, installed
by scripts/test.sh) accepts the rules and their unit tests pass; every metric a rule reads is
one VOPIX exports. Without promtool the test is skipped locally and fails in CI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import Counter, Gauge, Histogram

from vopix.core import metrics

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: scripts/test.sh installs Debian's prometheus package")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    tool = _promtool()
    check = subprocess.run([tool, "check", "rules", "alerts.yml"], cwd=RULES_DIR, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout
    test = subprocess.run([tool, "test", "rules", "alerts_test.yml"], cwd=RULES_DIR, capture_output=True, text=True)
    assert test.returncode == 0, test.stdout + test.stderr


def _exported() -> set[str]:
    names: set[str] = set()
    for obj in vars(metrics).values():
        if isinstance(obj, Counter):
            names.add(obj._name + "_total")
        elif isinstance(obj, Histogram):
            names |= {obj._name + s for s in ("_bucket", "_sum", "_count")}
        elif isinstance(obj, Gauge):
            names.add(obj._name)
    names |= {family.name for family in metrics.DatabaseCollector().collect()}
    return names


def test_every_metric_a_rule_reads_is_exported() -> None:
    text = (RULES_DIR / "alerts.yml").read_text()
    used = set(re.findall(r"\bvopix_[a-z_]+", text))
    used = {u for u in used if not u.startswith("vopix_instance")}
    missing = used - _exported()
    assert used and not missing, missing
