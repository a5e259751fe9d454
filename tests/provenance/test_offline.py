"""Real PEP 740 attestations verified offline, with every socket refused."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources
from pathlib import Path

import pytest

from scanner.checks.interface import CheckContext
from scanner.checks.provenance.attestations import (
    AttestationDirectory,
    PublisherSpec,
    Rejected,
    Verified,
    attestation_key,
    read_attestation_file,
    verify_attestation,
)
from scanner.checks.provenance.check import check_provenance
from scanner.checks.provenance.settings import parse_provenance_policy
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
from tests.provenance.conftest import SocketLog, copy_dist, dist_file

SDIST = "pypi_attestations-0.0.19.tar.gz"
SDIST_SHA256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
PUBLISHER = "github:trailofbits/pypi-attestations@.github/workflows/release.yml"
RFC8785 = "rfc8785-0.1.2-py3-none-any.whl"
SPT3G = "spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
TRAILOFBITS = PublisherSpec("github", "trailofbits/pypi-attestations", "release.yml")


def scan(inventory: Inventory, **extra: object) -> list[Finding]:
    options = ScanOptions(provenance=parse_provenance_policy(extra or None))
    return list(check_provenance(inventory, CheckContext(options)).findings)


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule]


# ---------------------------------------------------------------- the library layer


@pytest.mark.parametrize("suffix", [".publish.attestation", ".provenance", ".slsa.attestation"])
def test_real_sdist_verifies_offline_against_its_publisher(
    assets: Path, no_sockets: SocketLog, suffix: str
) -> None:
    [found] = read_attestation_file(assets / (SDIST + suffix))
    outcome = verify_attestation(found, SDIST, SDIST_SHA256, [TRAILOFBITS], offline=True)
    assert isinstance(outcome, Verified), outcome
    assert outcome.identity == PUBLISHER
    assert outcome.ref == "refs/tags/v0.0.19"
    assert no_sockets.attempts == []


@pytest.mark.parametrize(
    "spec",
    [
        PublisherSpec("github", "trailofbits/pypi-attestation-models", "release.yml"),
        PublisherSpec("github", "pypi/pypi-attestations", "release.yml"),
        PublisherSpec("github", "attacker/pypi-attestations", "release.yml"),
        PublisherSpec("github", "attacker/pypi-attestations"),
        PublisherSpec("github", "trailofbits/pypi-attestations", "other.yml"),
        PublisherSpec("gitlab", "trailofbits/pypi-attestations", ".gitlab-ci.yml"),
        PublisherSpec("google", email="release@trailofbits.iam.gserviceaccount.com"),
    ],
    ids=lambda s: s.describe(),
)
def test_real_sdist_fails_against_any_other_publisher(
    assets: Path, no_sockets: SocketLog, spec: PublisherSpec
) -> None:
    [found] = read_attestation_file(assets / (SDIST + ".publish.attestation"))
    outcome = verify_attestation(found, SDIST, SDIST_SHA256, [spec], offline=True)
    assert isinstance(outcome, Rejected)
    assert outcome.wrong_publisher
    assert outcome.signed_by == PUBLISHER
    assert spec.describe() in outcome.reason
    assert no_sockets.attempts == []


def test_any_of_several_publishers_may_match(assets: Path, no_sockets: SocketLog) -> None:
    [found] = read_attestation_file(assets / (SDIST + ".publish.attestation"))
    specs = [PublisherSpec("github", "someone/else"), TRAILOFBITS]
    assert isinstance(verify_attestation(found, SDIST, SDIST_SHA256, specs), Verified)


def test_policy_environment_is_checked_against_pypis_claim(assets: Path) -> None:
    [found] = read_attestation_file(assets / (SDIST + ".provenance"))
    assert found.claimed_environment is None  # PyPI's claim: no environment
    spec = PublisherSpec("github", "trailofbits/pypi-attestations", "release.yml", "pypi")
    # The claim names none, so there is nothing to contradict: still verified.
    assert isinstance(verify_attestation(found, SDIST, SDIST_SHA256, [spec]), Verified)
    claimed = type(found)(
        found.origin,
        found.attestation,
        found.publisher_claim,
        found.claimed,
        claimed_environment="staging",
    )
    outcome = verify_attestation(claimed, SDIST, SDIST_SHA256, [spec])
    assert isinstance(outcome, Rejected)
    assert outcome.wrong_publisher
    assert "(environment staging), but the policy requires" in outcome.reason
    assert outcome.reason.endswith("(environment pypi)")


def test_one_byte_changed_fails(assets: Path, tmp_path: Path, no_sockets: SocketLog) -> None:
    dist = copy_dist(assets, SDIST, tmp_path, with_attestations=(".publish.attestation",))
    data = bytearray(dist.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    dist.path.write_bytes(bytes(data))
    tampered = dist_file(dist.path)
    assert tampered.sha256 != SDIST_SHA256
    findings = scan(Inventory(distribution_files=(tampered,)))
    [bad] = by_rule(findings, "WS-PROV-001")
    assert bad.severity is Severity.CRITICAL
    assert "subject does not match distribution digest" in bad.message
    assert SDIST_SHA256 in (bad.evidence or "") and tampered.sha256 in (bad.evidence or "")
    assert by_rule(findings, "WS-PROV-OK") == []
    assert no_sockets.attempts == []


def test_other_file_name_fails(assets: Path) -> None:
    [found] = read_attestation_file(assets / (SDIST + ".publish.attestation"))
    outcome = verify_attestation(found, "pypi_attestations-0.0.20.tar.gz", SDIST_SHA256)
    assert isinstance(outcome, Rejected)
    assert "subject does not match distribution name" in outcome.reason


# ---------------------------------------------------------------- the check


def test_check_reports_who_built_the_real_sdist(
    assets: Path, tmp_path: Path, no_sockets: SocketLog
) -> None:
    dist = copy_dist(
        assets, SDIST, tmp_path, with_attestations=(".publish.attestation", ".provenance")
    )
    findings = scan(
        Inventory(distribution_files=(dist,)),
        publishers={
            "pypi-attestations": {
                "kind": "github",
                "repository": "trailofbits/pypi-attestations",
                "workflow": "release.yml",
            }
        },
    )
    [ok] = findings
    assert ok.rule_id == "WS-PROV-OK"
    assert ok.severity is Severity.INFO
    assert ok.evidence == PUBLISHER
    assert ok.package == "pypi-attestations" and ok.version == "0.0.19"
    assert "refs/tags/v0.0.19" in ok.message
    assert no_sockets.attempts == []


def test_check_wrong_publisher_is_critical(assets: Path, tmp_path: Path) -> None:
    dist = copy_dist(assets, SDIST, tmp_path, with_attestations=(".publish.attestation",))
    findings = scan(
        Inventory(distribution_files=(dist,)),
        publishers={
            "pypi-attestations": {"kind": "github", "repository": "Lightning-AI/pytorch-lightning"}
        },
    )
    [bad] = findings
    assert (bad.rule_id, bad.severity) == ("WS-PROV-001", Severity.CRITICAL)
    assert "wrong publisher" in bad.message
    assert PUBLISHER in bad.message and "Lightning-AI/pytorch-lightning" in bad.message


def test_email_signed_rfc8785_is_a_clear_finding(
    assets: Path, tmp_path: Path, no_sockets: SocketLog
) -> None:
    dist = copy_dist(
        assets,
        RFC8785,
        tmp_path,
        with_attestations=(".publish.attestation", ".sigstore", ".attestation"),
    )
    findings = scan(Inventory(distribution_files=(dist,)))
    bad = by_rule(findings, "WS-PROV-001")
    assert len(bad) == 3  # one per attestation file, each with the library's reason
    for finding in bad:
        assert finding.severity is Severity.CRITICAL
        assert finding.message.startswith(f"{RFC8785}: attestation does not verify: ")
        assert "timestamp certificate chain" in finding.message
        assert "Traceback" not in finding.message and "\n" not in finding.message
    assert by_rule(findings, "WS-PROV-OK") == []
    assert no_sockets.attempts == []


def test_spt3g_mismatch_is_a_clear_finding(
    assets: Path, tmp_path: Path, no_sockets: SocketLog
) -> None:
    # The attested wheel is not on PyPI; a file of that name with other bytes stands in
    # for what PyPI serves today (whose sha256 the manifest records).
    wheel = tmp_path / SPT3G
    wheel.write_bytes(b"not the attested wheel")
    shutil.copyfile(
        assets / (SPT3G + ".publish.attestation"), tmp_path / (SPT3G + ".publish.attestation")
    )
    findings = scan(Inventory(distribution_files=(dist_file(wheel),)))
    [bad] = findings
    assert (bad.rule_id, bad.severity) == ("WS-PROV-001", Severity.CRITICAL)
    assert bad.package == "spt3g" and bad.version == "1.0"
    assert "does not verify" in bad.message
    evidence = bad.evidence or ""
    assert "d2772f9a5199f05ed1be8d9aa78b879e51772e3ead9d73fe8057257b1aec7cf8" in evidence
    assert hashlib.sha256(b"not the attested wheel").hexdigest() in evidence
    assert no_sockets.attempts == []


def test_unreadable_attestation_is_a_finding(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    (tmp_path / (wheel.name + ".publish.attestation")).write_text('{"version": 1, "envel')
    (tmp_path / (wheel.name + ".provenance")).write_text('{"attestation_bundles": [{}]}')
    findings = scan(Inventory(distribution_files=(dist_file(wheel),)))
    assert [f.rule_id for f in findings] == ["WS-PROV-001", "WS-PROV-001"]
    messages = " | ".join(f.message for f in findings)
    assert "unreadable attestation" in messages and "not a PEP 740 attestation" in messages


def test_attestations_directory_and_locked_artifacts(
    assets: Path, tmp_path: Path, no_sockets: SocketLog
) -> None:
    attestations = tmp_path / "attestations"
    shutil.copytree(assets, attestations)
    lock = tmp_path / "requirements.txt"
    locked = LockedPackage(
        name="pypi-attestations",
        version="0.0.19",
        kind=PinKind.PINNED,
        lockfile=lock,
        line=3,
        artifacts=(
            LockedArtifact(SDIST, hashes=(Hash("sha256", SDIST_SHA256),)),
            LockedArtifact(
                "pypi_attestations-0.0.19-py3-none-any.whl", hashes=(Hash("sha256", "ab" * 32),)
            ),
        ),
    )
    unpinned = LockedPackage(
        name="torch", version=None, kind=PinKind.UNPINNED, lockfile=lock, line=4
    )
    inventory = Inventory(lockfiles=(Lockfile(lock, "requirements", (locked, unpinned)),))
    options = ScanOptions(
        attestations_dir=attestations,
        provenance=parse_provenance_policy(
            {
                "default": "warn",
                "require": ["torch"],
                "publishers": {
                    "pypi-attestations": {
                        "kind": "github",
                        "repository": "trailofbits/pypi-attestations",
                        "workflow": "release.yml",
                    }
                },
            }
        ),
    )
    findings = list(check_provenance(inventory, CheckContext(options)).findings)
    ok = by_rule(findings, "WS-PROV-OK")
    assert [(f.evidence, f.path, f.line) for f in ok] == [(PUBLISHER, str(lock), 3)]
    missing = by_rule(findings, "WS-PROV-002")
    assert {(f.package, f.severity) for f in missing} == {
        ("pypi-attestations", Severity.HIGH),  # the wheel: required (it has a publisher)
        ("torch", Severity.HIGH),  # required, unpinned: nothing to verify
    }
    torch = next(f for f in missing if f.package == "torch")
    assert "not a pinned release" in torch.message
    assert no_sockets.attempts == []


def test_missing_follows_the_default(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    inventory = Inventory(distribution_files=(dist_file(wheel),))
    assert scan(inventory) == []  # default: ignore
    [warn] = scan(inventory, default="warn")
    assert (warn.rule_id, warn.severity) == ("WS-PROV-002", Severity.LOW)
    [req] = scan(inventory, default="require")
    assert (req.rule_id, req.severity, req.package) == ("WS-PROV-002", Severity.HIGH, "demo")
    assert "--online" in (req.fix or "")


def test_directory_index_keys() -> None:
    assert attestation_key(SDIST + ".publish.attestation") == SDIST
    assert attestation_key(RFC8785 + ".sigstore") == RFC8785
    assert attestation_key("x-1.0.zip.provenance") == "x-1.0.zip"
    assert attestation_key(SDIST) is None
    assert attestation_key("notes.attestation") is None


def test_directory_scan_indexes_the_real_layout(assets: Path) -> None:
    index = AttestationDirectory.scan(assets)
    assert len(index.files_for(SDIST)) == 3
    assert len(index.files_for(RFC8785)) == 3
    assert len(index.files_for(SPT3G)) == 1


def test_verification_uses_the_bundled_trust_root_only(
    assets: Path, sigstore_home: Path, no_sockets: SocketLog
) -> None:
    [found] = read_attestation_file(assets / (SDIST + ".publish.attestation"))
    assert isinstance(verify_attestation(found, SDIST, SDIST_SHA256, offline=True), Verified)
    bundled = (
        resources.files("sigstore._store")
        .joinpath("https%3A%2F%2Ftuf-repo-cdn.sigstore.dev", "trusted_root.json")
        .read_bytes()
    )
    [used] = sigstore_home.rglob("trusted_root.json")
    assert used.read_bytes() == bundled
    # No TUF metadata was fetched: offline mode never builds an updater.
    assert not list(sigstore_home.rglob("timestamp.json"))
    assert no_sockets.attempts == []


def test_requirements_style_hashes_without_file_names(
    assets: Path, tmp_path: Path, no_sockets: SocketLog
) -> None:
    # As pip-compile writes it: one entry, several hashes, no file names.
    lock = tmp_path / "requirements.txt"
    rfc_sha = hashlib.sha256((assets / RFC8785).read_bytes()).hexdigest()
    entries = (
        LockedPackage(
            name="pypi-attestations",
            version="0.0.19",
            kind=PinKind.PINNED,
            lockfile=lock,
            line=1,
            artifacts=(
                LockedArtifact(
                    None, hashes=(Hash("sha256", SDIST_SHA256), Hash("sha256", "cd" * 32))
                ),
            ),
        ),
        LockedPackage(
            name="rfc8785",
            version="0.1.2",
            kind=PinKind.PINNED,
            lockfile=lock,
            line=4,
            artifacts=(LockedArtifact(None, hashes=(Hash("sha256", rfc_sha),)),),
        ),
        # A hash some attestation names, but for another package: never borrowed.
        LockedPackage(
            name="impostor",
            version="0.0.19",
            kind=PinKind.PINNED,
            lockfile=lock,
            line=6,
            artifacts=(LockedArtifact(None, hashes=(Hash("sha256", SDIST_SHA256),)),),
        ),
    )
    inventory = Inventory(lockfiles=(Lockfile(lock, "requirements", entries),))
    options = ScanOptions(
        attestations_dir=assets, provenance=parse_provenance_policy({"default": "warn"})
    )
    findings = list(check_provenance(inventory, CheckContext(options)).findings)
    [ok] = by_rule(findings, "WS-PROV-OK")
    assert (ok.package, ok.evidence, ok.line) == ("pypi-attestations", PUBLISHER, 1)
    assert SDIST in ok.message
    bad = by_rule(findings, "WS-PROV-001")
    assert {f.package for f in bad} == {"rfc8785"} and len(bad) == 3
    missing = {f.package: f for f in by_rule(findings, "WS-PROV-002")}
    assert set(missing) == {"pypi-attestations", "impostor"}
    assert "1 of 2 artifact(s)" in missing["pypi-attestations"].message
    assert "cdcdcdcdcdcdcdcd" in (missing["pypi-attestations"].evidence or "")
    assert no_sockets.attempts == []


def test_missing_attestations_directory_is_a_source_error(tmp_path: Path) -> None:
    from scanner.errors import SourceError

    options = ScanOptions(attestations_dir=tmp_path / "nope")
    with pytest.raises(SourceError, match="does not exist"):
        list(check_provenance(Inventory(), CheckContext(options)).findings)


def test_trust_root_refresh_without_network_fails_closed(
    assets: Path, tmp_path: Path, no_sockets: SocketLog
) -> None:
    from scanner.errors import ServiceError

    dist = copy_dist(assets, SDIST, tmp_path, with_attestations=(".publish.attestation",))
    options = ScanOptions(
        online=True,
        use_cache=False,
        provenance=parse_provenance_policy({"refresh-trust-root": True}),
    )
    with pytest.raises(ServiceError) as caught:
        list(
            check_provenance(Inventory(distribution_files=(dist,)), CheckContext(options)).findings
        )
    assert "cannot refresh sigstore's trust root" in caught.value.diagnostics()
    assert "--offline" in caught.value.diagnostics()
    assert no_sockets.attempts  # it did try: only the refresh reaches for the network
