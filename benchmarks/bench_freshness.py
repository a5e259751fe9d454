"""Release age (the freshness check) over the real lock-file corpus, offline.

Run: .venv/bin/python benchmarks/bench_freshness.py [--as-of 2026-12-02T00:00:00Z]

For every lock file of ../shared/data/lockfiles/corpus.tar.gz that parses: how many
pinned releases and locked files it has, how many files carry an `upload-time`, and how
many releases a cooldown of P1D / P3D / P7D would catch

- at the fixed reference time (`--as-of`, the same on every run), and
- "on the day the lock was written": at the newest upload time the lock records plus one
  hour, the earliest moment the lock can have been made (what a gate in the PR that
  committed the lock would have seen).

Then the time the check takes over the whole corpus (median of 5 runs). Sockets are
refused for the whole run: the figures are for the offline path.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tarfile
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "lockfiles" / "corpus.tar.gz"
sys.path.insert(0, str(REPO))

from scanner.checks.freshness.duration import parse_duration, parse_reference_time  # noqa: E402
from scanner.checks.freshness.engine import assess  # noqa: E402
from scanner.checks.freshness.settings import FreshnessSettings  # noqa: E402
from scanner.errors import SourceError  # noqa: E402
from scanner.models import Inventory, Lockfile, PinKind  # noqa: E402
from scanner.sources.lockfiles import parse_lockfile  # noqa: E402

POLICIES = ("P1D", "P3D", "P7D")


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OSError("benchmark is offline: no sockets")


def _locks(root: Path) -> list[Lockfile]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "LICENSE" not in p.name):
        if path.name == "MANIFEST.md" or "environment" in path.name:
            continue
        try:
            found.append(parse_lockfile(path))
        except SourceError as err:
            print(f"  skipped {path.relative_to(root)}: {err.message[:70]}")
    return found


def _caught(lock: Lockfile, as_of: datetime) -> list[int]:
    inventory = Inventory(lockfiles=(lock,))
    return [
        len(assess(inventory, FreshnessSettings(parse_duration(p)), as_of).findings)
        for p in POLICIES
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--as-of", default="2026-12-02T00:00:00Z")
    args = parser.parse_args()
    as_of = parse_reference_time(args.as_of)
    if not CORPUS.is_file():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 3
    socket.socket.connect = _refuse  # type: ignore[method-assign]
    socket.create_connection = _refuse
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(CORPUS) as tf:
            tf.extractall(tmp, filter="data")
        root = Path(tmp)
        locks = _locks(root)
        header = "  ".join(f"{p:>4}" for p in POLICIES)
        print(f"\nreference time {as_of.isoformat()}; caught = releases flagged WS-AGE-001")
        print(
            f"{'lock file':<58} {'rel':>5} {'files':>6} {'dated':>6}  "
            f"at --as-of {header}   lock day {header}"
        )
        totals = [0, 0, 0] + [0] * (2 * len(POLICIES))
        for lock in locks:
            artifacts = [a for p in lock.packages for a in p.artifacts]
            dated = [a.upload_time for a in artifacts if a.upload_time is not None]
            pinned = sum(1 for p in lock.packages if p.kind is PinKind.PINNED and p.version)
            fixed = _caught(lock, as_of)
            day = _caught(lock, max(dated) + timedelta(hours=1)) if dated else [0] * 3
            name = str(lock.path.relative_to(root))[:58]
            cells = "  ".join(f"{n:>4}" for n in fixed)
            dcells = "  ".join(f"{n:>4}" for n in day) if dated else "   -     -     -"
            print(
                f"{name:<58} {pinned:>5} {len(artifacts):>6} {len(dated):>6}  "
                f"           {cells}            {dcells}"
            )
            for i, n in enumerate([pinned, len(artifacts), len(dated), *fixed, *day]):
                totals[i] += n
        cells = "  ".join(f"{n:>4}" for n in totals[3:6])
        dcells = "  ".join(f"{n:>4}" for n in totals[6:])
        print(
            f"{'total (' + str(len(locks)) + ' lock files)':<58} {totals[0]:>5} {totals[1]:>6} "
            f"{totals[2]:>6}             {cells}            {dcells}"
        )
        share = 100 * totals[2] / totals[1] if totals[1] else 0.0
        print(f"\nfiles with an upload-time in the lock: {totals[2]} of {totals[1]} ({share:.1f}%)")
        inventory = Inventory(lockfiles=tuple(locks))
        settings = FreshnessSettings(parse_duration("P3D"))
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            result = assess(inventory, settings, as_of)
            runs.append(time.perf_counter() - start)
        print(
            f"check over all {len(locks)} lock files ({result.releases} releases, "
            f"{result.files_dated} dated files, {len(result.notes)} age-unknown notes): "
            f"median {statistics.median(runs) * 1000:.1f} ms of 5 runs"
        )
        parse_runs = []
        for _ in range(3):
            start = time.perf_counter()
            for lock in locks:
                parse_lockfile(lock.path)
            parse_runs.append(time.perf_counter() - start)
        print(f"parsing them (for scale): median {statistics.median(parse_runs) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
