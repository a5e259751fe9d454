"""The online path against a local PyPI on 127.0.0.1: integrity API shapes and regressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.checks.interface import CheckContext
from scanner.checks.provenance.attestations import IntegrityClient
from scanner.checks.provenance.check import check_provenance
from scanner.checks.provenance.settings import parse_provenance_policy
from scanner.errors import ServiceError
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
from tests.provenance.conftest import FakePyPI, copy_dist, dist_file

SDIST = "pypi_attestations-0.0.19.tar.gz"
SDIST_SHA256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
PUBLISHER = "github:trailofbits/pypi-attestations@.github/workflows/release.yml"
SDIST_PATH = f"/integrity/pypi-attestations/0.0.19/{SDIST}/provenance"


def run(
    inventory: Inventory, pypi: FakePyPI, cache: Path | None, **policy: object
) -> list[Finding]:
    options = ScanOptions(
        online=True,
        use_cache=cache is not None,
        cache_dir=cache,
        provenance=parse_provenance_policy({"index-url": pypi.url, **policy}),
    )
    return list(check_provenance(inventory, CheckContext(options)).findings)


def release(filename: str, *, yanked: bool = False) -> dict[str, object]:
    kind = "bdist_wheel" if filename.endswith(".whl") else "sdist"
    return {
        "filename": filename,
        "packagetype": kind,
        "yanked": yanked,
        "digests": {"sha256": "00" * 32},
    }


def history(**versions: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {"info": {}, "releases": {v.replace("_", "."): files for v, files in versions.items()}}
    ).encode()


def locked_demo(tmp_path: Path, version: str, *, index: str | None = None) -> Inventory:
    lock = tmp_path / "uv.lock"
    wheel = f"demo-{version}-py3-none-any.whl"
    entry = LockedPackage(
        name="demo",
        version=version,
        kind=PinKind.PINNED,
        lockfile=lock,
        line=10,
        index=index,
        artifacts=(LockedArtifact(wheel, hashes=(Hash("sha256", "11" * 32),)),),
    )
    return Inventory(lockfiles=(Lockfile(lock, "uv", (entry,)),))


def test_present_provenance_is_fetched_verified_and_cached(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    fake_pypi.routes[SDIST_PATH] = (200, (assets / (SDIST + ".provenance")).read_bytes())
    dist = copy_dist(assets, SDIST, tmp_path / "dists")  # no attestation beside it
    inventory = Inventory(distribution_files=(dist,))
    cache = tmp_path / "cache"
    [ok] = run(inventory, fake_pypi, cache, default="require")
    assert (ok.rule_id, ok.evidence) == ("WS-PROV-OK", PUBLISHER)
    # The provenance, then the release history its publisher is compared with (drift).
    assert fake_pypi.requests == [SDIST_PATH, "/pypi/pypi-attestations/json"]
    # The second run reads the on-disk cache: no request at all.
    [again] = run(inventory, fake_pypi, cache, default="require")
    assert again == ok
    assert fake_pypi.requests == [SDIST_PATH, "/pypi/pypi-attestations/json"]


def test_served_provenance_for_other_bytes_is_critical(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    fake_pypi.routes[SDIST_PATH] = (200, (assets / (SDIST + ".provenance")).read_bytes())
    changed = tmp_path / SDIST
    changed.write_bytes((assets / SDIST).read_bytes() + b"\0")
    [bad] = run(Inventory(distribution_files=(dist_file(changed),)), fake_pypi, None)
    assert (bad.rule_id, bad.severity) == ("WS-PROV-001", Severity.CRITICAL)
    assert "digest" in bad.message
    assert SDIST_PATH in (bad.evidence or "")


def test_absent_provenance_is_missing_where_required(tmp_path: Path, fake_pypi: FakePyPI) -> None:
    fake_pypi.routes["/pypi/demo/json"] = (200, history(**{"1_0": [release("demo-1.0.tar.gz")]}))
    findings = run(locked_demo(tmp_path, "1.0"), fake_pypi, None, require=["demo"])
    [missing] = findings
    assert (missing.rule_id, missing.severity) == ("WS-PROV-002", Severity.HIGH)
    assert "PyPI integrity API" in missing.message
    assert (missing.path, missing.line) == (str(tmp_path / "uv.lock"), 10)
    assert "/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance" in fake_pypi.requests


def test_absent_is_cached_too(tmp_path: Path, fake_pypi: FakePyPI) -> None:
    inventory = locked_demo(tmp_path, "1.0")
    cache = tmp_path / "cache"
    run(inventory, fake_pypi, cache, regression=False)
    run(inventory, fake_pypi, cache, regression=False)
    assert len(fake_pypi.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"attestation_bundles": "nope"}',
        b'{"attestation_bundles": [{"publisher": {"kind": "GitHub"}, "attestations": []}]}',
    ],
    ids=["not-json", "array", "bad-bundles", "bad-publisher"],
)
def test_malformed_provenance_fails_the_scan_closed(
    tmp_path: Path, fake_pypi: FakePyPI, body: bytes
) -> None:
    fake_pypi.routes["/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance"] = (200, body)
    with pytest.raises(ServiceError) as caught:
        run(locked_demo(tmp_path, "1.0"), fake_pypi, tmp_path / "cache")
    text = caught.value.diagnostics()
    assert "malformed provenance" in text and "/integrity/demo/1.0/" in text
    assert "\n" not in text
    # A malformed answer is never cached.
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_server_error_and_unreachable_fail_closed(tmp_path: Path, fake_pypi: FakePyPI) -> None:
    fake_pypi.routes["/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance"] = (503, b"")
    with pytest.raises(ServiceError, match="HTTP 503"):
        run(locked_demo(tmp_path, "1.0"), fake_pypi, None)
    client = IntegrityClient("http://127.0.0.1:9", timeout=2)  # discard port: refused
    with pytest.raises(ServiceError, match="cannot reach"):
        client.provenance("demo", "1.0", "demo-1.0.tar.gz")


def test_regression_when_the_previous_release_was_attested(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    fake_pypi.routes["/pypi/demo/json"] = (
        200,
        history(
            **{
                "0_9": [release("demo-0.9.tar.gz"), release("demo-0.9-py3-none-any.whl")],
                "1_0": [release("demo-1.0.tar.gz"), release("demo-1.0-py3-none-any.whl")],
                "1_1": [release("demo-1.1-py3-none-any.whl")],
                "1_2": [release("demo-1.2-py3-none-any.whl")],
            }
        ),
    )
    # 1.0's wheel carries an attestation; 1.1 (the locked one) does not; 1.2 is later.
    fake_pypi.routes["/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance"] = (
        200,
        (assets / (SDIST + ".provenance")).read_bytes(),
    )
    [regression] = run(locked_demo(tmp_path, "1.1"), fake_pypi, None)
    assert (regression.rule_id, regression.severity) == ("WS-PROV-003", Severity.HIGH)
    assert regression.package == "demo" and regression.version == "1.1"
    assert "earlier release 1.0 was attested" in regression.message
    assert PUBLISHER in regression.message
    assert regression.fix == "Pin demo==1.0 until the project explains the release."


def test_no_regression_when_history_was_never_attested(tmp_path: Path, fake_pypi: FakePyPI) -> None:
    fake_pypi.routes["/pypi/demo/json"] = (
        200,
        history(
            **{
                "1_0": [release("demo-1.0-py3-none-any.whl")],
                "1_1": [release("demo-1.1-py3-none-any.whl")],
            }
        ),
    )
    assert run(locked_demo(tmp_path, "1.1"), fake_pypi, None) == []
    assert "/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance" in fake_pypi.requests


def test_regression_skips_yanked_and_prereleases(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    attested = (200, (assets / (SDIST + ".provenance")).read_bytes())
    fake_pypi.routes["/pypi/demo/json"] = (
        200,
        history(
            **{
                "1_0": [release("demo-1.0-py3-none-any.whl")],
                "1_1rc1": [release("demo-1.1rc1-py3-none-any.whl")],
                "1_0_1": [release("demo-1.0.1-py3-none-any.whl", yanked=True)],
                "1_1": [release("demo-1.1-py3-none-any.whl")],
            }
        ),
    )
    fake_pypi.routes["/integrity/demo/1.1rc1/demo-1.1rc1-py3-none-any.whl/provenance"] = attested
    fake_pypi.routes["/integrity/demo/1.0.1/demo-1.0.1-py3-none-any.whl/provenance"] = attested
    # Only 1.0 (unattested) counts as the release before 1.1.
    assert run(locked_demo(tmp_path, "1.1"), fake_pypi, None) == []


def test_regression_can_be_switched_off_and_first_release_is_fine(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    fake_pypi.routes["/pypi/demo/json"] = (
        200,
        history(
            **{
                "1_0": [release("demo-1.0-py3-none-any.whl")],
                "1_1": [release("demo-1.1-py3-none-any.whl")],
            }
        ),
    )
    fake_pypi.routes["/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance"] = (
        200,
        (assets / (SDIST + ".provenance")).read_bytes(),
    )
    assert run(locked_demo(tmp_path, "1.1"), fake_pypi, None, regression=False) == []
    del fake_pypi.routes["/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance"]
    assert run(locked_demo(tmp_path, "1.0"), fake_pypi, None) == []  # nothing before 1.0


def test_other_indexes_are_not_asked(tmp_path: Path, fake_pypi: FakePyPI) -> None:
    inventory = locked_demo(tmp_path, "1.0", index="https://download.pytorch.org/whl/cu121")
    [missing] = run(inventory, fake_pypi, None, default="warn")
    assert (missing.rule_id, missing.severity) == ("WS-PROV-002", Severity.LOW)
    assert fake_pypi.requests == []


def test_hash_only_entry_is_named_from_pypis_listing(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    listing = json.dumps(
        {
            "info": {},
            "releases": {
                "0.0.19": [
                    {
                        "filename": SDIST,
                        "packagetype": "sdist",
                        "yanked": False,
                        "digests": {"sha256": SDIST_SHA256},
                    }
                ]
            },
        }
    ).encode()
    fake_pypi.routes["/pypi/pypi-attestations/json"] = (200, listing)
    fake_pypi.routes[SDIST_PATH] = (200, (assets / (SDIST + ".provenance")).read_bytes())
    lock = tmp_path / "requirements.txt"
    entry = LockedPackage(
        name="pypi-attestations",
        version="0.0.19",
        kind=PinKind.PINNED,
        lockfile=lock,
        line=7,
        artifacts=(LockedArtifact(None, hashes=(Hash("sha256", SDIST_SHA256),)),),
    )
    [ok] = run(
        Inventory(lockfiles=(Lockfile(lock, "requirements", (entry,)),)),
        fake_pypi,
        None,
        require=["pypi-attestations"],
    )
    assert (ok.rule_id, ok.evidence, ok.line) == ("WS-PROV-OK", PUBLISHER, 7)


def test_no_regression_claimed_for_artifacts_never_asked_about(
    assets: Path, tmp_path: Path, fake_pypi: FakePyPI
) -> None:
    # The lock pins a hash PyPI's listing does not know: the file cannot be named, so the
    # integrity API was never asked about it and nothing can be said about a regression.
    fake_pypi.routes["/pypi/demo/json"] = (
        200,
        history(
            **{
                "1_0": [release("demo-1.0-py3-none-any.whl")],
                "1_1": [release("demo-1.1-py3-none-any.whl")],
            }
        ),
    )
    fake_pypi.routes["/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance"] = (
        200,
        (assets / (SDIST + ".provenance")).read_bytes(),
    )
    lock = tmp_path / "requirements.txt"
    entry = LockedPackage(
        name="demo",
        version="1.1",
        kind=PinKind.PINNED,
        lockfile=lock,
        line=1,
        artifacts=(LockedArtifact(None, hashes=(Hash("sha256", "ee" * 32),)),),
    )
    findings = run(
        Inventory(lockfiles=(Lockfile(lock, "requirements", (entry,)),)),
        fake_pypi,
        None,
        default="warn",
    )
    assert [f.rule_id for f in findings] == ["WS-PROV-002"]
    assert not any("/integrity/demo/1.1/" in r for r in fake_pypi.requests)
