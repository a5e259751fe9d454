"""Run two checkouts of wormsign over the same inputs and print every finding that differs.

    git worktree add /tmp/wormsign-old <commit>      # the code before a change
    .venv/bin/python benchmarks/compare_versions.py --old /tmp/wormsign-old [--malware N]

Kept for refactors that must not change behaviour (issue 13: "the same findings on the
same inputs before and after"). Inputs, all real:
- N malware samples from ../shared/data/malware (every k-th of the manifest, so the
  sample spans the set), written into one private temporary directory and scanned as a
  wheelhouse; never installed, imported, built or run; deleted afterwards;
- every lock file of ../shared/data/lockfiles/corpus.tar.gz, one scan each;
- the benign wheels and sdists under /work/bench-data/benign when they were downloaded
  (../shared/data/benign/fetch_benign.py);
- a real installed environment: this interpreter's own virtualenv (--env).

Each side runs as `python -m scanner scan ... --format json --no-cache` with PYTHONPATH
set to its checkout, offline, with the shared OSV snapshot. A finding is compared on
(rule id, severity, package, version, path, line, message); exit codes are compared too.
Exit status: 0 when nothing differs, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DB = DATA / "advisories" / "osv-pypi.zip"
BENIGN = Path("/work/bench-data/benign")

FindingKey = tuple[Any, ...]


def _scan(checkout: Path, args: list[str], cache: Path) -> tuple[int, set[FindingKey], float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "XDG_CACHE_HOME": str(cache),
        "COLUMNS": "200",
    }
    cmd = [sys.executable, "-m", "scanner", "scan", *args, "--format", "json", "--no-cache"]
    cmd += ["--db", str(DB), "--offline"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        return proc.returncode, {("error", proc.stderr.strip()[-300:])}, took
    report = json.loads(proc.stdout)
    keys = {
        (
            f["rule_id"],
            f["severity"],
            f["package"],
            f["version"],
            f["path"],
            f["line"],
            f["message"],
        )
        for f in report["findings"]
    }
    return proc.returncode, keys, took


def _materialise_malware(dest: Path, count: int) -> int:
    manifest = json.loads((DATA / "malware" / "manifest.json").read_text())
    samples = manifest["samples"]
    step = max(1, len(samples) // max(count, 1))
    written = 0
    for sample in samples[::step][:count]:
        inner = sample["inner_files"][0]
        with zipfile.ZipFile(DATA / "malware" / sample["file"]) as zf:
            data = zf.open(inner["path_in_zip"], pwd=b"infected").read()
        (dest / Path(inner["path_in_zip"]).name).write_bytes(data)
        written += 1
    return written


def _cases(work: Path, malware: int) -> list[tuple[str, list[str]]]:
    cases: list[tuple[str, list[str]]] = []
    if malware:
        wheelhouse = work / "malware"
        wheelhouse.mkdir()
        n = _materialise_malware(wheelhouse, malware)
        cases.append((f"malware sample ({n} files)", [str(wheelhouse)]))
    corpus = work / "lockfiles"
    with tarfile.open(DATA / "lockfiles" / "corpus.tar.gz") as tf:
        tf.extractall(corpus, filter="data")
    locks = (p for p in corpus.rglob("*") if p.is_file() and "LICENSE" not in p.name)
    cases.extend(
        (f"lock {lock.relative_to(corpus)}", [str(lock)])
        for lock in sorted(p for p in locks if p.suffix != ".md")
    )
    if BENIGN.is_dir():
        cases.append(("benign wheels and sdists", [str(BENIGN)]))
    cases.append(("this virtualenv", ["--env", sys.prefix]))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--new", type=Path, default=ROOT, help="checkout of the new code")
    parser.add_argument("--malware", type=int, default=300, help="malware samples (0: none)")
    args = parser.parse_args()
    differences = 0
    with tempfile.TemporaryDirectory(prefix="wormsign-compare-") as tmp:
        work = Path(tmp)
        cache = work / "cache"
        print(f"{'case':<70} {'old':>5} {'new':>5} {'old s':>7} {'new s':>7}  diff")
        for label, scan_args in _cases(work, args.malware):
            old_code, old, old_s = _scan(args.old, scan_args, cache)
            new_code, new, new_s = _scan(args.new, scan_args, cache)
            changed = old ^ new
            same = old_code == new_code and not changed
            differences += 0 if same else 1
            mark = "same" if same else f"DIFFERS ({len(old - new)} gone, {len(new - old)} new)"
            codes = f"{old_code:>5} {new_code:>5} {old_s:>7.2f} {new_s:>7.2f}"
            print(f"{label[:70]:<70} {codes}  {mark}")
            for key in sorted(old - new, key=repr):
                print(f"    - {key}")
            for key in sorted(new - old, key=repr):
                print(f"    + {key}")
    print(f"\n{differences} case(s) differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
