"""Integrity pass: artifacts at hand against the hashes a lock pins (WS-INT-006), and the
environment against the lock (WS-INT-007, 008).
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from pathlib import Path

from packaging.markers import InvalidMarker, Marker, default_environment
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from scanner.checks.integrity.state import RunState, _Artifact, _parse_artifact_name
from scanner.infra.hashing import hash_files
from scanner.models import Finding, LockedPackage, PinKind, Severity, canonical

BOOTSTRAP_PACKAGES = frozenset({"pip", "setuptools", "wheel", "distribute"})
ARTIFACT_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


class LockPass(RunState):
    """Artifacts at hand against the lock's hashes; the environment against the lock."""

    def _artifacts_at_hand(self) -> list[_Artifact]:
        """Distribution files given as targets, in wheelhouses, and next to lock files."""
        out: dict[Path, _Artifact] = {}
        for dist_file in self.inventory.distribution_files:
            out[dist_file.path] = _Artifact(
                dist_file.path, dist_file.sha256, dist_file.name, dist_file.version, dist_file.kind
            )
        directories = list(self.options.wheelhouses)
        directories += [lf.path.parent for lf in self.inventory.lockfiles]
        candidates = [c for d in dict.fromkeys(directories) for c in _artifact_files(d)]
        candidates = [c for c in candidates if c not in out]
        for path, result in hash_files(candidates, self.cache).items():
            if isinstance(result, OSError):
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-011",
                        severity=Severity.HIGH,
                        path=str(path),
                        message=f"Artifact cannot be read: {result.strerror or result}.",
                    )
                )
                continue
            self.files_hashed += 1
            name, version, kind = _parse_artifact_name(path.name)
            out[path] = _Artifact(path, result[0], name, version, kind)
        return list(out.values())

    def _check_lock_hashes(self, artifacts: list[_Artifact]) -> None:
        by_filename: dict[str, list[_Artifact]] = defaultdict(list)
        by_release: dict[tuple[str, str], list[_Artifact]] = defaultdict(list)
        for art in artifacts:
            by_filename[art.path.name].append(art)
            if art.name and art.version:
                by_release[(art.name, _version_key(art.version))].append(art)
        for pkg in self.inventory.locked_packages:
            for locked in pkg.artifacts:
                if not locked.hashes:
                    continue
                if locked.filename:
                    for art in by_filename.get(locked.filename, ()):
                        bad = [h for h in locked.hashes if not _matches(art, h.algorithm, h.value)]
                        if bad:
                            self.findings.append(
                                _lock_mismatch(pkg, art, bad[0].algorithm, bad[0].value)
                            )
                elif pkg.version is not None:
                    for art in by_release.get((pkg.name, _version_key(pkg.version)), ()):
                        if not any(_matches(art, h.algorithm, h.value) for h in pkg.hashes):
                            first = pkg.hashes[0]
                            self.findings.append(
                                _lock_mismatch(pkg, art, first.algorithm, first.value)
                            )

    def _check_env_vs_lock(self) -> None:
        locked: dict[str, list[LockedPackage]] = defaultdict(list)
        for pkg in self.inventory.locked_packages:
            locked[canonical(pkg.name)].append(pkg)
        # Distributions in directories that PYTHONPATH, .pth lines or egg-links add are
        # installed for every environment; those directories alone are not environments.
        on_path = {
            d.name for st in self.env_states if not st.env.site_dir for d in st.env.distributions
        }
        for state in self.env_states:
            env = state.env
            markers_env = _marker_environment(env.python_version)
            installed = {d.name: d for d in env.distributions}
            for dist in env.distributions:
                entries = locked.get(dist.name)
                if not entries:
                    bootstrap = dist.name in BOOTSTRAP_PACKAGES
                    self.findings.append(
                        Finding(
                            rule_id="WS-INT-007",
                            severity=Severity.LOW if bootstrap else Severity.HIGH,
                            package=dist.name,
                            version=dist.version,
                            path=str(dist.metadata_dir),
                            message="Installed distribution is not in the lock file.",
                            fix=None if bootstrap else f"lock {dist.name} or uninstall it",
                        )
                    )
                elif not any(_version_matches(p, dist.version) for p in entries):
                    pins = ", ".join(sorted({p.version or "?" for p in entries}))
                    first = entries[0]
                    self.findings.append(
                        Finding(
                            rule_id="WS-INT-007",
                            severity=Severity.HIGH,
                            package=dist.name,
                            version=dist.version,
                            path=str(first.lockfile),
                            line=first.line,
                            message=f"Installed version {dist.version} is not the locked version "
                            f"({pins}).",
                            evidence=f"installed {dist.metadata_dir}",
                            fix=f"install {dist.name}=={first.version}" if first.version else None,
                        )
                    )
            for name, entries in locked.items():
                if name in installed or name in on_path or not env.site_dir:
                    continue
                applicable = [
                    p for p in entries if p.kind is not PinKind.VIRTUAL and _applies(p, markers_env)
                ]
                if applicable:
                    first = applicable[0]
                    self.findings.append(
                        Finding(
                            rule_id="WS-INT-008",
                            severity=Severity.MEDIUM,
                            package=name,
                            version=first.version,
                            path=str(first.lockfile),
                            line=first.line,
                            message=f"Locked package is not installed in {env.site_packages}.",
                        )
                    )


def _artifact_files(directory: Path) -> list[Path]:
    """Distribution files directly inside `directory` (links not followed)."""
    try:
        with os.scandir(directory) as it:
            return [
                Path(e.path)
                for e in it
                if e.name.endswith(ARTIFACT_SUFFIXES) and e.is_file(follow_symlinks=False)
            ]
    except OSError:
        return []  # a wheelhouse that is not there holds nothing to verify


def _version_key(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version.strip()


def _version_matches(pkg: LockedPackage, installed: str) -> bool:
    """Does the installed version satisfy this lock entry (local labels per PEP 440)?"""
    if pkg.kind is not PinKind.PINNED or pkg.version is None:
        return True  # editable / path / url / unpinned entries pin no version to compare
    try:
        return SpecifierSet(f"=={pkg.version}").contains(installed, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return pkg.version.strip() == installed.strip()


def _marker_environment(python_version: str | None) -> dict[str, str]:
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    if python_version:
        parts = python_version.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python_version if len(parts) >= 3 else python_version + ".0"
    return env


def _applies(pkg: LockedPackage, markers_env: dict[str, str]) -> bool:
    if not pkg.markers:
        return True
    try:
        return Marker(pkg.markers).evaluate({**markers_env, "extra": ""})
    except (InvalidMarker, ValueError, KeyError):
        return True  # a marker we cannot judge: assume it applies (fail towards reporting)


def _matches(art: _Artifact, algorithm: str, value: str) -> bool:
    algorithm = algorithm.lower()
    if algorithm == "sha256":
        return art.sha256 == value.lower()
    if algorithm not in hashlib.algorithms_guaranteed:
        return False
    digest = hashlib.new(algorithm)
    with art.path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest() == value.lower()


def _lock_mismatch(pkg: LockedPackage, art: _Artifact, algorithm: str, value: str) -> Finding:
    return Finding(
        rule_id="WS-INT-006",
        severity=Severity.CRITICAL,
        package=pkg.name,
        version=pkg.version,
        path=str(pkg.lockfile),
        line=pkg.line,
        message=f"Artifact {art.path.name} does not match the hash the lock file pins.",
        evidence=f"lock {algorithm}:{value}; file {art.path} sha256:{art.sha256}",
        fix="delete the artifact and download it again from the locked index",
    )
