"""What the heuristics cost on a first run (no verdict cache, one process), by phase.

    python benchmarks/bench_heuristics_cost.py [--venv PATH] [--profile N]

Defaults to the ML-training stack that `bench_gate.py` builds (run it once first:
`python benchmarks/bench_gate.py --only ml-training`). Prints files read, Python files,
files passing the capability pre-filter, files the rules had analysed (parsed), and CPU
seconds (process time, not wall: the machine is shared) for: reading the files, the
pre-filter alone, `ast.parse` alone over the files that pass it, and the whole rule pass
(`content_findings` over every distribution, which includes pre-filter, parse and walk).
With `--profile N`, the N costliest functions of the rule pass (cProfile, tottime).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import cProfile
import os
import pstats
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.checks.heuristics.check import (  # noqa: E402
    DistView,
    content_findings,
    is_python,
    view_of_installed,
)
from scanner.checks.heuristics.pyast import may_have_capability  # noqa: E402
from scanner.checks.heuristics.rules import default_rules  # noqa: E402
from scanner.sources.environment import collect_environment, find_site_packages  # noqa: E402

BENCH = Path(os.environ.get("WORMSIGN_BENCH_DIR", Path.home() / ".cache" / "wormsign-bench"))
DEFAULT_VENV = BENCH / "gate" / "ml-training"


def _parse_quietly(data: bytes) -> None:
    with contextlib.suppress(SyntaxError, ValueError, RecursionError, MemoryError):
        ast.parse(data.decode("utf-8", "replace").removeprefix("\ufeff"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    args = ap.parse_args()
    if not args.venv.is_dir():
        print(f"{args.venv}: no such environment (build it with bench_gate.py)", file=sys.stderr)
        return 2
    rules = default_rules()
    envs = [collect_environment(site) for site in find_site_packages(args.venv)]

    t = time.process_time()
    views: list[DistView] = [view_of_installed(d) for env in envs for d in env.distributions]
    read_s = time.process_time() - t
    files = [f for v in views for f in v.files]
    py = [f for f in files if is_python(f.path) and f.complete]
    py_mb = sum(len(f.data) for f in py) / 1e6

    t = time.process_time()
    kept = [f for f in py if may_have_capability(f.data)]
    prefilter_s = time.process_time() - t
    kept_mb = sum(len(f.data) for f in kept) / 1e6

    t = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in kept:
            _parse_quietly(f.data)
    parse_s = time.process_time() - t

    profiler = cProfile.Profile() if args.profile else None
    t = time.process_time()
    if profiler is not None:
        profiler.enable()
    found = sum(len(content_findings(v, rules)) for v in views)
    if profiler is not None:
        profiler.disable()
    rules_s = time.process_time() - t
    analysed = [a for v in views for a in v._analyses.values() if a.error != "skipped"]

    print(f"environment        {args.venv} ({len(views)} distributions)")
    print(f"files read         {len(files)}  ({read_s:.2f} CPU s)")
    print(f"python files       {len(py)}  ({py_mb:.1f} MB)")
    print(f"pre-filter keeps   {len(kept)}  ({kept_mb:.1f} MB; {prefilter_s:.2f} CPU s alone)")
    print(f"ast.parse of those {parse_s:.2f} CPU s alone")
    print(f"files analysed     {len(analysed)}  (parsed {sum(a.parsed for a in analysed)})")
    print(f"rule pass          {rules_s:.2f} CPU s, {found} findings")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
