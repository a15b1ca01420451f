"""Sandbox benchmark: what bubblewrap costs a script run, and how many runs a machine takes.

Start-up overhead: the wall time of an empty shell script run through vopix.core.sandbox (new
namespaces, the tmpfs, the seccomp filter, the program inside that unpacks and packs files,
the host's pipes and threads) minus the same empty script run directly, p50 and p99 over
--runs runs. Then runs per second with 1 and 4 runs at once (threads, as the app's workers run
them), each a tiny Python script over a 3-file workspace. Target: under 50 ms p50 overhead.

    .venv/bin/python bench/sandbox.py [--runs 200] [--seconds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vopix.core import sandbox  # noqa: E402
from vopix.core.sandbox import RunFile  # noqa: E402

TARGET_P50_MS = 50.0
FILES = [
    RunFile("scripts/hello.py", b"import sys\nprint('hello', sys.argv[1:])\n"),
    RunFile("notes.md", b"# notes\n" * 100),
    RunFile("data.csv", b"a,b\n1,2\n" * 500),
]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _direct_ms(script: Path, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(["/bin/sh", str(script)], check=True)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _sandboxed_ms(n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        res = sandbox.run(["/bin/sh", "empty.sh"], [RunFile("empty.sh", b"")])
        out.append((time.perf_counter() - start) * 1000)
        assert res.exit_code == 0, res
    return out


def _throughput(concurrency: int, seconds: float) -> float:
    done = [0] * concurrency
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            res = sandbox.run(["/usr/bin/python3", "scripts/hello.py", "x"], FILES)
            assert res.exit_code == 0, res
            done[i] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    state = sandbox.status()
    if not state.available:
        print(f"the sandbox cannot start here: {state.reason}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "empty.sh"
        script.write_text("")
        _direct_ms(script, 10), _sandboxed_ms(10)  # warm up (page cache, imports)
        direct = _direct_ms(script, args.runs)
        boxed = _sandboxed_ms(args.runs)
    base = statistics.median(direct)
    overhead = [b - base for b in boxed]
    p50, p99 = _pct(overhead, 50), _pct(overhead, 99)
    rates = {c: _throughput(c, args.seconds) for c in (1, 4)}
    print(f"{'measure':<44}{'value':>12}")
    print(f"{'empty script, direct (p50)':<44}{base:>9.1f} ms")
    print(f"{'empty script, sandboxed (p50)':<44}{statistics.median(boxed):>9.1f} ms")
    print(f"{'start-up overhead p50':<44}{p50:>9.1f} ms")
    print(f"{'start-up overhead p99':<44}{p99:>9.1f} ms")
    for c, rate in rates.items():
        print(f"{f'runs per second, {c} at once (Python script)':<44}{rate:>9.1f} /s")
    verdict = "met" if p50 < TARGET_P50_MS else "MISSED"
    print(f"target p50 overhead < {TARGET_P50_MS:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
