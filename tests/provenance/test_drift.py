"""Provenance drift against a local PyPI on 127.0.0.1: provenance objects built from the
real attestations in ../shared/data/attestations, release histories shaped like PyPI's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.checks.interface import CheckContext
from scanner.checks.provenance.check import check_provenance
from scanner.checks.provenance.settings import parse_provenance_policy
from scanner.errors import ConfigError
from scanner.models import (
    Finding,
    Hash,
    Inventory,
    LockedArtifact,
    LockedPackage,
    Lockfile,
    PinKind,
    Severity,
)
from scanner.options import ScanOptions
from tests.provenance.conftest import FakePyPI, copy_dist

SDIST = "pypi_attestations-0.0.19.tar.gz"
MODELS = "pypi_attestation_models-0.0.4a2.tar.gz"
ATTESTATIONS_PUBLISHER = "github:trailofbits/pypi-attestations@.github/workflows/release.yml"
MODELS_PUBLISHER = "github:trailofbits/pypi-attestation-models@.github/workflows/release.yml"


def run(inventory: Inventory, pypi: FakePyPI, **policy: object) -> list[Finding]:
    options = ScanOptions(
        online=True,
        use_cache=False,
        provenance=parse_provenance_policy({"index-url": pypi.url, **policy}),
    )
    found = check_provenance(inventory, CheckContext(options)).findings
    return [f for f in found if f.rule_id != "WS-PROV-OK"]


def release(filename: str, uploaded: str = "2025-01-01T00:00:00Z") -> dict[str, object]:
    kind = "bdist_wheel" if filename.endswith(".whl") else "sdist"
    return {
        "filename": filename,
        "packagetype": kind,
        "yanked": False,
        "digests": {"sha256": "00" * 32},
        "upload_time_iso_8601": uploaded,
    }


def history(releases: dict[str, list[dict[str, object]]]) -> tuple[int, bytes]:
    return 200, json.dumps({"info": {}, "releases": releases}).encode()


def provenance(assets: Path, **publisher: Any) -> tuple[int, bytes]:
    """The real provenance object PyPI served for pypi-attestations 0.0.19, with its
    publisher claim changed where asked (the claim is PyPI's, outside the signature)."""
    doc = json.loads((assets / (SDIST + ".provenance")).read_bytes())
    doc["attestation_bundles"][0]["publisher"].update(publisher)
    return 200, json.dumps(doc).encode()


def integrity(package: str, version: str, filename: str) -> str:
    return f"/integrity/{package}/{version}/{filename}/provenance"


def locked(tmp_path: Path, name: str, version: str) -> Inventory:
    lock = tmp_path / "uv.lock"
    wheel = f"{name}-{version}-py3-none-any.whl"
    entry = LockedPackage(
        name=name,
        version=version,
        kind=PinKind.PINNED,
        lockfile=lock,
        line=3,
        artifacts=(LockedArtifact(wheel, hashes=(Hash("sha256", "11" * 32),)),),
    )
    return Inventory(lockfiles=(Lockfile(lock, "uv", (entry,)),))


def test_a_release_attested_by_another_repository_is_drift(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    # The release at hand is really attested (verified offline) by
    # trailofbits/pypi-attestation-models; PyPI says its three predecessors were
    # published by trailofbits/pypi-attestations.
    dist = copy_dist(assets, MODELS, tmp_path / "dists", with_attestations=(".attestation",))
    fake_pypi.routes["/pypi/pypi-attestation-models/json"] = history(
        {
            v: [release(f"pypi_attestation_models-{v}.tar.gz")]
            for v in ("0.0.1", "0.0.2", "0.0.3", "0.0.4a2")
        }
    )
    for v in ("0.0.2", "0.0.3"):
        fake_pypi.routes[
            integrity("pypi-attestation-models", v, f"pypi_attestation_models-{v}.tar.gz")
        ] = provenance(assets)
    [drift] = run(Inventory(distribution_files=(dist,)), fake_pypi)
    assert (drift.rule_id, drift.severity) == ("WS-PROV-004", Severity.HIGH)
    assert (drift.package, drift.version) == ("pypi-attestation-models", "0.0.4a2")
    assert f"attested by {MODELS_PUBLISHER}" in drift.message
    assert "the publisher identity changed" in drift.message
    assert "a valid attestation alone is no proof" in drift.message
    # What was compared: both earlier attested releases, and the one without provenance.
    assert drift.evidence == (
        f"earlier: 0.0.3 by {ATTESTATIONS_PUBLISHER}; 0.0.2 by {ATTESTATIONS_PUBLISHER}; "
        f"0.0.4a2: {MODELS_PUBLISHER}"
    )
    # A policy that names the publisher is the authority: no drift is guessed then.
    pinned = {"publishers": {"pypi-attestation-models": {"kind": "github", "repository": "x/y"}}}
    again = run(Inventory(distribution_files=(dist,)), fake_pypi, **pinned)
    assert all(f.rule_id != "WS-PROV-004" for f in again)


def test_the_same_publisher_is_no_drift(assets: Path, tmp_path: Path, fake_pypi: FakePyPI) -> None:
    dist = copy_dist(assets, SDIST, tmp_path / "dists")
    fake_pypi.routes[integrity("pypi-attestations", "0.0.19", SDIST)] = provenance(assets)
    fake_pypi.routes["/pypi/pypi-attestations/json"] = history(
        {v: [release(f"pypi_attestations-{v}.tar.gz")] for v in ("0.0.17", "0.0.18", "0.0.19")}
    )
    for v in ("0.0.17", "0.0.18"):
        fake_pypi.routes[integrity("pypi-attestations", v, f"pypi_attestations-{v}.tar.gz")] = (
            provenance(assets)
        )
    assert run(Inventory(distribution_files=(dist,)), fake_pypi) == []
    asked = [r for r in fake_pypi.requests if r.startswith("/integrity/")]
    assert len(asked) == 3  # this release, and the two before it


def test_a_new_deployment_environment_is_drift(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    # Earlier releases came from the `pypi` environment (its reviewers, its branch
    # protection); this one, same repository and workflow, from none.
    dist = copy_dist(assets, SDIST, tmp_path / "dists")
    fake_pypi.routes[integrity("pypi-attestations", "0.0.19", SDIST)] = provenance(assets)
    fake_pypi.routes["/pypi/pypi-attestations/json"] = history(
        {v: [release(f"pypi_attestations-{v}.tar.gz")] for v in ("0.0.18", "0.0.19")}
    )
    fake_pypi.routes[
        integrity("pypi-attestations", "0.0.18", "pypi_attestations-0.0.18.tar.gz")
    ] = provenance(assets, environment="pypi")
    [drift] = run(Inventory(distribution_files=(dist,)), fake_pypi)
    assert drift.rule_id == "WS-PROV-004"
    assert "the environment changed" in drift.message
    assert f"0.0.18 by {ATTESTATIONS_PUBLISHER} (environment pypi)" in (drift.evidence or "")
    # The other way round (an environment added since) tightens publishing: no finding.
    fake_pypi.routes[integrity("pypi-attestations", "0.0.19", SDIST)] = provenance(
        assets, environment="release"
    )
    fake_pypi.routes[
        integrity("pypi-attestations", "0.0.18", "pypi_attestations-0.0.18.tar.gz")
    ] = provenance(assets)
    assert run(Inventory(distribution_files=(dist,)), fake_pypi) == []


def test_unattested_after_a_streak_of_attested_releases(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    versions = ("1.0", "1.1", "1.2", "1.3")
    fake_pypi.routes["/pypi/demo/json"] = history(
        {v: [release(f"demo-{v}-py3-none-any.whl")] for v in versions}
    )
    for v in versions[:3]:
        fake_pypi.routes[integrity("demo", v, f"demo-{v}-py3-none-any.whl")] = provenance(assets)
    [regression] = run(locked(tmp_path, "demo", "1.3"), fake_pypi)
    assert (regression.rule_id, regression.severity) == ("WS-PROV-003", Severity.HIGH)
    assert "after 3 attested releases" in regression.message
    assert regression.evidence == (
        f"compared with the 3 release(s) before it: 1.2 by {ATTESTATIONS_PUBLISHER}; "
        f"1.1 by {ATTESTATIONS_PUBLISHER}; 1.0 by {ATTESTATIONS_PUBLISHER}; "
        "1.3: no provenance for demo-1.3-py3-none-any.whl"
    )
    # The window is the policy's.
    [short] = run(locked(tmp_path, "demo", "1.3"), fake_pypi, **{"drift-window": 1})
    assert "after an attested release" in short.message


@pytest.mark.parametrize(
    ("before", "now", "gap"),
    [("1.4.0", "4.0.0", "3 major versions"), ("1.2.0", "1.14.0", "12 minor versions")],
)
def test_a_version_far_ahead_with_nothing_between(
    tmp_path: Path, fake_pypi: FakePyPI, before: str, now: str, gap: str
) -> None:
    fake_pypi.routes["/pypi/demo/json"] = history(
        {
            "1.0.0": [release("demo-1.0.0.tar.gz")],
            before: [release(f"demo-{before}.tar.gz")],
            now: [release(f"demo-{now}-py3-none-any.whl")],
        }
    )
    [jump] = run(locked(tmp_path, "demo", now), fake_pypi)
    assert (jump.rule_id, jump.severity) == ("WS-PROV-005", Severity.HIGH)
    assert f"jumps {gap} ahead of the release before it ({before})" in jump.message


@pytest.mark.parametrize(
    ("before", "now"), [("1.4.0", "2.0.0"), ("2024.8.30", "2026.1.4"), ("0.9", "1.0")]
)
def test_ordinary_steps_are_no_jump(
    tmp_path: Path, fake_pypi: FakePyPI, before: str, now: str
) -> None:
    fake_pypi.routes["/pypi/demo/json"] = history(
        {before: [release("a.tar.gz")], now: [release("b.tar.gz")]}
    )
    assert run(locked(tmp_path, "demo", now), fake_pypi) == []


def test_a_dormant_project_revived(tmp_path: Path, fake_pypi: FakePyPI) -> None:
    # ctx: 0.1.2 in 2014, then nothing until a hijacked account published 0.2.x in 2022.
    fake_pypi.routes["/pypi/ctx/json"] = history(
        {
            "0.1.2": [release("ctx-0.1.2.tar.gz", "2014-12-17T06:09:59Z")],
            "0.2.2": [release("ctx-0.2.2.tar.gz", "2022-05-14T18:45:00Z")],
        }
    )
    [dormant] = run(locked(tmp_path, "ctx", "0.2.2"), fake_pypi)
    assert (dormant.rule_id, dormant.severity) == ("WS-PROV-006", Severity.MEDIUM)
    assert "7.4 years after the release before it (0.1.2)" in dormant.message
    assert dormant.evidence == "0.1.2 first uploaded 2014-12-17; 0.2.2 first uploaded 2022-05-14"
    assert run(locked(tmp_path, "ctx", "0.2.2"), fake_pypi, regression=False) == []


@pytest.mark.parametrize("window", [0, 21, "3", True])
def test_a_bad_window_is_a_configuration_error(window: object) -> None:
    with pytest.raises(ConfigError, match="drift-window"):
        parse_provenance_policy({"drift-window": window})
