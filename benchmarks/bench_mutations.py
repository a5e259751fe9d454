"""Recall on mutated attacks and false positives on their look-alikes (issue 15).

    .venv/bin/python benchmarks/bench_mutations.py [--show-misses N]

`benchmarks/mutations.py` generates the variants (attack shapes of THREATS.md with
evasions applied one axis at a time: source, sink, trigger, encoding, packaging) and
benign look-alikes; each is written as a real wheel or sdist into a temporary
directory and scanned by the heuristics check (advisories off). Nothing is imported,
built or run. Prints recall per family and per evasion axis, and every blocked
look-alike.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mutations import Variant, benign, build, malicious  # noqa: E402

from scanner.checks.heuristics.check import scan_distribution_file  # noqa: E402
from scanner.models import Severity  # noqa: E402


def _blocked(v: Variant, tmp: Path) -> list[str]:
    name, data = build(v)
    path = tmp / name
    path.write_bytes(data)
    try:
        findings = scan_distribution_file(path)
        return sorted({f.rule_id for f in findings if f.severity >= Severity.HIGH})
    finally:
        path.unlink()


def _table(title: str, rows: dict[str, list[bool]]) -> None:
    print(f"\n{title}")
    for key in sorted(rows):
        hits = rows[key]
        print(f"  {key:44s} {sum(hits):4d}/{len(hits):<4d} {100 * sum(hits) / len(hits):5.1f}%")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--show-misses", type=int, default=20)
    args = ap.parse_args()
    t0 = time.perf_counter()
    mal = list(malicious())
    ben = list(benign())
    gen = time.perf_counter() - t0
    by_family: dict[str, list[bool]] = collections.defaultdict(list)
    by_axis: dict[str, list[bool]] = collections.defaultdict(list)
    misses: list[Variant] = []
    fps: list[tuple[Variant, list[str]]] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ws-mut-") as d:
        tmp = Path(d)
        for v in mal:
            ok = bool(_blocked(v, tmp))
            by_family[v.family].append(ok)
            for axis in v.evasion.split("+"):
                by_axis[axis].append(ok)
            by_axis[f"packaging={v.packaging}"].append(ok)
            if not ok:
                misses.append(v)
        for v in ben:
            found = _blocked(v, tmp)
            if found:
                fps.append((v, found))
    scan = time.perf_counter() - t0
    caught = len(mal) - len(misses)
    print(f"generated {len(mal)} malicious variants and {len(ben)} look-alikes in {gen:.2f}s")
    print(f"malicious variants blocked: {caught}/{len(mal)} = {100 * caught / len(mal):.1f}%")
    print(f"benign look-alikes blocked: {len(fps)}/{len(ben)}")
    _table("recall by family", by_family)
    _table("recall by evasion (axis moved off the default shape)", by_axis)
    for v, found in fps:
        print(f"  FALSE POSITIVE {v.family}/{v.evasion}/{v.packaging}: {', '.join(found)}")
    for v in misses[: args.show_misses]:
        print(f"  missed {v.family}/{v.evasion}/{v.packaging} ({v.name})")
    print(f"scan time {scan:.1f}s ({(len(mal) + len(ben)) / scan:.1f} distributions/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
