"""The gate before a training job, timed on real environments built from PyPI.

    python benchmarks/bench_gate.py [--only NAME ...] [--jobs N] [--db PATH] [--skip-build]

Builds once (cached under ~/.cache/wormsign-bench/gate, outside the repository) a venv per
stack with pip, then for each one runs `wormsign scan --env VENV` as a separate process:

- the whole gate (all checks, offline OSV database) with an empty cache, then again with
  the environment unchanged (the repeat);
- `--check integrity` alone, first run and repeat, beside a plain single-threaded
  hashlib pass over the same files (what RECORD lists) in the same run;

and prints the exit code, every blocking finding, the medium findings (count and ids),
wall and CPU seconds (CPU includes worker processes), and the peak resident memory of
the largest process. The machine's load average is printed before and after: on a
shared machine wall time grows with the load, CPU time much less.

The OSV export zip is imported once into a SQLite database beside the venvs, so that a
"first run" measures the empty content cache, not the database import.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.checks.advisories.database import cached_import  # noqa: E402
from scanner.sources.environment import collect_environment, find_site_packages  # noqa: E402

BENCH = Path(os.environ.get("WORMSIGN_BENCH_DIR", Path.home() / ".cache" / "wormsign-bench"))
ROOT = BENCH / "gate"
DEFAULT_DB = REPO.parent / "shared" / "data" / "advisories" / "osv-pypi.zip"

STACKS: dict[str, list[str]] = {
    "ml-training": [
        "torch==2.13.0",
        "lightning",
        "pytorch-lightning",
        "transformers",
        "tokenizers",
        "safetensors",
        "huggingface-hub",
        "datasets",
        "accelerate",
        "numpy",
        "pandas",
        "scikit-learn",
        "scipy",
        "requests",
    ],
    "jax": ["jax", "jaxlib"],
    # litellm 1.82.7 and 1.82.8 were the compromised releases: pin a clean one
    "llm-app": ["langchain", "openai", "fastapi", "uvicorn", "pydantic", "litellm==1.82.6"],
    "data-science": ["pandas", "jupyterlab", "matplotlib", "scikit-learn"],
    "wormsign-test": [f"{REPO}[test]"],
}


@dataclass(frozen=True)
class Run:
    """One wormsign process."""

    exit_code: int
    wall: float
    cpu: float
    peak_mb: float
    report: dict[str, object]


def build(name: str, packages: list[str]) -> Path:
    """The venv of a stack, built on first use (a `.built` marker says it finished)."""
    venv = ROOT / name
    if (venv / ".built").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"building {name}: pip install {' '.join(packages)}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--disable-pip-version-check", *packages], check=True)
    (venv / ".built").touch()
    return venv


def advisory_db(source: Path) -> Path:
    """The OSV export as a SQLite database, imported once."""
    if source.suffix != ".zip":
        return source
    return cached_import(source, BENCH / "osv-db")


LAUNCHER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    cmd, cwd, out = json.loads(line)
    start = time.perf_counter()
    with open(out, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps([code, wall, cpu, usage.ru_maxrss]), flush=True)
"""


