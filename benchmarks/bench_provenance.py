"""How long offline verification of PEP 740 attestations takes, on the real data at hand.

Run: .venv/bin/python benchmarks/bench_provenance.py [--repeat N]

1. every real attestation file against its distribution (cold first call, then the
   median of N warm calls);
2. check_provenance over the real distributions with their attestations beside them;
3. check_provenance over every real lock file of the corpus (attestations directory =
   the real assets, default = require), plus a requirements file that pins the attested
   distributions by hash, as pip-compile writes it.

Sockets are refused for the whole run and sigstore's TUF cache points at an empty
temporary directory, so the figures are for the bundled trust root, fully offline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
ASSETS = DATA / "attestations" / "assets"
CORPUS = DATA / "lockfiles" / "corpus.tar.gz"
# The file PyPI serves for spt3g 1.0 today (manifest.json); the attestation names another.
SPT3G_PYPI_SHA256 = "876347806f552ca357395b095a1ce5a113d1b3cb37d05eb3a4881d73f9f94ec5"


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OSError("benchmark is offline: no sockets")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not ASSETS.is_dir():
        print(f"real attestations not found at {ASSETS}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="bench-provenance-"))
    try:
        os.environ["XDG_CACHE_HOME"] = str(work / "xdg-cache")
        os.environ["XDG_DATA_HOME"] = str(work / "xdg-data")
        socket.socket.connect = _refuse  # type: ignore[method-assign]
        socket.create_connection = _refuse
        socket.getaddrinfo = _refuse
        _run(work, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _run(work: Path, repeat: int) -> None:
    t0 = time.perf_counter()
    from scanner.checks.interface import CheckContext
    from scanner.checks.provenance.attestations import read_attestation_file, verify_attestation
    from scanner.checks.provenance.check import check_provenance
    from scanner.checks.provenance.settings import ProvenancePolicy, Requirement
    from scanner.infra.hashing import sha256_file
    from scanner.models import DistributionFile, Inventory
    from scanner.options import ScanOptions
    from scanner.sources.lockfiles import parse_lockfile

    print(
        f"import scanner.checks.provenance.attestations + sigstore + pypi_attestations: "
        f"{(time.perf_counter() - t0) * 1000:.0f} ms\n"
    )

    print("1. each real attestation against its distribution (offline, bundled trust root)")
    print(f"{'attestation file':<88} {'cold ms':>8} {'warm ms':>8}  outcome")
    total_warm = 0.0
    for path in sorted(ASSETS.iterdir()):
        found_list = (
            read_attestation_file(path)
            if path.name.endswith((".attestation", ".provenance", ".sigstore"))
            else []
        )
        if not found_list:
            continue
        dist_name = (
            path.name[: path.name.find(".whl.") + 4]
            if ".whl." in path.name
            else path.name[: path.name.find(".tar.gz.") + 7]
        )
        dist = ASSETS / dist_name
        sha = sha256_file(dist)[0] if dist.is_file() else SPT3G_PYPI_SHA256
        found = found_list[0]
        start = time.perf_counter()
        outcome = verify_attestation(found, dist_name, sha, offline=True)
        cold = time.perf_counter() - start
        warm: list[float] = []
        for _ in range(repeat):
            start = time.perf_counter()
            verify_attestation(found, dist_name, sha, offline=True)
            warm.append(time.perf_counter() - start)
        median = statistics.median(warm)
        total_warm += median
        what = (
            f"verified: {outcome.identity}"
            if hasattr(outcome, "identity")
            else f"REJECTED: {getattr(outcome, 'reason', '')[:60]}"
        )
        print(f"{path.name:<88} {cold * 1000:8.1f} {median * 1000:8.1f}  {what}")
    print(f"{'sum of warm medians':<88} {'':>8} {total_warm * 1000:8.1f}\n")

    print("2. check_provenance over the real distributions, attestations beside them")
    dists_dir = work / "dists"
    dists_dir.mkdir()
    for path in ASSETS.iterdir():
        shutil.copyfile(path, dists_dir / path.name)
    files = []
    for path in sorted(dists_dir.iterdir()):
        if path.name.endswith((".whl", ".tar.gz")):
            digest, size = sha256_file(path)
            kind = "wheel" if path.name.endswith(".whl") else "sdist"
            files.append(DistributionFile(path, kind, None, None, digest, size))
    inventory = Inventory(distribution_files=tuple(files))
    start = time.perf_counter()
    findings = list(check_provenance(inventory, CheckContext(ScanOptions())).findings)
    elapsed = time.perf_counter() - start
    rules = Counter(f.rule_id for f in findings)
    print(f"   {len(files)} distributions, {elapsed * 1000:.1f} ms, findings {dict(rules)}\n")

    print(
        "3. check_provenance over real lock files (offline, attestations dir = real assets, "
        "default = require)"
    )
    corpus = work / "corpus"
    with tarfile.open(CORPUS) as tf:
        tf.extractall(corpus, filter="data")
    subset = corpus / "attested-subset-requirements.txt"
    subset.write_text(
        "".join(
            f"{name}=={version} \\\n    --hash=sha256:{sha256_file(ASSETS / file)[0]}\n"
            for name, version, file in [
                ("pypi-attestations", "0.0.19", "pypi_attestations-0.0.19.tar.gz"),
                ("pypi-attestation-models", "0.0.4a2", "pypi_attestation_models-0.0.4a2.tar.gz"),
                ("rfc8785", "0.1.2", "rfc8785-0.1.2-py3-none-any.whl"),
                ("gitlab-oidc-project", "0.0.3", "gitlab_oidc_project-0.0.3.tar.gz"),
            ]
        )
    )
    options = ScanOptions(
        attestations_dir=ASSETS, provenance=ProvenancePolicy(default=Requirement.REQUIRE)
    )
    print(f"{'lock file':<78} {'pkgs':>5} {'artifacts':>9} {'ms':>8}  findings")
    grand = 0.0
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        if "LICENSE" in path.name or path.suffix == ".md":
            continue
        try:
            lockfile = parse_lockfile(path)
        except Exception as err:  # the benchmark reports and moves on
            print(f"{path.relative_to(corpus)!s:<78} skipped: {err}")
            continue
        artifacts = sum(
            max(len(a.hashes), 1) if not a.filename else 1
            for p in lockfile.packages
            for a in p.artifacts
        )
        start = time.perf_counter()
        found_rules = Counter(
            f.rule_id
            for f in check_provenance(
                Inventory(lockfiles=(lockfile,)), CheckContext(options)
            ).findings
        )
        elapsed = time.perf_counter() - start
        grand += elapsed
        print(
            f"{path.relative_to(corpus)!s:<78} {len(lockfile.packages):5d} {artifacts:9d} "
            f"{elapsed * 1000:8.1f}  {dict(found_rules)}"
        )
    print(f"{'total':<78} {'':>5} {'':>9} {grand * 1000:8.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
