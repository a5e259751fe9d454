"""WS-TYPO-001 on real names: false positives and throughput.

    python benchmarks/bench_typosquat.py [--ranked PATH.tsv]

Prints, for each name set: how many names, how many are popular or established (never
flagged), how many the check flags (each one listed for the benign sets), and names per second.
- every package of the real lock-file corpus (../shared/data/lockfiles/corpus.tar.gz),
  parsed with scanner.sources.lockfiles (files a parser refuses are listed as skipped);
- ../shared/data/benign/*.txt (the ML stack and PyPI's most downloaded packages);
- optional: a TSV of PyPI names with a download-rank column (`--ranked`), the names
  ranked among the most downloaded: a larger benign population;
- the names of the real malicious distributions in ../shared/data/malware/manifest.json:
  the share flagged. Not a recall figure (most malware is not a typosquat), but it shows
  what the check catches in the wild.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.checks.metadata.check import TyposquatIndex, default_index  # noqa: E402
from scanner.errors import SourceError  # noqa: E402
from scanner.models import canonical  # noqa: E402
from scanner.sources.lockfiles import parse_lockfile  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def lock_names() -> tuple[set[str], list[str], int]:
    """Names of every package in the lock corpus, the files skipped, and files parsed."""
    names: set[str] = set()
    skipped: list[str] = []
    parsed = 0
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(DATA / "lockfiles" / "corpus.tar.gz") as tf:
            tf.extractall(tmp, filter="data")
        for path in sorted(p for p in Path(tmp).rglob("*") if p.is_file()):
            if "LICENSE" in path.name or path.suffix == ".md":
                continue
            try:
                lockfile = parse_lockfile(path)
            except SourceError as err:
                skipped.append(f"{path.relative_to(tmp)}: {err.message}")
                continue
            parsed += 1
            names.update(p.name for p in lockfile.packages)
    return names, skipped, parsed


def benign_names() -> set[str]:
    names: set[str] = set()
    for listing in sorted((DATA / "benign").glob("*.txt")):
        for line in listing.read_text(encoding="utf-8").splitlines():
            name = line.split("==")[0].strip()
            if name and not name.startswith("#"):
                names.add(canonical(name))
    return names


def ranked_names(path: Path) -> list[str]:
    """Names with a non-empty rank column in a `name<TAB>...rank...` TSV, best rank first."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader)
        rank_col = next(i for i, h in enumerate(header) if "rank" in h)
        ranked = sorted(
            (int(row[rank_col]), canonical(row[0]))
            for row in reader
            if len(row) > rank_col and row[rank_col]
        )
    return list(dict.fromkeys(name for _, name in ranked))


def malware_names() -> set[str]:
    manifest = json.loads((DATA / "malware" / "manifest.json").read_text(encoding="utf-8"))
    return {canonical(s["name"]) for s in manifest["samples"]}


def measure(label: str, names: set[str], index: TyposquatIndex, *, show: bool) -> None:
    """Flagged names with the index, and with its popular names alone (the distance rule
    without the established exemption), so each run shows what the exemption absorbs."""
    start = time.perf_counter()
    hits = sorted((n, m.popular, m.distance) for n in names if (m := index.match(n)))
    elapsed = time.perf_counter() - start
    bare = TyposquatIndex(index.popular)
    exempted = sorted(n for n in names if n in index.established and bare.match(n))
    listed = sum(1 for n in names if n in index.popular or n in index.established)
    print(
        f"{label}: {len(names)} names ({listed} popular or established, "
        f"{len(names) - listed} judged by distance); flagged {len(hits)} "
        f"({100 * len(hits) / max(len(names), 1):.2f}%); "
        f"{len(names) / max(elapsed, 1e-9):,.0f} names/s; "
        f"{len(exempted)} more without the established exemption"
    )
    if show:
        for name, popular, distance in hits:
            print(f"    {name} ~ {popular} (distance {distance})")
    shown = exempted if show or len(exempted) <= 20 else [*exempted[:20], "..."]
    if shown:
        print(f"    exempted as established: {', '.join(shown)}")


def measure_held_out(names: list[str], popular: frozenset[str]) -> None:
    """The ranked names are the established list's own source, so flagging none of them is
    no test. Hold the lower half out: exempt only the upper half and count what the check
    flags in the lower half, packages just as real that the exemption does not cover (as
    rank 15,001 and beyond are not covered by the shipped list)."""
    half = len(names) // 2
    index = TyposquatIndex(popular, names[:half])
    held_out = names[half:]
    hits = sorted((n, m.popular, m.distance) for n in held_out if (m := index.match(n)))
    print(
        f"held out: ranks {half + 1}-{len(names)} ({len(held_out)} names) with only the "
        f"top {half} established; flagged {len(hits)} "
        f"({100 * len(hits) / max(len(held_out), 1):.2f}%)"
    )
    for name, near, distance in hits:
        print(f"    {name} ~ {near} (distance {distance})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranked", type=Path, help="TSV of PyPI names with a rank column")
    args = parser.parse_args()
    start = time.perf_counter()
    index = default_index()
    print(
        f"index: {len(index.popular)} popular names, {len(index.established)} established "
        f"names, built in {time.perf_counter() - start:.3f}s"
    )
    names, skipped, parsed = lock_names()
    print(f"lock corpus: {parsed} files parsed, {len(skipped)} skipped")
    for line in skipped:
        print(f"    skipped {line}")
    measure("lock corpus packages", names, index, show=True)
    measure("benign lists", benign_names(), index, show=True)
    if args.ranked:
        ranked = ranked_names(args.ranked)
        measure(f"ranked names in {args.ranked.name}", set(ranked), index, show=True)
        measure_held_out(ranked, index.popular)
    measure("malicious distribution names", malware_names(), index, show=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
