"""The SQLite import: sources, atomic updates, status, choosing a database."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from scanner.checks.advisories import database as advisory_db
from scanner.checks.advisories import osv
from scanner.checks.advisories.check import check_advisories, database_notes
from scanner.checks.advisories.database import (
    AdvisoryDatabase,
    build_database,
    cached_import,
    iter_source,
    open_database,
    update_database,
)
from scanner.checks.interface import CheckContext
from scanner.errors import ArchiveError, ServiceError, SourceError
from scanner.models import Inventory, LockedPackage, Lockfile, PinKind
from scanner.options import ScanOptions


def rec(
    rid: str, name: str, versions: list[str], modified: str = "2026-11-20T00:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {
        "id": rid,
        "modified": modified,
        "affected": [{"package": {"ecosystem": "PyPI", "name": name}, "versions": versions}],
        **extra,
    }


def write_dir(path: Path, records: list[dict[str, Any]]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for r in records:
        (path / f"{r['id']}.json").write_text(json.dumps(r))
    return path


def write_zip(
    path: Path, records: list[dict[str, Any]], extra: dict[str, bytes] | None = None
) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for r in records:
            zf.writestr(f"{r['id']}.json", json.dumps(r))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


RECORDS = [
    rec("PYSEC-1", "Demo_Pkg", ["1.0"], aliases=["CVE-1"]),
    rec("MAL-1", "evil", ["0.1"]),
    rec("PYSEC-2", "demo-pkg", ["2.0"], withdrawn="2026-01-01T00:00:00Z"),
]


def test_import_directory_and_query_by_canonical_name(tmp_path: Path) -> None:
    src = write_dir(tmp_path / "osv", RECORDS)
    summary = update_database(src, tmp_path / "db.sqlite")
    assert summary.records == 3 and not summary.notes
    with AdvisoryDatabase(tmp_path / "db.sqlite") as db:
        assert {a.id for a in db.advisories_for("DEMO.pkg")} == {"PYSEC-1", "PYSEC-2"}
        assert db.ids_for_alias("CVE-1") == ("PYSEC-1",)
        st = db.status(now=dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc))
    assert (st.records, st.withdrawn, st.malicious, st.packages) == (3, 1, 1, 2)
    assert st.age_days is not None and 3.9 < st.age_days < 4.1 and not st.stale
    assert st.path == tmp_path / "db.sqlite"


def test_import_zip_with_a_bad_member_notes_it(tmp_path: Path) -> None:
    src = write_zip(
        tmp_path / "all.zip", RECORDS, {"broken.json": b"{not json", "README.txt": b"ignored"}
    )
    summary = update_database(src, tmp_path / "db.sqlite")
    assert summary.records == 3
    assert any("broken.json" in n and "not JSON" in n for n in summary.notes)
    with AdvisoryDatabase(tmp_path / "db.sqlite") as db:
        assert any("broken.json" in n for n in db.import_notes())


def test_status_warns_past_seven_days(tmp_path: Path) -> None:
    update_database(write_dir(tmp_path / "osv", RECORDS), tmp_path / "db.sqlite")
    with AdvisoryDatabase(tmp_path / "db.sqlite") as db:
        st = db.status(now=dt.datetime(2026, 12, 24, tzinfo=dt.timezone.utc))
    assert st.stale and st.age_days is not None and st.age_days > 30


def test_duplicate_ids_keep_the_newer(tmp_path: Path) -> None:
    old = rec("PYSEC-9", "demo", ["1.0"], modified="2025-01-01T00:00:00Z")
    new = rec("PYSEC-9", "demo", ["2.0"], modified="2026-01-01T00:00:00Z")
    src = tmp_path / "osv"
    src.mkdir()
    (src / "a.json").write_text(json.dumps(new))
    (src / "b.json").write_text(json.dumps(old))
    summary = update_database(src, tmp_path / "db.sqlite")
    assert summary.records == 1 and any("older" in n for n in summary.notes)
    with AdvisoryDatabase(tmp_path / "db.sqlite") as db:
        assert db.advisories_for("demo")[0].affected[0].version_keys == {"2"}


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith((".tmp", ".part")))


def test_failed_update_leaves_the_previous_database(tmp_path: Path) -> None:
    target = tmp_path / "db.sqlite"
    update_database(write_dir(tmp_path / "osv", RECORDS), target)
    before = _snapshot(target)
    garbage = write_zip(tmp_path / "garbage.zip", [], {"x.json": b"[1, 2]", "y.json": b"{"})
    with pytest.raises(SourceError, match="no OSV record"):
        update_database(garbage, target)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(write_zip(tmp_path / "ok.zip", RECORDS).read_bytes()[:100])
    with pytest.raises((ArchiveError, SourceError)) as info:
        update_database(truncated, target)
    assert "truncated.zip" in info.value.diagnostics()
    assert _snapshot(target) == before
    assert _leftovers(tmp_path) == []


def test_interrupted_update_leaves_the_previous_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "db.sqlite"
    update_database(write_dir(tmp_path / "osv", RECORDS), target)
    before = _snapshot(target)
    bigger = write_dir(tmp_path / "osv2", [rec(f"PYSEC-{i}", "demo", ["1"]) for i in range(50)])
    real_parse = osv.parse_record
    calls = 0

    def parse_then_interrupt(data: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 25:
            raise KeyboardInterrupt  # Ctrl-C half-way through the import
        return real_parse(data)

    monkeypatch.setattr(advisory_db, "parse_record", parse_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        update_database(bigger, target)
    assert _snapshot(target) == before
    assert _leftovers(tmp_path) == []
    with AdvisoryDatabase(target) as db:
        assert db.status().records == 3


def test_update_replaces_atomically_while_a_reader_is_open(tmp_path: Path) -> None:
    target = tmp_path / "db.sqlite"
    update_database(write_dir(tmp_path / "osv", RECORDS), target)
    with AdvisoryDatabase(target) as reader:
        update_database(write_dir(tmp_path / "osv2", [rec("PYSEC-7", "other", ["1"])]), target)
        # The open reader keeps its consistent snapshot of the old file ...
        assert {a.id for a in reader.advisories_for("evil")} == {"MAL-1"}
    # ... and a new reader sees the new one.
    with AdvisoryDatabase(target) as db:
        assert db.status().records == 1 and db.advisories_for("evil") == ()


def test_open_database_choices(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ServiceError) as info:
        open_database(None, cache_dir=cache)
    assert "wormsign db update" in info.value.diagnostics()
    assert open_database(None, cache_dir=cache, required=False) is None
    with pytest.raises(ServiceError, match="not found"):
        open_database(tmp_path / "missing.sqlite", cache_dir=cache)
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello")
    with pytest.raises(ServiceError, match="not a wormsign advisory database"):
        open_database(not_db, cache_dir=cache)
    update_database(write_dir(tmp_path / "osv", RECORDS), cache / "osv.sqlite")
    db = open_database(None, cache_dir=cache)
    assert db is not None and db.path == cache / "osv.sqlite"
    db.close()


def test_scan_db_accepts_an_export_zip_cached_by_sha256(tmp_path: Path) -> None:
    export = write_zip(tmp_path / "all.zip", RECORDS)
    cache = tmp_path / "cache"
    first = cached_import(export, cache)
    mtime = first.stat().st_mtime_ns
    assert cached_import(export, cache) == first and first.stat().st_mtime_ns == mtime
    db = open_database(export, cache_dir=cache)
    assert db is not None and db.path == first
    db.close()
    changed = write_zip(tmp_path / "all.zip", [*RECORDS, rec("MAL-2", "x", ["1"])])
    assert cached_import(changed, cache) != first


def test_check_without_any_database_is_a_service_error(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    inv = Inventory(
        lockfiles=(
            Lockfile(
                path=lock,
                format="requirements",
                packages=(
                    LockedPackage(name="demo", version="1.0", kind=PinKind.PINNED, lockfile=lock),
                ),
            ),
        )
    )
    with pytest.raises(ServiceError) as info:
        list(
            check_advisories(
                inv, CheckContext(ScanOptions(cache_dir=tmp_path / "empty-cache"))
            ).findings
        )
    assert "run `wormsign db update` or pass --db" in info.value.diagnostics()
    # Nothing pinned: nothing to look up, no database needed.
    assert (
        list(
            check_advisories(
                Inventory(), CheckContext(ScanOptions(cache_dir=tmp_path / "x"))
            ).findings
        )
        == []
    )


def test_iter_source_refuses_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        iter_source(tmp_path / "nope.zip")


def test_built_file_is_readable_and_uses_wal(tmp_path: Path) -> None:
    target = tmp_path / "db.sqlite"
    many = [rec(f"PYSEC-{i}", f"pkg{i}", ["1.0"]) for i in range(200)]
    build_database(iter_source(write_dir(tmp_path / "osv", many)), target, source="t")
    assert os.stat(target).st_mode & 0o044  # public data, readable like any cache file
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM affected WHERE package = ?", ("pkg7",)
        ).fetchall()
        assert any("affected_package" in str(row) for row in plan)
    finally:
        conn.close()


def test_database_notes_for_the_report(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert "no advisory database" in database_notes(ScanOptions(cache_dir=cache))[0]
    assert "not found" in database_notes(ScanOptions(db_path=tmp_path / "x.sqlite"))[0]
    fresh = rec(
        "MAL-5",
        "evil",
        ["1"],
        modified=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    update_database(write_dir(tmp_path / "osv", [fresh]), cache / "osv.sqlite")
    assert database_notes(ScanOptions(cache_dir=cache)) == ()


def test_light_lookup_then_details(tmp_path: Path) -> None:
    update_database(write_dir(tmp_path / "osv", RECORDS), tmp_path / "db.sqlite")
    with AdvisoryDatabase(tmp_path / "db.sqlite") as db:
        light = db.advisories_for("demo-pkg", details=False)
        assert {a.id for a in light} == {"PYSEC-1", "PYSEC-2"}
        assert all(a.aliases == () for a in light)
        full = db.with_details([a for a in light if a.id == "PYSEC-1"])
        assert [(a.id, a.aliases) for a in full] == [("PYSEC-1", ("CVE-1",))]
        assert full[0].affected == light[0].affected
