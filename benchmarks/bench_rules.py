"""Recall and false positives of the heuristic rules, against GuardDog, on real data.

    .venv/bin/python benchmarks/bench_rules.py [--guarddog-sample N] [--jobs N]

Malware: ../shared/data/malware/ (password-protected zips; each sample's bytes are
written to a private temporary directory, scanned statically, and deleted — never
installed, imported, built or run). Benign: the wheels and sdists that
`../shared/data/benign/fetch_benign.py --dest /work/bench-data/benign ...` downloads.
Advisories are not consulted: only `scanner.checks.heuristics.check` runs.

Prints recall on all samples, recall on the samples whose name is in no advisory list,
every blocking (>= high) finding on benign packages, and files per second; then the
same for GuardDog (`guarddog pypi scan FILE`) from its own virtualenv.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanner.checks.heuristics.check import evaluate, scan_distribution_file, view_of_files  # noqa: E402
from scanner.errors import ScannerError  # noqa: E402
from scanner.models import Finding, Severity  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
R = TypeVar("R")
B = TypeVar("B")
MALWARE = DATA / "malware"
BENIGN = Path("/work/bench-data/benign")
GUARDDOG = Path("/work/bench-data/guarddog-venv/bin/guarddog")
BLOCKING = Severity.HIGH
UNZIP = shutil.which("unzip")


def _split(name: str) -> str:
    """The dataset's own dev / holdout split (manifest `split_rule`)."""
    return "dev" if hashlib.sha256(name.encode()).digest()[-1] % 2 == 0 else "holdout"


