"""Export benchmark (issue 12): an account with 100,000 messages in 200 conversations and 200 MB
of workspace files, exported by the real worker code (claim, write the ZIP, mark ready, queue
the mail): time, MB/s of ZIP written, and peak memory, which must stay flat (< 64 MB).

The export runs in a child process of its own, timed, with the RSS growth over the export
measured from /proc (VmHWM, the peak, minus VmRSS just before it: what the export added to a
worker). `--tracemalloc` runs it once more under tracemalloc for the peak of Python allocations
(untimed: tracemalloc slows everything down). The account is built once, outside the figures.

    .venv/bin/python bench/export.py                 # SQLite, the full account
    .venv/bin/python bench/export.py --db postgres   # PostgreSQL (127.0.0.1:5432, a scratch database)
    .venv/bin/python bench/export.py --small         # 10,000 messages and 20 MB: a quick look
    .venv/bin/python bench/export.py --tracemalloc   # and the peak of Python memory
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from _big_account import add_size_args, migrated_big_account, use_scratch_environment  # noqa: E402

LIMIT_MB = 64

# The child: one export of the queued row, measured from inside.
CHILD = r"""
import json, sys, time
mode = sys.argv[1]
from vopix import platform
platform.install()
from vopix.core.privacy import export, export_worker

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0

claimed = export_worker.claim("bench")
assert claimed is not None, "nothing queued"
if mode == "trace":
    import tracemalloc
    tracemalloc.start()
before = rss("VmRSS")
t0 = time.perf_counter()
outcome = export_worker.run_one(claimed, "bench")
seconds = time.perf_counter() - t0
peak_py = tracemalloc.get_traced_memory()[1] if mode == "trace" else 0
view = export.latest_export(claimed.user_id)
path, _ = export.download_path(claimed.user_id, view.id)
print(json.dumps({"outcome": outcome, "seconds": seconds, "bytes": view.bytes_written,
                  "rss_growth": rss("VmHWM") - before, "peak_py": peak_py, "path": str(path)}))
"""


def _child(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=REPO, env=os.environ.copy(),
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"export child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_size_args(ap)
    ap.add_argument("--tracemalloc", action="store_true", help="a second, untimed export under tracemalloc")
    args = ap.parse_args()
    use_scratch_environment(args.db, "export")
    from vopix import db
    from vopix.core.privacy import export

    account = migrated_big_account(args)

    export.request_export(account.user_id)
    timed = _child("rss")
    path = Path(timed["path"])
    with zipfile.ZipFile(path) as zf:
        members = len(zf.namelist())
        assert zf.testzip() is None
    traced = {"peak_py": 0}
    if args.tracemalloc:  # again (the first export's row is ready: queue another)
        export.delete_exports_of(account.user_id)
        export.request_export(account.user_id)
        traced = _child("trace")

    mb = timed["bytes"] / 2**20
    rows = [
        ("database", args.db),
        ("messages / conversations", f"{account.messages:,} / {account.conversations}"),
        ("workspace", f"{account.workspace_bytes / 2**20:.0f} MB in {account.files} files"),
        ("ZIP", f"{mb:.1f} MB, {members:,} members"),
        ("export time", f"{timed['seconds']:.1f} s"),
        ("throughput", f"{mb / timed['seconds']:.1f} MB/s of ZIP"),
        ("RSS growth over the export", f"{timed['rss_growth'] / 2**20:.1f} MB"),
    ]
    if args.tracemalloc:
        rows.append(("peak Python memory (tracemalloc)", f"{traced['peak_py'] / 2**20:.1f} MB"))
    width = max(len(k) for k, _ in rows)
    print()
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    worst = max(timed["rss_growth"], traced["peak_py"]) / 2**20
    verdict = "OK" if worst < LIMIT_MB else "OVER"
    print(f"{'limit':<{width}}  {LIMIT_MB} MB -> {verdict}")
    db.dispose_engines()
    if verdict != "OK":
        raise SystemExit(1)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
