"""CycloneDX 1.6 (issue 20): what was scanned as components, advisories as vulnerabilities,
validated against the schema cyclonedx-python-lib ships (offline)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from scanner.gate import check
from scanner.models import ADVISORY_RULES
from scanner.options import ScanOptions
from scanner.reporters import OutputFormat, renderer_for
from scanner.reporters.cyclonedx import render_cyclonedx
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel

SHA = "0" * 63 + "1"


def validated(text: str) -> dict[str, Any]:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    data: dict[str, Any] = json.loads(text)
    assert data["bomFormat"] == "CycloneDX" and data["specVersion"] == "1.6"
    return data


def _options(db: Path) -> ScanOptions:
    return ScanOptions(db_path=db, checks=frozenset({"advisories"}))


def test_the_validator_is_not_vacuous() -> None:
    bad = json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "bogus"}]}
    )
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bad) is not None


def test_lock_scan(real_osv_subset: Path, tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        f"mlflow==2.2.0 --hash=sha256:{SHA}\n"
        f"fabrice==2.9.1 --hash=sha256:{SHA}\n"
        f"Click==8.3.3 --hash=sha256:{SHA}\n"
    )
    report = check([lock], options=_options(real_osv_subset))
    assert renderer_for(OutputFormat.CYCLONEDX) is render_cyclonedx
    data = validated(render_cyclonedx(report))

    components = {c["bom-ref"]: c for c in data["components"]}
    assert set(components) == {
        "pkg:pypi/mlflow@2.2.0",
        "pkg:pypi/fabrice@2.9.1",
        "pkg:pypi/click@8.3.3",
    }
    mlflow = components["pkg:pypi/mlflow@2.2.0"]
    assert mlflow["purl"] == "pkg:pypi/mlflow@2.2.0" and mlflow["version"] == "2.2.0"
    assert mlflow["hashes"] == [{"alg": "SHA-256", "content": SHA}]
    props = {(p["name"], p["value"]) for p in data["metadata"]["properties"]}
    assert ("wormsign:lockfile", f"{lock} (requirements)") in props
    assert ("wormsign:blocked", "true") in props
    assert data["metadata"]["tools"]["components"][0]["name"] == "wormsign"

    vulns = {v["id"]: v for v in data["vulnerabilities"]}
    advisory_ids = {f.references[0] for f in report.findings if f.rule_id in ADVISORY_RULES}
    assert set(vulns) == advisory_ids and len(vulns) > 10
    mal = vulns["MAL-2024-10573"]
    assert mal["affects"] == [
        {"ref": "pkg:pypi/fabrice@2.9.1", "versions": [{"version": "2.9.1", "status": "affected"}]}
    ]
    assert mal["ratings"][0]["severity"] == "critical"
    assert mal["source"]["url"].endswith("/MAL-2024-10573")
    crlf = vulns["PYSEC-2023-29"]  # mlflow 2.2.0: fixed in 2.2.1, but later records too
    fix = next(f.fix_version for f in report.findings if f.package == "mlflow")
    assert fix is not None and crlf["recommendation"] == f"upgrade to mlflow=={fix}"
    assert crlf["affects"][0]["ref"] == "pkg:pypi/mlflow@2.2.0"
    assert {r["id"] for r in crlf.get("references", [])} == set(
        next(f.aliases for f in report.findings if f.references[0] == "PYSEC-2023-29")
    )
    # Every advisory is there: none is folded into the per-rule cap of the gate.
    on_mlflow = [v for v in vulns.values() if v["affects"][0]["ref"].startswith("pkg:pypi/mlflow")]
    assert len(on_mlflow) > 50
    assert not any("click" in a["ref"] for v in vulns.values() for a in v["affects"])


def test_environment_scan(real_osv_subset: Path, tmp_path: Path) -> None:
    site = make_site_packages(tmp_path / "venv")
    wheel = make_wheel(tmp_path, "mlflow", "2.2.0", {"mlflow/__init__.py": b"x = 1\n"})
    install_wheel(wheel, site)
    clean = make_wheel(tmp_path, "click", "8.3.3", {"click/__init__.py": b"y = 2\n"})
    install_wheel(clean, site)
    report = check(env_paths=[tmp_path / "venv"], options=_options(real_osv_subset))
    data = validated(render_cyclonedx(report))

    refs = {c["bom-ref"] for c in data["components"]}
    assert refs == {"pkg:pypi/mlflow@2.2.0", "pkg:pypi/click@8.3.3"}
    mlflow = next(c for c in data["components"] if c["name"] == "mlflow")
    assert {"name": "wormsign:site-packages", "value": str(site)} in mlflow["properties"]
    props = {(p["name"], p["value"]) for p in data["metadata"]["properties"]}
    assert any(name == "wormsign:environment" and str(site) in v for name, v in props)
    assert data["vulnerabilities"]
    for vuln in data["vulnerabilities"]:
        assert [a["ref"] for a in vuln["affects"]] == ["pkg:pypi/mlflow@2.2.0"]
        assert vuln["recommendation"].startswith("upgrade to mlflow==")


@pytest.mark.parametrize("version", ["2.4.0+cu121", None])
def test_odd_versions_still_validate(tmp_path: Path, version: str | None) -> None:
    from scanner.models import Inventory, LockedPackage, Lockfile, PinKind, Report, Severity

    lock = tmp_path / "requirements.txt"
    pkg = LockedPackage(
        name="torch",
        version=version,
        kind=PinKind.PINNED if version else PinKind.UNPINNED,
        lockfile=lock,
    )
    inventory = Inventory(lockfiles=(Lockfile(path=lock, format="requirements", packages=(pkg,)),))
    report = Report(
        targets=(str(lock),),
        findings=(),
        skipped=(),
        fail_on=Severity.HIGH,
        packages=1,
        files_hashed=0,
        inventory=inventory,
    )
    data = validated(render_cyclonedx(report))
    assert data["components"][0]["name"] == "torch"
