"""Advisory benchmark: import the real OSV export, then match every real lock file against it.

    .venv/bin/python benchmarks/bench_advisories.py [--export ZIP] [--corpus TAR_GZ]

Prints measured figures (targets from issue 4: import < 15 s; matching a
150-package lock < 50 ms once the database is loaded; a full offline scan of it
< 1 s warm). Lock files whose parser fails are skipped and listed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.checks.advisories.check import check_advisories  # noqa: E402
from scanner.checks.advisories.database import AdvisoryDatabase, build_database, iter_source  # noqa: E402
from scanner.checks.interface import CheckContext  # noqa: E402
from scanner.errors import ScannerError  # noqa: E402
from scanner.models import Inventory, LockedPackage, Lockfile, PinKind  # noqa: E402
from scanner.options import ScanOptions  # noqa: E402
from scanner.sources.lockfiles import parse_lockfile  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
FOLDER_FORMATS = {
    "requirements": "requirements",
    "poetry": "poetry",
    "uv": "uv",
    "pipfile": "pipfile",
    "pylock": "pylock",
    "pdm": "pdm",
    "conda": "conda-lock",
}


def parse_corpus(root: Path) -> tuple[list[Lockfile], list[str]]:
    """Every lock file of the corpus that a parser accepts, and why the others were skipped."""
    locks: list[Lockfile] = []
    skipped: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name.endswith("LICENSE") or path.suffix == ".md":
            continue
        try:
            locks.append(parse_lockfile(path))
            continue
        except ScannerError as first:
            fmt = FOLDER_FORMATS.get(path.parent.name)
            if fmt is None:
                skipped.append(f"{path.relative_to(root)}: {first.diagnostics()}")
                continue
            try:
                locks.append(parse_lockfile(path, fmt))
            except ScannerError as err:
                skipped.append(f"{path.relative_to(root)}: {err.diagnostics()}")
        except Exception as err:  # a parser bug is reported, not fatal to the benchmark
            skipped.append(f"{path.relative_to(root)}: {type(err).__name__}: {err}")
    return locks, skipped


def pinned(lock: Lockfile) -> int:
    return sum(1 for p in lock.packages if p.kind is PinKind.PINNED and p.version)


def time_match(lock: Lockfile, db_path: Path, repeats: int = 5) -> tuple[float, float, float, int]:
    """(cold ms, warm ms: median of repeats, warm CPU ms: median, findings).

    Every run opens the database afresh (no in-process cache carried over), as one
    `wormsign scan` does; "cold" is the first run of the process. CPU time is
    printed beside wall time because shared machines make wall time noisy.
    """
    inventory = Inventory(lockfiles=(lock,))
    options = ScanOptions(db_path=db_path)
    start = time.perf_counter()
    findings = list(check_advisories(inventory, CheckContext(options)).findings)
    cold = (time.perf_counter() - start) * 1000
    runs = []
    cpu_runs = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        list(check_advisories(inventory, CheckContext(options)).findings)
        runs.append((time.perf_counter() - start) * 1000)
        cpu_runs.append((time.process_time() - cpu) * 1000)
    return cold, statistics.median(runs), statistics.median(cpu_runs), len(findings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--export", type=Path, default=SHARED / "advisories" / "osv-pypi.zip")
    parser.add_argument("--corpus", type=Path, default=SHARED / "lockfiles" / "corpus.tar.gz")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-adv-") as tmp_name:
        tmp = Path(tmp_name)
        db_path = tmp / "osv.sqlite"
        start = time.perf_counter()
        cpu = time.process_time()
        summary = build_database(iter_source(args.export), db_path, source=str(args.export))
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu
        size_mb = db_path.stat().st_size / 1e6
        print(
            f"import: {summary.records} records from {args.export.name} in {wall:.2f} s wall "
            f"({cpu:.2f} s CPU), database {size_mb:.1f} MB, {len(summary.notes)} notes "
            f"[target < 15 s]"
        )

        with AdvisoryDatabase(db_path) as db:
            start = time.perf_counter()
            db.advisories_for("torch")
            print(
                f"first lookup (torch, {len(db.advisories_for('torch'))} records): "
                f"{(time.perf_counter() - start) * 1000:.2f} ms"
            )

        corpus = tmp / "corpus"
        with tarfile.open(args.corpus) as tf:
            tf.extractall(corpus, filter="data")
        locks, skipped = parse_corpus(corpus)
        print(f"\nlock files parsed: {len(locks)}, skipped: {len(skipped)}")
        for line in skipped:
            print(f"  skipped {line}")

        print(
            f"\n{'lock file':60} {'format':12} {'pins':>5} {'cold ms':>8} {'warm ms':>8} "
            f"{'cpu ms':>7} {'findings':>8}"
        )
        total_pins = 0
        total_ms = 0.0
        total_cpu = 0.0
        for lock in locks:
            n = pinned(lock)
            if not n:
                continue
            cold, warm, cpu_ms, found = time_match(lock, db_path)
            total_pins += n
            total_ms += warm
            total_cpu += cpu_ms
            name = str(lock.path.relative_to(corpus))
            print(
                f"{name[-60:]:60} {lock.format:12} {n:5d} {cold:8.1f} {warm:8.1f} "
                f"{cpu_ms:7.1f} {found:8d}"
            )
        if total_pins:
            print(
                f"\nall locks: {total_pins} pins matched in {total_ms:.0f} ms warm wall, "
                f"{total_cpu:.0f} ms CPU ({total_cpu / total_pins:.3f} ms CPU per pin)"
            )

        # A 150-package lock: the first 150 distinct pins of the corpus, in one lock file.
        seen: dict[str, LockedPackage] = {}
        for lock in locks:
            for pkg in lock.packages:
                if pkg.kind is PinKind.PINNED and pkg.version and pkg.name not in seen:
                    seen[pkg.name] = pkg
        pins150 = tuple(list(seen.values())[:150])
        if len(pins150) == 150:
            lock150 = Lockfile(
                path=tmp / "requirements.txt", format="requirements", packages=pins150
            )
            cold, warm, cpu_ms, found = time_match(lock150, db_path, repeats=10)
            print(
                f"150-package lock: {cold:.1f} ms cold, {warm:.1f} ms warm, {cpu_ms:.1f} ms CPU "
                f"(medians of 10), {found} findings [target < 50 ms]"
            )
            scan_lock = tmp / "requirements-150.txt"
            scan_lock.write_text("".join(f"{p.name}=={p.version}\n" for p in pins150))
            _full_scan(scan_lock, db_path)
        else:
            print(f"only {len(pins150)} distinct pins in the corpus; no 150-package figure")


def _full_scan(lock: Path, db_path: Path) -> None:
    """Parse + every registered check + advisories, twice; the second run is the warm one."""
    from scanner.gate import CHECKS, check

    options = ScanOptions(db_path=db_path, use_cache=True)
    registered = "advisories" in " ".join(CHECKS.values())
    times = []
    cpu_times = []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        report = check([lock], options=options)
        if not registered:  # until the lead registers the check in scanner.gate.CHECKS
            list(
                check_advisories(
                    Inventory(lockfiles=(parse_lockfile(lock),)), CheckContext(options)
                ).findings
            )
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
    note = "" if registered else " (advisories check run beside gate.check: not registered yet)"
    print(
        f"full offline scan of the 150-package lock: {times[0]:.0f} ms first, "
        f"{min(times[1:]):.0f} ms warm ({min(cpu_times[1:]):.0f} ms CPU), "
        f"{len(report.findings)} gate findings{note} "
        f"[target < 1 s warm]"
    )


if __name__ == "__main__":
    main()