class Launcher:
    """A small process that starts the measured ones.

    On Linux a child's peak RSS (`ru_maxrss`) starts at its parent's high-water mark when
    it execs, so a wormsign started from this benchmark (which reads whole files for the
    hashlib pass) would report the benchmark's memory. Started first, while small, this
    launcher is the parent instead: the peak it reports is wormsign's, plus at most the
    launcher's own few MB.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, cmd: list[str], cwd: str, err: Path) -> tuple[int, float, float, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([cmd, cwd, str(err)]) + "\n")
        self.proc.stdin.flush()
        code, wall, cpu, maxrss = json.loads(self.proc.stdout.readline())
        return int(code), float(wall), float(cpu), maxrss / 1024


_launcher: Launcher | None = None


def wormsign(args: list[str]) -> Run:
    """Run `wormsign ARGS --format json` as its own process; wall, CPU (with its worker
    processes) and peak memory (its largest process)."""
    assert _launcher is not None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "scanner", *args, "--format", "json", "--output", str(out)]
        code, wall, cpu, peak = _launcher.run(cmd, tmp, Path(tmp) / "stderr")
        err = (Path(tmp) / "stderr").read_text(errors="replace")
        report = json.loads(out.read_text()) if out.exists() else {"error": err.strip()[-300:]}
    return Run(exit_code=code, wall=wall, cpu=cpu, peak_mb=peak, report=report)


def record_files(venv: Path) -> list[Path]:
    """Every file RECORD lists in the venv (what integrity hashes)."""
    files: list[Path] = []
    for site in find_site_packages(venv):
        env = collect_environment(site)
        for dist in env.distributions:
            for entry in dist.record or ():
                path = (site / entry.path).resolve()
                if entry.sha256 and path.is_file():
                    files.append(path)
    return sorted(set(files))


def plain_hashlib(files: list[Path]) -> tuple[float, float, int]:
    """One thread: read each file whole and sha256 it. (wall s, CPU s, bytes)."""
    start, cpu = time.perf_counter(), time.process_time()
    total = 0
    for path in files:
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        total += len(data)
    return time.perf_counter() - start, time.process_time() - cpu, total


def findings(run: Run) -> list[dict[str, object]]:
    value = run.report.get("findings", [])
    return value if isinstance(value, list) else []


def blocking(run: Run) -> list[str]:
    out = []
    for f in findings(run):
        if f.get("severity") not in ("high", "critical"):
            continue
        refs = f.get("references")
        first = refs[0] if isinstance(refs, list) and refs else ""
        where = f.get("path") or ""
        shown = str(where).split("site-packages/")[-1]
        out.append(f"{f['severity']} {f['rule_id']} {first} {f.get('package')} {shown}".strip())
    return out


def medium_ids(run: Run) -> list[str]:
    return sorted(str(f["rule_id"]) for f in findings(run) if f.get("severity") == "medium")


def bench(name: str, venv: Path, db: Path, jobs: int | None) -> dict[str, object]:
    base = ["scan", "--env", str(venv), "--db", str(db)]
    if jobs:
        base += ["--jobs", str(jobs)]
    files = record_files(venv)
    plain_hashlib(files)  # warm the page cache: every side reads from memory
    with tempfile.TemporaryDirectory() as cache:
        first = wormsign([*base, "--cache-dir", cache])
        repeat = wormsign([*base, "--cache-dir", cache])
    with tempfile.TemporaryDirectory() as cache:
        integ = [*base, "--check", "integrity", "--cache-dir", cache]
        integrity_first = wormsign(integ)
        integrity_repeat = wormsign(integ)
    hashlib_s, hashlib_cpu, size = plain_hashlib(files)
    return {
        "name": name,
        "files": len(files),
        "mb": size / 1e6,
        "first": first,
        "repeat": repeat,
        "integrity_first": integrity_first,
        "integrity_repeat": integrity_repeat,
        "hashlib": hashlib_s,
        "hashlib_cpu": hashlib_cpu,
    }


def show(row: dict[str, object]) -> None:
    first, repeat = row["first"], row["repeat"]
    i1, i2 = row["integrity_first"], row["integrity_repeat"]
    assert isinstance(first, Run) and isinstance(repeat, Run)
    assert isinstance(i1, Run) and isinstance(i2, Run)
    mediums = medium_ids(first)
    print(f"\n## {row['name']}: {row['files']} files, {row['mb']:.0f} MB hashed by integrity")
    print(f"exit code            first {first.exit_code}, repeat {repeat.exit_code}")
    if "error" in first.report:
        print(f"error                {first.report['error']}")
    block = blocking(first)
    print(f"blocking findings    {len(block)}")
    for line in block:
        print(f"  - {line}")
    counts: dict[str, int] = {}
    for rule in mediums:
        counts[rule] = counts.get(rule, 0) + 1
    listed = ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))
    print(f"medium findings      {len(mediums)}: {listed}")
    print(f"whole gate, first    {first.wall:6.2f} s wall  {first.cpu:6.2f} s CPU")
    print(f"whole gate, repeat   {repeat.wall:6.2f} s wall  {repeat.cpu:6.2f} s CPU")
    peak = max(first.peak_mb, repeat.peak_mb)
    print(f"peak memory          {peak:6.0f} MB (largest process)")
    print(f"integrity, first     {i1.wall:6.2f} s wall  {i1.cpu:6.2f} s CPU")
    print(f"integrity, repeat    {i2.wall:6.2f} s wall  {i2.cpu:6.2f} s CPU")
    hashlib_s, hashlib_cpu = row["hashlib"], row["hashlib_cpu"]
    assert isinstance(hashlib_s, float) and isinstance(hashlib_cpu, float)
    print(f"plain hashlib pass   {hashlib_s:6.2f} s wall  {hashlib_cpu:6.2f} s CPU (one thread)")
    wall_ratio = i1.wall / hashlib_s if hashlib_s else float("nan")
    cpu_ratio = i1.cpu / hashlib_cpu if hashlib_cpu else float("nan")
    print(f"integrity / hashlib  {wall_ratio:6.2f}x wall  {cpu_ratio:6.2f}x CPU (first run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(STACKS), help="stacks to measure")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for wormsign")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="OSV database or export")
    parser.add_argument("--skip-build", action="store_true", help="only stacks already built")
    args = parser.parse_args()
    global _launcher
    _launcher = Launcher()  # first, while this process is small
    names = args.only or list(STACKS)
    venvs = {}
    for name in names:
        if args.skip_build and not (ROOT / name / ".built").exists():
            print(f"{name}: not built, skipped")
            continue
        try:
            venvs[name] = build(name, STACKS[name])
        except subprocess.CalledProcessError as err:
            print(f"{name}: build failed ({err}), skipped")
    db = advisory_db(args.db)
    print(f"wormsign {REPO}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"advisory database {db}")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for name, venv in venvs.items():
        show(bench(name, venv, db, args.jobs))
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
