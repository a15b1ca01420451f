"""/metrics in the real app (Reflex mounted under our routes): Reflex's own endpoints are counted
under their templates, pages under one label, never a raw path. The app runs in a child process:
a Reflex app object can be started once per process, and other tests start it too."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from vopix.core import metrics

CHILD = """
import json, sys, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from vopix.vopix import app

with TestClient(app(), base_url="http://testserver", client=("127.0.0.1", 40200)) as c:
    before = c.get("/metrics").text
    ping = c.get("/ping").status_code
    c.get("/no/such/page/4242")
    after = c.get("/metrics").text
print(json.dumps({"ping": ping, "before": before, "after": after}))
"""


def test_reflex_routes_are_labelled_by_template_and_never_by_raw_path(tmp_path) -> None:
    env = {
        **os.environ, "__REFLEX_SKIP_COMPILE": "true", "REFLEX_WEB_WORKDIR": str(tmp_path / "web"),
        "REFLEX_STATES_WORKDIR": str(tmp_path / "states"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    (tmp_path / "metrics").mkdir()
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ping"] == 200
    labels = set(re.findall(r'route="([^"]*)"', out["after"]))
    assert {"/ping", "/metrics", "frontend"} <= labels  # a page path is counted as "frontend"
    assert not any("4242" in label for label in labels)
    moved = metrics.sample(out["after"], "vopix_http_requests_total", {"route": "/ping"}) - metrics.sample(
        out["before"], "vopix_http_requests_total", {"route": "/ping"}
    )
    assert moved == 1
