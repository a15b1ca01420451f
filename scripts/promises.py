#!/usr/bin/env python3
"""List which privacy-policy promises (P01-P34) have tagged tests, and which do not yet.

    .venv/bin/python scripts/promises.py
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMISES = ROOT.parent / "shared" / "docs" / "promises.md"
# A decorator tags the test under it; a module's `pytestmark` tags every test of the module.
MARK = re.compile(r'(@?)pytest\.mark\.promise\("(P\d\d)"\)')


def main() -> int:
    promises: dict[str, str] = {}
    if PROMISES.exists():
        for line in PROMISES.read_text().splitlines():
            m = re.match(r"- (P\d\d) (.*)", line)
            if m:
                promises[m.group(1)] = m.group(2)
    covered: dict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text()
        for m in MARK.finditer(text):
            if not m.group(1):
                covered[m.group(2)].append(f"{path.relative_to(ROOT)} (every test)")
                continue
            name = re.search(r"def (test_\w+)", text[m.end():])
            covered[m.group(2)].append(f"{path.relative_to(ROOT)}::{name.group(1) if name else '?'}")
    ids = sorted(set(promises) | set(covered))
    for pid in ids:
        tests = covered.get(pid, [])
        status = f"{len(tests)} test{'s' if len(tests) != 1 else ''}" if tests else "NOT COVERED"
        print(f"{pid} {status:>12}  {promises.get(pid, '')[:90]}")
    missing = [p for p in ids if p not in covered]
    print(f"\n{len(ids) - len(missing)} of {len(ids)} promises have tagged tests.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
