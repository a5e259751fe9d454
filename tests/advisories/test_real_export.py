"""The real OSV PyPI export (../shared/data/advisories/osv-pypi.zip): real pins, real ids.

Ids, ranges and fixed versions below were checked against the snapshot itself
(THREATS.md §8 gives leads; lightning's GHSA-w37p-236h-pfx3 and litellm's
MAL-2026-2144 are newer than this snapshot and so are not asserted here).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from packaging.version import Version

from scanner.checks.advisories.check import check_advisories, database_notes
from scanner.checks.advisories.osv import collapse_aliases, fixed_versions, match_version
from scanner.checks.interface import CheckContext
from scanner.models import (
    Environment,
    Finding,
    InstalledDistribution,
    Inventory,
    LockedPackage,
    Lockfile,
    PinKind,
    Severity,
)
from scanner.options import ScanOptions
from tests.advisories.conftest import RealDb


def ids_matching(real_db: RealDb, name: str, version: str) -> set[str]:
    result = match_version(real_db.db.advisories_for(name), name, version)
    return {m.advisory.id for m in result.matches}


def test_whole_export_imports(real_db: RealDb) -> None:
    assert real_db.records == 16288
    status = real_db.db.status()
    assert status.records == 16288
    assert status.withdrawn == 270
    assert status.malicious >= 9207
    assert status.future_modified >= 1  # the dirty future date does not set the age
    assert status.newest_modified is not None and status.newest_modified.startswith("2026-07")
    print(f"import of the whole export: {real_db.seconds:.1f} s")


@pytest.mark.parametrize(
    ("name", "inside", "outside", "record", "aliases", "fixed"),
    [
        (
            "torch",
            "2.5.1",
            "2.6.0",
            "PYSEC-2025-41",
            {"CVE-2025-32434", "GHSA-53q9-r3pm-6pq6"},
            ("2.6.0",),
        ),
        (
            "torch",
            "2.9.1",
            "2.10.0",
            "PYSEC-2026-2286",
            {"CVE-2026-24747", "GHSA-63cw-57p8-fm3p"},
            ("2.10.0",),
        ),
        (
            "pytorch-lightning",
            "1.5.10",
            "1.6.0",
            "PYSEC-2021-874",
            {"CVE-2021-4118", "GHSA-2vj5-px25-gjrp"},
            ("1.6.0",),
        ),
        (
            "pytorch-lightning",
            "1.5.10",
            "1.6.0",
            "PYSEC-2022-181",
            {"CVE-2022-0845", "GHSA-r5qj-cvf9-p85h"},
            ("1.6.0",),
        ),
        (
            "mlflow",
            "2.2.0",
            "2.2.1",
            "PYSEC-2023-29",
            {"CVE-2023-1177", "GHSA-xg73-94fp-g449"},
            ("2.2.1",),
        ),
        ("ultralytics", "8.3.41", "8.3.47", "PYSEC-2024-154", set(), ("8.3.47",)),
        ("aiocpa", "0.1.13", "0.1.12", "MAL-2024-11518", {"SNYK-PYTHON-AIOCPA-8442272"}, ()),
    ],
)
def test_real_pins_match_inside_and_not_just_outside(
    real_db: RealDb,
    name: str,
    inside: str,
    outside: str,
    record: str,
    aliases: set[str],
    fixed: tuple[str, ...],
) -> None:
    result = match_version(real_db.db.advisories_for(name), name, inside)
    match = next(m for m in result.matches if m.advisory.id == record)
    assert aliases <= set(match.advisory.aliases)
    assert match.fixed == fixed
    assert record not in ids_matching(real_db, name, outside)


def test_local_version_label_matches_as_public(real_db: RealDb) -> None:
    assert "PYSEC-2025-41" in ids_matching(real_db, "torch", "2.4.0+cu121")


def test_mal_record_for_every_version(real_db: RealDb) -> None:
    # MAL-2024-10573 (fabrice, the fabric typosquat): introduced 0, nothing fixed.
    for version in ("0.0.1", "1.0", "99.0.post3"):
        assert "MAL-2024-10573" in ids_matching(real_db, "fabrice", version)
    assert "MAL-2024-10573" not in ids_matching(real_db, "fabric", "3.2.2")


def test_withdrawn_records_never_match(real_db: RealDb) -> None:
    advs = real_db.db.advisories_for("lodestone")
    withdrawn = next(a for a in advs if a.id == "MAL-2023-8651")
    assert withdrawn.withdrawn
    assert "MAL-2023-8651" not in ids_matching(real_db, "lodestone", "0.0.58")
    # The same record without its withdrawal would match: the test can fail.
    revived = dataclasses.replace(withdrawn, withdrawn=None)
    assert match_version([revived], "lodestone", "0.0.58").matches


def test_dirty_ranges_do_not_crash_and_leave_notes(real_db: RealDb) -> None:
    result = match_version(real_db.db.advisories_for("torch"), "torch", "2.6.0")
    ids = {m.advisory.id for m in result.matches}
    assert {"PYSEC-2025-196", "PYSEC-2025-190"} <= ids  # last_affected 2.6.0-NA / -cu124
    assert any("2.6.0-NA" in n for n in result.notes)
    assert "PYSEC-2025-196" not in ids_matching(real_db, "torch", "2.6.1")
    dated = match_version(real_db.db.advisories_for("chuanhuchatgpt"), "chuanhuchatgpt", "1.0")
    assert any("2024-12-04" in n for n in dated.notes)


def test_every_record_of_the_export_can_be_evaluated(real_db: RealDb) -> None:
    conn = real_db.db._conn
    names = [r[0] for r in conn.execute("SELECT DISTINCT package FROM affected")]
    assert len(names) > 10000
    for name in names:
        advs = real_db.db.advisories_for(name)
        probe = next((v for a in advs for e in a.affected for v in e.version_keys), "1.0")
        match_version(advs, name, probe)


def _inventory(tmp: Path, pins: list[tuple[str, str]]) -> Inventory:
    lock = tmp / "requirements.txt"
    packages = tuple(
        LockedPackage(name=n, version=v, kind=PinKind.PINNED, lockfile=lock, line=i + 1)
        for i, (n, v) in enumerate(pins)
    )
    dist = InstalledDistribution(
        name="mlflow",
        version="2.2.0",
        metadata_dir=tmp / "site" / "mlflow-2.2.0.dist-info",
        site_packages=tmp / "site",
        metadata_kind="dist-info",
        record=(),
    )
    env = Environment(site_packages=tmp / "site", distributions=(dist,))
    return Inventory(
        lockfiles=(Lockfile(path=lock, format="requirements", packages=packages),),
        environments=(env,),
    )


def test_check_advisories_on_real_pins(real_db: RealDb, tmp_path: Path) -> None:
    inv = _inventory(
        tmp_path,
        [
            ("torch", "2.5.1"),
            ("pytorch-lightning", "1.5.10"),
            ("fabrice", "2.9.1"),
            ("requests", "2.99.0"),
        ],
    )
    findings = list(check_advisories(inv, CheckContext(ScanOptions(db_path=real_db.path))).findings)

    torch_rce = [f for f in findings if "CVE-2025-32434" in f.references]
    assert len(torch_rce) == 1  # PYSEC / GHSA / CVE: one finding, not three
    f = torch_rce[0]
    assert f.references[0] == "PYSEC-2025-41"
    assert {"CVE-2025-32434", "GHSA-53q9-r3pm-6pq6"} <= set(f.aliases)
    assert f.rule_id == "WS-ADV-VULN" and f.severity is Severity.CRITICAL  # CVSS 9.8
    assert f.path == str(tmp_path / "requirements.txt") and f.line == 1
    assert f.fix is not None and "2.6.0" in f.fix
    # torch 2.6.0 is itself affected by later records, some of which name no fixed
    # release: no version clears every torch advisory, so there is no machine fix.
    assert f.fix_version is None
    assert f.evidence is not None and "fixed in: 2.6.0" in f.evidence

    mal = [f for f in findings if f.package == "fabrice"]
    assert [m.rule_id for m in mal] == ["WS-ADV-MAL"]
    assert mal[0].severity is Severity.CRITICAL and "known malicious" in mal[0].message
    assert mal[0].references[0] == "MAL-2024-10573" and mal[0].line == 3

    notes = database_notes(ScanOptions(db_path=real_db.path))
    assert len(notes) == 1 and "days old" in notes[0] and "wormsign db update" in notes[0]

    lightning = {f.references[0] for f in findings if f.package == "pytorch-lightning"}
    assert {"PYSEC-2021-874", "PYSEC-2022-181"} <= lightning
    assert not [f for f in findings if f.package == "requests"]

    installed = [f for f in findings if f.path and f.path.endswith("mlflow-2.2.0.dist-info")]
    crlf = next(f for f in installed if f.references[0] == "PYSEC-2023-29")
    assert crlf.line is None and "2.2.1" in (crlf.fix or "")
    # The machine-readable fix clears every mlflow advisory (OSV ranges, not just the
    # record's own fixed event), and no smaller fixed release above the pin does.
    mlflow = real_db.db.advisories_for("mlflow")
    target = crlf.fix_version
    assert target is not None and {f.fix_version for f in installed} == {target}
    assert not match_version(mlflow, "mlflow", target).matches
    smaller = {
        v
        for adv in mlflow
        if not adv.withdrawn
        for v in fixed_versions(adv, "mlflow")
        if Version("2.2.0") < Version(v) < Version(target)
    }
    assert smaller and all(match_version(mlflow, "mlflow", v).matches for v in smaller)
    assert all(f.fix for f in findings)
    assert all(f.references for f in findings if f.rule_id.startswith("WS-ADV-VULN"))
    # Every matched group of one pin is one finding per location.
    groups = collapse_aliases(
        match_version(real_db.db.advisories_for("mlflow"), "mlflow", "2.2.0").matches
    )
    assert len(installed) == len(groups)


def test_verbose_reports_notes_as_info(real_db: RealDb, tmp_path: Path) -> None:
    inv = _inventory(tmp_path, [("torch", "2.6.0")])
    quiet = list(check_advisories(inv, CheckContext(ScanOptions(db_path=real_db.path))).findings)
    loud = list(
        check_advisories(
            inv, CheckContext(ScanOptions(db_path=real_db.path, verbose=True))
        ).findings
    )
    notes: list[Finding] = [f for f in loud if f.rule_id == "WS-ADV-NOTE"]
    assert not [f for f in quiet if f.rule_id == "WS-ADV-NOTE"]
    assert notes and notes[0].severity is Severity.INFO
    assert "2.6.0-NA" in (notes[0].evidence or "")
