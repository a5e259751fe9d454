"""Integrity check speed on a real ML environment, against a plain parallel re-hash.

    python benchmarks/bench_integrity.py [--env PATH] [--repeat N]

Without --env it builds (once) a virtualenv at /work/bench-env with
`pip install torch==2.13.0 lightning transformers` and reuses it afterwards.

It prints, in one run: the number of files and bytes the check hashes; the
reference (the same files re-hashed with hashlib on a thread pool and on a
process pool, one worker per core; the faster counts); wormsign cold (collect
the environment and run the integrity check with an empty hash cache) and warm
(the same with the cache filled by the cold run). Every timing is the best of
`--repeat` runs, after one untimed pass that brings the files into the page
cache, so all sides read from memory.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.checks.integrity.check import run_integrity  # noqa: E402
from scanner.infra.hashing import default_workers  # noqa: E402
from scanner.models import Inventory  # noqa: E402
from scanner.options import ScanOptions  # noqa: E402
from scanner.sources.environment import collect_environment, find_site_packages  # noqa: E402

DEFAULT_ENV = Path("/work/bench-env")
PACKAGES = ["torch==2.13.0", "lightning", "transformers"]


def build_env(path: Path) -> None:
    """Create the benchmark environment once; reuse it when it is there."""
    if (path / "pyvenv.cfg").is_file():
        return
    print(f"building {path} with {' '.join(PACKAGES)} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run(
        [str(path / "bin" / "python"), "-m", "pip", "install", "-q", *PACKAGES], check=True
    )


def sha256_of(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def cpu_seconds() -> float:
    """CPU time of this process, its threads and its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


Timing = tuple[float, float]
"""(wall seconds, CPU seconds)."""


def timed(func: Callable[[], object]) -> Timing:
    cpu, start = cpu_seconds(), time.perf_counter()
    func()
    return time.perf_counter() - start, cpu_seconds() - cpu


def reference_threads(paths: list[str], workers: int) -> Timing:
    def run() -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(sha256_of, paths))

    return timed(run)


def reference_processes(paths: list[str], workers: int) -> Timing:
    def run() -> None:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(sha256_of, paths, chunksize=64))

    return timed(run)


def wormsign_scan(site: Path, cache_dir: Path) -> tuple[Timing, int, int]:
    """(wall, CPU) for collect + integrity check, files hashed, findings."""
    out: list[int] = []

    def run() -> None:
        env = collect_environment(site)
        result = run_integrity(Inventory(environments=(env,)), ScanOptions(cache_dir=cache_dir))
        out[:] = [result.files_hashed, len(result.findings)]

    timing = timed(run)
    return timing, out[0], out[1]


def best(runs: int, func: Callable[[], Timing]) -> Timing:
    times = [func() for _ in range(runs)]
    return min(t[0] for t in times), min(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, default=None, help="environment to scan")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env_path = args.env or DEFAULT_ENV
    if args.env is None:
        build_env(env_path)
    site = find_site_packages(env_path)[0]
    dists = collect_environment(site).distributions
    files = sorted(
        {
            str(site / e.path)
            for d in dists
            for e in d.record or ()
            if e.sha256 is not None or e.size is not None
        }
    )
    files = [f for f in files if os.path.isfile(f) and not os.path.islink(f)]
    total = sum(os.path.getsize(f) for f in files)
    workers = default_workers()
    print(f"environment  {site}")
    print(
        f"files        {len(files):,} hashed by RECORD, {total / 1e9:.2f} GB, "
        f"{len(dists)} distributions, {workers} cores"
    )

    reference_threads(files, workers)  # untimed: page cache warm for everyone
    threads = best(args.repeat, lambda: reference_threads(files, workers))
    processes = best(args.repeat, lambda: reference_processes(files, workers))
    reference = min(threads, processes)
    print(
        f"reference    hashlib threads {threads[0]:.2f} s (cpu {threads[1]:.2f} s), "
        f"processes {processes[0]:.2f} s (cpu {processes[1]:.2f} s); best of {args.repeat}"
    )

    cold_runs: list[Timing] = []
    warm_runs: list[Timing] = []
    hashed = findings = 0
    for _ in range(args.repeat):
        cache_dir = Path(tempfile.mkdtemp(prefix="wormsign-bench-"))
        try:
            timing, hashed, findings = wormsign_scan(site, cache_dir)
            cold_runs.append(timing)
            warm_runs.extend(wormsign_scan(site, cache_dir)[0] for _ in range(2))
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
    cold = (min(t[0] for t in cold_runs), min(t[1] for t in cold_runs))
    warm = (min(t[0] for t in warm_runs), min(t[1] for t in warm_runs))
    print(
        f"wormsign     cold {cold[0]:.2f} s (cpu {cold[1]:.2f} s), "
        f"warm {warm[0]:.3f} s (cpu {warm[1]:.3f} s; median wall "
        f"{statistics.median(t[0] for t in warm_runs):.3f} s); "
        f"{hashed:,} files hashed, {findings} findings"
    )
    print(
        f"ratio        cold / reference: wall {cold[0] / reference[0]:.2f}x, "
        f"cpu {cold[1] / reference[1]:.2f}x (target <= 1.10); "
        f"warm {warm[0]:.3f} s (target <= 0.30 s for ~1.3 GB)"
    )
    print(
        f"load         {os.getloadavg()[0]:.2f} (1-min load average on {os.cpu_count()} cores; "
        "other work inflates wall times, CPU times less so)"
    )


if __name__ == "__main__":
    main()
