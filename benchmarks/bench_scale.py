"""scan-index at scale (issue 18): engines, worker counts, shard sizes, reruns.

    python benchmarks/bench_scale.py [--limit N] [--malware N] [--sdists N] [--models N]
                                     [--benign DIR] [--db PATH] [--skip-dask]

Builds a corpus in a temporary directory (deleted at the end, never in the repository):
- real wheels and sdists of the gate benchmark's ML stacks: the files under --benign
  (default /work/bench-data/benign, fetched with `pip download`), the first --limit of
  them by name, hard-linked or copied; a second copy of a fifth of them as a mirror
  (duplicates, as a mirror's `packages/` and a wheelhouse share files);
- the real malicious samples of ../shared/data/malware (password-protected zips): their
  bytes are read with zipfile and written into the temporary directory, never installed,
  imported, built or run;
- --sdists small generated sdists and --models generated checkpoints (plain pickles and
  zip checkpoints of plain data, made here with pickle.dumps of dicts and lists).

Then prints, in one run: engine start-up cost; artifacts/s and MB/s, wall and CPU seconds
for `local` and `dask` (a LocalCluster of processes) at 1 and 2 workers, cold; whether
their findings are byte-identical; overhead against shard size (1, 16, 64, 256); a cold
run, a warm rerun, a rerun after a rules change and after an advisory-database update
(wall time and verdicts reused); the duplicate ratio; peak memory per worker; slowest
shard against the median; recall on the malware part against a plain in-process `scan`
of each sample. CPU time (user+sys of this process and its children) is printed beside
wall time: on a shared machine wall time grows with the load.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import pickle
import resource
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanner.checks.advisories.database import (  # noqa: E402
    build_database,
    cached_import,
    iter_source,
)
from scanner.errors import ScannerError  # noqa: E402
from scanner.gate import check  # noqa: E402
from scanner.infra.resources import rules_dir  # noqa: E402
from scanner.infra.verdict_store import VerdictStore  # noqa: E402
from scanner.models import Severity  # noqa: E402
from scanner.options import ScanOptions  # noqa: E402
from scanner.reporters import OutputFormat, renderer_for  # noqa: E402
from scanner.scale.artifacts import Artifact  # noqa: E402
from scanner.scale.engines import Engine, make_engine  # noqa: E402
from scanner.scale.index_source import list_sources  # noqa: E402
from scanner.scale.run import IndexScan, rules_fingerprint, scan_artifacts  # noqa: E402
from scanner.scale.store import SharedStore  # noqa: E402

MALWARE = REPO.parent / "shared" / "data" / "malware"
OSV_EXPORT = REPO.parent / "shared" / "data" / "advisories" / "osv-pypi.zip"


def cpu() -> float:
    """user+sys seconds of this process and every process under it, alive (pool workers,
    Dask nannies and workers: their own overhead included) or reaped."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    try:
        import psutil  # Dask depends on it; without it, reaped children only
    except ImportError:
        return total
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _place(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def build_corpus(root: Path, args: argparse.Namespace) -> dict[str, int]:
    counts: dict[str, int] = {}
    benign = root / "benign"
    benign.mkdir(parents=True)
    files = sorted(p for p in Path(args.benign).glob("*") if p.name.endswith((".whl", ".tar.gz")))
    files = files[: args.limit]
    for path in files:
        _place(path, benign / path.name)
    mirror = root / "mirror"
    mirror.mkdir()
    for path in files[::5]:
        _place(path, mirror / path.name)
    counts["benign"], counts["mirror copies"] = len(files), len(files[::5])
    malware = root / "malware"
    malware.mkdir()
    manifest = json.loads((MALWARE / "manifest.json").read_text())
    taken = 0
    for sample in manifest["samples"]:
        if taken >= args.malware:
            break
        with zipfile.ZipFile(MALWARE / sample["file"]) as zf:
            for info in zf.infolist():
                name = Path(info.filename).name
                if not name.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
                    continue
                data = zf.read(info, pwd=sample["zip_password"].encode())
                place = malware / f"{taken:05d}"  # its own folder: the file keeps its name
                place.mkdir(exist_ok=True)
                (place / name).write_bytes(data)  # bytes only, never run
        taken += 1
    counts["malware samples"] = taken
    sdists = root / "sdists"
    sdists.mkdir()
    for i in range(args.sdists):
        path = sdists / f"smallpkg{i}-0.{i}.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            for rel, text in (
                ("setup.py", f"from setuptools import setup\nsetup(name='smallpkg{i}')\n"),
                (f"smallpkg{i}/__init__.py", f"def f(x):\n    return x * {i}\n"),
            ):
                data = text.encode()
                info = tarfile.TarInfo(f"smallpkg{i}-0.{i}/{rel}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    counts["generated sdists"] = args.sdists
    models = root / "models"
    models.mkdir()
    for i in range(args.models):
        state = {f"layer{j}.weight": [float(j * i)] * 2048 for j in range(8)}
        data = pickle.dumps(state, protocol=4)
        if i % 2:
            (models / f"ckpt{i}.pkl").write_bytes(data)
        else:
            with zipfile.ZipFile(models / f"ckpt{i}.pt", "w") as zf:
                zf.writestr(f"ckpt{i}/data.pkl", data)
                zf.writestr(f"ckpt{i}/version", "3\n")
    counts["generated checkpoints"] = args.models
    return counts


def run(
    artifacts: list[Artifact],
    engine: Engine,
    store_dir: Path,
    options: ScanOptions,
    shard_size: int,
    rules: Path | None = None,
) -> tuple[IndexScan, float, float]:
    store = SharedStore(
        store_dir, rules_fingerprint(options, rules), VerdictStore.open(store_dir / "idx")
    )
    wall, c0 = time.perf_counter(), cpu()
    try:
        result = scan_artifacts(
            artifacts,
            options=options,
            engine=engine,
            store=store,
            targets=["bench"],
            shard_size=shard_size,
        )
    finally:
        store.close()
    return result, time.perf_counter() - wall, cpu() - c0


def findings_of(result: IndexScan) -> str:
    return json.dumps(json.loads(renderer_for(OutputFormat.JSON)(result.report))["findings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=60, help="real wheels/sdists to take")
    parser.add_argument("--malware", type=int, default=60, help="malicious samples to take")
    parser.add_argument("--sdists", type=int, default=200)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--benign", default="/work/bench-data/benign")
    parser.add_argument("--db", type=Path, default=None, help="OSV database or export zip")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--shard-sizes", default="1,16,64,256")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    tmp = Path(tempfile.mkdtemp(prefix="wormsign-bench-scale-"))
    try:
        _bench(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")


def _bench(tmp: Path, args: argparse.Namespace) -> None:
    corpus = tmp / "corpus"
    counts = build_corpus(corpus, args)
    db = args.db or cached_import(OSV_EXPORT, tmp / "cache")
    cache = tmp / "cache"
    cache.mkdir(exist_ok=True, mode=0o700)
    options = ScanOptions(db_path=db, cache_dir=cache)
    t0 = time.perf_counter()
    listed = list_sources((str(corpus),), None)
    artifacts = list(listed.artifacts)
    total = sum(a.size for a in artifacts)
    unique = len({a.sha256 for a in artifacts})
    print(f"corpus: {counts}; listed {len(artifacts)} artifacts, {total / 1e6:.1f} MB")
    print(f"listing + hashing: {time.perf_counter() - t0:.2f}s; errors: {len(listed.errors)}")
    print(
        f"duplicate ratio (unique sha256 / listed): {unique}/{len(artifacts)}"
        f" = {unique / len(artifacts):.3f}"
    )

    unique_bytes = sum({a.sha256: a.size for a in artifacts}.values())

    print("\n== engine start-up, cold runs (shard size 64) ==")
    engines = [("local", 1), ("local", 2)]
    if not args.skip_dask:
        engines += [("dask", 1), ("dask", 2)]
    reference: str | None = None
    same = True
    for name, workers in engines:
        s0, c0 = time.perf_counter(), cpu()
        engine = make_engine(name, workers=workers)
        start, start_cpu = time.perf_counter() - s0, cpu() - c0
        with engine:
            result, wall, used = run(
                artifacts, engine, tmp / f"store-{name}-{workers}", options, 64
            )
        got = findings_of(result)
        reference = reference or got
        same = same and got == reference
        peaks = sorted(result.stats.peak_rss_kib.values())
        shards = result.stats.shard_seconds
        print(
            f"{name:5} x{workers}: start-up {start:.2f}s wall {start_cpu:.2f}s CPU; "
            f"{result.stats.judged} judged in {wall:.1f}s wall, {used:.1f}s CPU: "
            f"{result.stats.judged / wall:.1f} artifacts/s, {unique_bytes / 1e6 / wall:.1f} MB/s "
            f"(per CPU s: {result.stats.judged / used:.1f} artifacts, "
            f"{unique_bytes / 1e6 / used:.1f} MB); peak RSS per worker "
            f"{[p // 1024 for p in peaks]} MiB; slowest shard {max(shards):.2f}s vs median "
            f"{statistics.median(shards):.2f}s; errors {len(result.errors)}"
        )
    print(f"findings byte-identical across engines and worker counts: {same}")

    print("\n== overhead against shard size (2 workers, cold; CPU = the whole process tree) ==")
    sizes = [int(s) for s in args.shard_sizes.split(",")]
    sweep: dict[tuple[str, int], tuple[float, float]] = {}
    for name in ["local"] + ([] if args.skip_dask else ["dask"]):
        with make_engine(name, workers=2) as engine:
            for size in sizes:
                result, wall, used = run(
                    artifacts, engine, tmp / f"shard-{name}-{size}", options, size
                )
                sweep[name, size] = (wall, used)
                print(
                    f"{name:5} shard {size:4}: {result.stats.shards:4} shards, {wall:6.1f}s wall,"
                    f" {used:6.1f}s CPU, {result.stats.judged / wall:6.1f} artifacts/s,"
                    f" {result.stats.judged / used:6.1f} artifacts per CPU s,"
                    f" errors {len(result.errors)}"
                )
    if not args.skip_dask:
        for size in sizes:
            (lw, lc), (dw, dc) = sweep["local", size], sweep["dask", size]
            verdict = (
                ""
                if size < 64
                else (" (target <= 10%: met)" if dc <= 1.1 * lc else " (target <= 10%: MISSED)")
            )
            print(
                f"dask overhead vs local at shard {size:4}: CPU {dc / lc - 1:+.0%},"
                f" wall {dw / lw - 1:+.0%}{verdict}"
            )

    print("\n== cold, warm, advisory update, rules change (local x2, shard 64) ==")
    store = tmp / "store-reruns"
    rules = tmp / "rules-changed"
    shutil.copytree(rules_dir(), rules)
    (rules / "bench-change.txt").write_text("a rules change\n")
    # the advisory database after an update: the same export plus one new record, for a
    # release the corpus lists (so the update changes the findings, not the verdicts)
    named = next(a for a in artifacts if a.name and a.version and "/benign/" in a.location)
    extra = {
        "id": "MAL-BENCH-1",
        "modified": "2026-12-01T00:00:00Z",
        "affected": [
            {"package": {"ecosystem": "PyPI", "name": named.name}, "versions": [named.version]}
        ],
    }
    db2 = tmp / "osv-updated.sqlite"
    base = args.db or OSV_EXPORT
    build_database(
        itertools.chain(
            iter_source(base) if base.suffix != ".sqlite" else iter(()),
            [("bench:MAL-BENCH-1.json", json.dumps(extra).encode())],
        ),
        db2,
        source="bench",
    )
    with make_engine("local", workers=2) as engine:
        steps = [
            ("cold", options, None),
            ("warm", options, None),
            ("advisory update", replace(options, db_path=db2), None),
            ("rules change", options, rules),
        ]
        cold_wall = cold_cpu = 0.0
        for label, opts, rules_dir_ in steps:
            result, wall, used = run(artifacts, engine, store, opts, 64, rules_dir_)
            cold_wall, cold_cpu = cold_wall or wall, cold_cpu or used
            hit = result.stats.reused / max(1, unique)
            print(
                f"{label:16}: {wall:6.2f}s wall, {used:6.2f}s CPU, {result.stats.judged:5} judged,"
                f" cache hit rate {hit:4.0%}, {cold_wall / wall:6.1f}x faster than cold"
                f" ({cold_cpu / max(used, 1e-3):6.1f}x in CPU), {len(result.report.findings)}"
                f" findings, errors {len(result.errors)}"
            )

    print("\n== recall on the malware part: scan-index against a plain scan of each file ==")
    with make_engine("local", workers=2) as engine:
        result, _wall, _used = run(artifacts, engine, tmp / "store-local-2", options, 64)
    samples = sorted(p for d in (corpus / "malware").iterdir() for p in d.iterdir())
    flagged = {
        (f.path or "").split("!")[0]
        for f in result.report.findings
        if f.severity >= Severity.HIGH and f.path
    }
    index_hits = {s for s in samples if any(p.startswith(str(s)) for p in flagged)}
    plain_hits, plain_errors = set(), 0
    for sample in samples:
        try:
            report = check([sample], options=replace(options, use_cache=False, jobs=1))
        except ScannerError:
            plain_errors += 1
            continue
        if any(f.severity >= Severity.HIGH for f in report.findings):
            plain_hits.add(sample)
    print(
        f"malicious files blocked: scan-index {len(index_hits)}/{len(samples)}, "
        f"plain scan {len(plain_hits)}/{len(samples)} ({plain_errors} unreadable); "
        f"same files: {index_hits == plain_hits}"
    )


if __name__ == "__main__":
    main()
