"""scan-index (issue 18): engines agree byte for byte, reruns reuse verdicts, an
interrupted run resumes without judging anything twice, bad inputs fail closed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from scanner.gate import check
from scanner.infra.verdict_store import VerdictStore
from scanner.options import ScanOptions
from scanner.reporters import OutputFormat, renderer_for
from scanner.scale.artifacts import Outcome, Shard
from scanner.scale.engines import Engine, make_engine
from scanner.scale.index_source import list_sources
from scanner.scale.run import IndexScan, rules_fingerprint, scan_artifacts
from scanner.scale.store import SharedStore
from tests.scale.conftest import Corpus


class _Engine:
    """A real engine, watched: counts the shards, or dies after `die_after` of them."""

    def __init__(self, inner: Engine, die_after: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.workers = inner.workers
        self.die_after = die_after
        self.judged: list[str] = []

    def map_shards(self, shards: Sequence[Shard], options: ScanOptions) -> Iterator[list[Outcome]]:
        for done, outcomes in enumerate(self.inner.map_shards(shards, options), start=1):
            self.judged.extend(o.key for o in outcomes)
            yield outcomes
            if self.die_after is not None and done >= self.die_after:
                raise KeyboardInterrupt

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> _Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run(
    corpus: Corpus,
    engine: Engine,
    store_dir: Path,
    *,
    shard_size: int = 3,
    options: ScanOptions | None = None,
    events: list[dict[str, object]] | None = None,
    rules: Path | None = None,
) -> IndexScan:
    opts = options or corpus.options()
    listed = list_sources((str(corpus.root),), None)
    store = SharedStore(
        store_dir, rules_fingerprint(opts, rules), VerdictStore.open(store_dir / "idx")
    )
    try:
        return scan_artifacts(
            listed.artifacts,
            options=opts,
            engine=engine,
            store=store,
            targets=[str(corpus.root)],
            list_errors=listed.errors,
            shard_size=shard_size,
            emit=(events.append if events is not None else None),
        )
    finally:
        store.close()


def findings_json(result: IndexScan) -> str:
    report = json.loads(renderer_for(OutputFormat.JSON)(result.report))
    return json.dumps(report["findings"], sort_keys=True)


def test_local_and_dask_local_cluster_give_identical_findings(
    corpus: Corpus, tmp_path: Path
) -> None:
    with make_engine("local", workers=2) as local:
        by_local = run(corpus, local, tmp_path / "s1")
    with make_engine("dask", workers=2, processes=False) as dask:
        by_dask = run(corpus, dask, tmp_path / "s2")
    assert by_local.errors == by_dask.errors == ()
    assert findings_json(by_local) == findings_json(by_dask)
    assert by_local.report.blocked
    # 13 listed, 11 unique contents (two copies in mirror/), all judged once
    assert (by_local.stats.listed, by_local.stats.unique, by_local.stats.judged) == (13, 11, 11)


def test_findings_are_those_of_a_plain_scan_of_each_file(corpus: Corpus, tmp_path: Path) -> None:
    with make_engine("local", workers=1) as local:
        result = run(corpus, local, tmp_path / "s")
    got = {(f.rule_id, f.path) for f in result.report.findings}
    plain: set[tuple[str, str | None]] = set()
    for path in sorted(p for p in corpus.root.rglob("*") if p.is_file()):
        report = check([path], options=corpus.options(use_cache=False))
        plain |= {(f.rule_id, f.path) for f in report.findings}
    assert got == plain
    rules = {rule for rule, _path in got}
    assert {"WS-OBF-001"} <= rules  # the exec(b64decode(...)) wheel
    assert any(r.startswith("WS-MODEL") or "PICKLE" in r for r in rules), rules
    assert any("knownbad" in (p or "") for _r, p in got)  # the advisory, by name and version
    assert any("dropper" in (p or "") for _r, p in got)  # the sdist's setup.py


def test_warm_rerun_judges_nothing_and_a_rules_change_judges_all(
    corpus: Corpus, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    with make_engine("local", workers=1) as local:
        cold = run(corpus, local, store)
        warm = run(corpus, local, store)
        # a new local index over the same shared directory: verdicts come from the files
        (store / "idx").rename(tmp_path / "old-idx")
        other_node = run(corpus, local, store)
        rules = tmp_path / "rules"
        import shutil

        from scanner.infra.resources import rules_dir

        shutil.copytree(rules_dir(), rules)
        (rules / "extra-note.txt").write_text("a rules change\n")
        changed = run(corpus, local, store, rules=rules)
    assert cold.stats.judged == 11 and cold.stats.reused == 0
    assert warm.stats.judged == 0 and warm.stats.reused == 11
    assert other_node.stats.judged == 0 and other_node.stats.reused == 11
    assert changed.stats.judged == 11 and changed.stats.reused == 0
    assert findings_json(cold) == findings_json(warm) == findings_json(other_node)


def test_advisories_are_recomputed_from_name_and_version(corpus: Corpus, tmp_path: Path) -> None:
    from scanner.checks.advisories.database import update_database

    store = tmp_path / "store"
    with make_engine("local", workers=1) as local:
        before = run(corpus, local, store)
        empty = tmp_path / "osv-new"
        empty.mkdir()
        record = {
            "id": "MAL-2026-2",
            "modified": "2026-11-21T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "other"}, "versions": ["1"]}],
        }
        (empty / "MAL-2026-2.json").write_text(json.dumps(record))
        update_database(empty, tmp_path / "empty.sqlite")
        after = run(corpus, local, store, options=corpus.options(db_path=tmp_path / "empty.sqlite"))
    assert after.stats.judged == 0  # a database update never invalidates content verdicts
    assert any(f.package == "knownbad" for f in before.report.findings)
    assert not any(f.package == "knownbad" for f in after.report.findings)


def test_interrupted_run_resumes_without_judging_twice(corpus: Corpus, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with make_engine("local", workers=1) as local:
        reference = run(corpus, local, tmp_path / "ref", shard_size=1)
        first = _Engine(local, die_after=4)
        with pytest.raises(KeyboardInterrupt):
            run(corpus, first, store, shard_size=1)
        second = _Engine(local)
        events: list[dict[str, object]] = []
        resumed = run(corpus, second, store, shard_size=1, events=events)
    assert len(first.judged) == 4
    assert not set(first.judged) & set(second.judged)  # nothing judged twice
    assert len(set(first.judged) | set(second.judged)) == 11  # nothing lost
    assert resumed.stats.reused == 4
    assert findings_json(resumed) == findings_json(reference)
    cached = [e for e in events if e["event"] == "verdict" and e["cached"]]
    assert len(cached) == 4


def test_errors_are_reported_and_never_stored(corpus: Corpus, tmp_path: Path) -> None:
    whole = (corpus.root / "helper2-1.0-py3-none-any.whl").read_bytes()
    (corpus.root / "broken-1.0-py3-none-any.whl").write_bytes(whole[: len(whole) // 2])
    store = tmp_path / "store"
    with make_engine("local", workers=1) as local:
        first = run(corpus, local, store)
        second = run(corpus, local, store)
    assert len(first.errors) == 1 and "broken-1.0-py3-none-any.whl" in first.errors[0]
    assert second.stats.judged == 1  # the broken wheel is judged again, never stored
    assert second.errors == first.errors
    assert any(f.rule_id == "WS-OBF-001" for f in first.report.findings)  # the rest still scanned