def _materialise(sample: dict[str, object], tmp: Path) -> Path:
    """Write one sample's inner file into `tmp` (never run; deleted by the caller).

    Uses the `unzip` binary when present: zipfile's ZipCrypto is pure Python and would
    dominate the timing of small samples.
    """
    inner = sample["inner_files"][0]  # type: ignore[index]
    member = str(inner["path_in_zip"])
    zpath = MALWARE / str(sample["file"])
    out = tmp / Path(member).name
    if UNZIP is not None:
        with out.open("wb") as fh:
            proc = subprocess.run(
                [UNZIP, "-p", "-P", "infected", str(zpath)],
                stdout=fh,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        if proc.returncode == 0 and out.stat().st_size == int(inner["size"]):
            return out
    with zipfile.ZipFile(zpath) as zf:
        out.write_bytes(zf.open(member, pwd=b"infected").read())
    return out


def _scan_path(path: Path, kind: str) -> list[Finding]:
    if kind == "loose-source-tree" or path.suffix == ".py":
        name = "setup.py" if "setup" in path.name else path.name
        return evaluate(view_of_files([(name, path.read_bytes())], kind="sdist", label=str(path)))
    return scan_distribution_file(path)


def _ours_malware(sample: dict[str, object]) -> tuple[str, list[str], str | None, float, list[str]]:
    tmp = Path(tempfile.mkdtemp(prefix="ws-bench-"))
    start = time.perf_counter()
    try:
        path = _materialise(sample, tmp)
        start = time.perf_counter()
        findings = _scan_path(path, str(sample["kind"]))
        error = None
    except ScannerError as err:
        findings, error = [], err.diagnostics()
    finally:
        elapsed = time.perf_counter() - start
        shutil.rmtree(tmp, ignore_errors=True)
    ids = sorted({f"{f.rule_id}:{f.severity.label}" for f in findings if f.severity >= BLOCKING})
    weak = sorted(
        {
            f"{f.rule_id}:{f.severity.label} {f.path}:{f.line} {f.evidence[:120]!r}"
            for f in findings
            if f.severity < BLOCKING
        }
    )
    return str(sample["file"]), ids, error, elapsed, weak


def _ours_benign(entry: dict[str, object]) -> tuple[str, list[str], str | None, float]:
    start = time.perf_counter()
    path = BENIGN / str(entry["filename"])
    try:
        findings = scan_distribution_file(path)
        error = None
    except ScannerError as err:
        findings, error = [], err.diagnostics()
    blocking = [
        f"{f.rule_id} {f.severity.label} {f.path}:{f.line} {f.evidence!r}"
        for f in findings
        if f.severity >= BLOCKING
    ]
    return str(entry["filename"]), blocking, error, time.perf_counter() - start


def _guarddog(path: Path) -> tuple[bool, str | None]:
    try:
        proc = subprocess.run(
            [str(GUARDDOG), "pypi", "scan", str(path), "--output-format", "json"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, "timeout"
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    except (ValueError, IndexError):
        return False, f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
    return int(out.get("issues", 0) or 0) > 0, None


def _gd_malware(sample: dict[str, object]) -> tuple[str, bool, str | None, float]:
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="ws-bench-gd-"))
    try:
        path = _materialise(sample, tmp)
        start = time.perf_counter()
        if sample["kind"] == "loose-source-tree":
            sub = tmp / "src"
            sub.mkdir()
            shutil.move(str(path), str(sub / "setup.py"))
            path = sub
        hit, error = _guarddog(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(sample["file"]), hit, error, time.perf_counter() - start


def _gd_benign(entry: dict[str, object]) -> tuple[str, bool, str | None, float]:
    start = time.perf_counter()
    hit, error = _guarddog(BENIGN / str(entry["filename"]))
    return str(entry["filename"]), hit, error, time.perf_counter() - start


def _timed_runs(
    jobs: int,
    on_malware: Callable[[Any], R],
    malware: list[Any],
    chunk: int,
    on_benign: Callable[[Any], B],
    benign: list[Any],
) -> tuple[list[R], float, list[B], float]:
    """Run one scanner over the malware, then over the benign files, each timed (wall)."""
    with multiprocessing.Pool(jobs) as pool:
        t0 = time.perf_counter()
        mal = pool.map(on_malware, malware, chunksize=chunk) if malware else []
        t_mal = time.perf_counter() - t0
        t0 = time.perf_counter()
        ben = pool.map(on_benign, benign, chunksize=1) if benign else []
        return mal, t_mal, ben, time.perf_counter() - t0


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "n/a"


def main() -> int:
    global BENIGN  # read by the worker processes: set before they fork
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--limit", type=int, default=0, help="scan only N random samples")
    ap.add_argument("--split", choices=("all", "dev", "holdout"), default="all")
    ap.add_argument(
        "--guarddog-sample",
        type=int,
        default=100,
        help="GuardDog on N random malware samples (0 = off)",
    )
    ap.add_argument(
        "--guarddog-benign",
        type=int,
        default=20,
        help="GuardDog on N random benign files under 5 MB",
    )
    ap.add_argument("--show-misses", type=int, default=0)
    ap.add_argument(
        "--results-out",
        type=Path,
        default=None,
        help="write every sample's blocking and other findings as JSON lines",
    )
    ap.add_argument(
        "--misses-out",
        type=Path,
        default=None,
        help="write every missed sample, with its non-blocking findings, as JSON lines",
    )
    ap.add_argument("--no-benign", action="store_true")
    ap.add_argument(
        "--benign-dir",
        type=Path,
        default=BENIGN,
        help="a fetch_benign.py --dest directory (default: %(default)s)",
    )
    ap.add_argument("--no-malware", action="store_true", help="only the benign files")
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args()
    BENIGN = args.benign_dir

    manifest = json.loads((MALWARE / "manifest.json").read_text())
    samples = [
        s
        for s in manifest["samples"]
        if args.split == "all" or _split(s["normalized_name"]) == args.split
    ]
    rng = random.Random(args.seed)
    if args.limit:
        samples = rng.sample(samples, min(args.limit, len(samples)))
    if args.no_malware:
        samples = []
    benign: list[dict[str, object]] = []
    if not args.no_benign:
        bman = BENIGN / "manifest.json"
        if not bman.is_file():
            print(f"benign set missing: run fetch_benign.py --dest {BENIGN} ...", file=sys.stderr)
            return 2
        benign = json.loads(bman.read_text())
    by_file = {s["file"]: s for s in samples}

    print(
        f"wormsign heuristics: {len(samples)} malware samples, {len(benign)} benign files, "
        f"{args.jobs} processes"
    )
    mal, t_mal, ben, t_ben = _timed_runs(args.jobs, _ours_malware, samples, 8, _ours_benign, benign)

    detected = {f for f, ids, *_ in mal if ids}
    errors = [(f, e) for f, _, e, *_ in mal if e]
    no_adv = [s for s in samples if not s["in_ossf_names_2026_05"]]
    print("\n== wormsign (advisories off) ==")
    print(f"recall, all samples:            {_pct(len(detected), len(samples))}")
    print(
        f"recall, no-advisory subset:     "
        f"{_pct(sum(1 for s in no_adv if s['file'] in detected), len(no_adv))}"
    )
    for split in ("dev", "holdout"):
        part = [s for s in samples if _split(s["normalized_name"]) == split]
        print(
            f"recall, {split:8s} split:          "
            f"{_pct(sum(1 for s in part if s['file'] in detected), len(part))}"
        )
    print(f"unreadable samples:             {len(errors)}")
    rule_counts = collections.Counter(i.split(":")[0] for _, ids, *_ in mal for i in ids)
    print(
        "samples per blocking rule:      "
        + ", ".join(f"{k} {v}" for k, v in rule_counts.most_common())
    )
    mal_bytes = sum(int(s["inner_files"][0]["size"]) for s in samples)
    if samples:
        print(
            f"throughput, malware:            {len(samples) / t_mal:.1f} files/s "
            f"({mal_bytes / t_mal / 1e6:.2f} MB/s, wall {t_mal:.1f}s)"
        )
    if benign:
        blocking = [(f, b) for f, b, _, _ in ben if b]
        ben_bytes = sum(int(str(e["size"])) for e in benign)
        print(f"benign files with a blocking finding: {len(blocking)}/{len(benign)}")
        for f, b in blocking:
            for line in b:
                print(f"  {f}: {line}")
        for f, _, e, _ in ben:
            if e:
                print(f"  unreadable benign file {f}: {e}")
        print(
            f"throughput, benign:             {len(benign) / t_ben:.2f} files/s "
            f"({ben_bytes / t_ben / 1e6:.1f} MB/s, wall {t_ben:.1f}s)"
        )
        slow = sorted(ben, key=lambda r: -r[3])[:3]
        print(
            "slowest benign files:           " + ", ".join(f"{f} {t:.1f}s" for f, _, _, t in slow)
        )
    if args.show_misses:
        missed = [s for s in samples if s["file"] not in detected]
        for s in rng.sample(missed, min(args.show_misses, len(missed))):
            print(f"  missed: {s['file']}")
    if args.results_out is not None:
        with args.results_out.open("w") as out:
            for f, ids, e, _t, weak in mal:
                out.write(
                    json.dumps(
                        {
                            "file": f,
                            "blocking": ids,
                            "error": e,
                            "weak": weak,
                            "no_advisory": not by_file[f]["in_ossf_names_2026_05"],
                        }
                    )
                    + "\n"
                )
    if args.misses_out is not None:
        with args.misses_out.open("w") as out:
            for f, ids, e, _t, weak in mal:
                if not ids:
                    s = by_file[f]
                    out.write(
                        json.dumps(
                            {
                                "file": f,
                                "kind": s["kind"],
                                "error": e,
                                "no_advisory": not s["in_ossf_names_2026_05"],
                                "weak": weak,
                            }
                        )
                        + "\n"
                    )
    for f, e in errors[:10]:
        print(f"  error: {f}: {e}")

    if args.guarddog_sample and GUARDDOG.exists():
        n = args.guarddog_sample
        gd_samples = rng.sample(samples, min(n, len(samples)))
        small = [e for e in benign if int(str(e["size"])) < 5_000_000]
        gd_benign = rng.sample(small, min(args.guarddog_benign, len(small))) if small else []
        gmal, tg_mal, gben, tg_ben = _timed_runs(
            args.jobs, _gd_malware, gd_samples, 1, _gd_benign, gd_benign
        )
        g_det = {f for f, hit, _, _ in gmal if hit}
        g_noadv = [s for s in gd_samples if not s["in_ossf_names_2026_05"]]
        ours_same = sum(1 for s in gd_samples if s["file"] in detected)
        print(
            f"\n== GuardDog (random subset: {len(gd_samples)} malware, {len(gd_benign)} "
            f"benign files under 5 MB; GuardDog is too slow for the full set) =="
        )
        print(
            f"recall, subset:                 {_pct(len(g_det), len(gd_samples))} "
            f"(wormsign on the same subset: {_pct(ours_same, len(gd_samples))})"
        )
        print(
            f"recall, no-advisory in subset:  "
            f"{_pct(sum(1 for s in g_noadv if s['file'] in g_det), len(g_noadv))}"
        )
        gerr = [(f, e) for f, _, e, _ in gmal + gben if e]
        print(f"GuardDog errors:                {len(gerr)}")
        if gben:
            flagged = [f for f, hit, _, _ in gben if hit]
            print(f"benign files GuardDog flags:    {len(flagged)}/{len(gben)}")
        print(f"throughput, malware:            {len(gd_samples) / tg_mal:.2f} files/s")
        if gben:
            print(f"throughput, benign:             {len(gben) / tg_ben:.3f} files/s")
        ratio_m = (len(samples) / t_mal) / (len(gd_samples) / tg_mal)
        line = f"wormsign / GuardDog throughput: {ratio_m:.0f}x on malware (files/s)"
        if gben and benign:
            ours_small = [r for r in ben if r[0] in {str(e["filename"]) for e in gd_benign}]
            ours_t = sum(r[3] for r in ours_small) / args.jobs
            gd_t = tg_ben
            line += (
                f"; on the same {len(gben)} benign files: wormsign {ours_t:.1f}s "
                f"vs GuardDog {gd_t:.1f}s ({gd_t / max(ours_t, 1e-9):.0f}x)"
            )
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
