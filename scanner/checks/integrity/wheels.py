"""Integrity pass: installed files against the RECORD inside the locked wheel (WS-INT-009),
the wheel taken from the artifacts at hand or, online only, fetched from the lock's index.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from packaging.tags import Tag, parse_tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion

from scanner.checks.integrity.archives import _wheel_record_name
from scanner.checks.integrity.lock import _version_key, _version_matches
from scanner.checks.integrity.state import (
    _HASHLESS_OK,
    _TOLERATED_METADATA,
    RunState,
    _Artifact,
    _EnvState,
    _is_code,
    _parse_artifact_name,
)
from scanner.errors import ServiceError
from scanner.infra.archive import SafeArchive
from scanner.infra.hash_cache import default_cache_dir
from scanner.infra.hashing import FileHash, hash_files
from scanner.infra.http import new_session
from scanner.infra.pypi import PYPI_SIMPLE_URL
from scanner.models import (
    Finding,
    InstalledDistribution,
    LockedPackage,
    PinKind,
    RecordEntry,
    Severity,
    canonical,
)
from scanner.sources.environment import environment_prefix, parse_record

if TYPE_CHECKING:
    import requests  # imported where used: only online runs pay for it


_DOWNLOAD_TIMEOUT_S = 60.0
_MAX_DOWNLOAD_BYTES = 8 << 30


class LockedWheelPass(RunState):
    """Installed files against the RECORD of the locked wheel."""

    def _check_env_vs_locked_wheels(self, artifacts: list[_Artifact]) -> None:
        wheels: dict[str, list[_Artifact]] = defaultdict(list)
        for art in artifacts:
            if art.kind == "wheel" and art.name:
                wheels[art.name].append(art)
        locked: dict[str, list[LockedPackage]] = defaultdict(list)
        for pkg in self.inventory.locked_packages:
            locked[canonical(pkg.name)].append(pkg)
        for state in self.env_states:
            for dist, paths in state.record_paths:
                trusted = [
                    art
                    for art in wheels.get(dist.name, ())
                    if art.version is not None
                    and _version_key(art.version) == _version_key(dist.version)
                    and any(_lock_trusts(p, art) for p in locked.get(dist.name, ()))
                ]
                wheel = _pick_installed_wheel(trusted, dist, paths, state.hashes)
                if wheel is not None:
                    self.findings.extend(self._compare_with_wheel(dist, paths, state, wheel))

    def _compare_with_wheel(
        self,
        dist: InstalledDistribution,
        paths: dict[str, RecordEntry],
        state: _EnvState,
        wheel: _Artifact,
    ) -> Iterator[Finding]:
        site = str(state.env.site_packages)
        prefix = str(environment_prefix(state.env.site_packages))
        with SafeArchive(wheel.path) as archive:
            record_name = _wheel_record_name(archive.members(), dist.metadata_dir.name)
            if record_name is None:
                return
            try:
                wheel_record = parse_record(archive.read(record_name).decode("utf-8", "replace"))
            except ValueError:
                return  # WS-INT-005 reports a broken wheel RECORD when the wheel is a target
        expected: dict[str, RecordEntry] = {}
        for entry in wheel_record:
            target = _installed_location(entry.path, site, prefix)
            if target is not None:
                expected[target] = entry
        for path, entry in expected.items():
            if entry.sha256 is None or path.endswith(_HASHLESS_OK):
                continue
            result = state.hashes.get(path)
            if result is None:
                found = hash_files([path], self.cache)[path]
                if not isinstance(found, OSError):
                    self.files_hashed += 1
                result = found
            new = partial(Finding, package=dist.name, version=dist.version, path=path)
            if isinstance(result, OSError):
                if path not in paths:
                    yield new(
                        rule_id="WS-INT-009",
                        severity=Severity.MEDIUM,
                        message="A file of the locked wheel is not installed.",
                        evidence=f"wheel {wheel.path.name}",
                    )
                continue
            if result[0] != entry.sha256:
                yield new(
                    rule_id="WS-INT-009",
                    severity=Severity.CRITICAL,
                    message="Installed file differs from the locked wheel (whatever the "
                    "installed RECORD says).",
                    evidence=f"wheel {wheel.path.name} sha256={entry.sha256}; "
                    f"file sha256={result[0]}",
                    fix=f"reinstall {dist.name}=={dist.version} from a trusted source",
                )
        metadata_prefix = str(dist.metadata_dir) + os.sep
        for path in paths:
            if path in expected or path.endswith(_HASHLESS_OK):
                continue
            if (
                path.startswith(metadata_prefix)
                and path[len(metadata_prefix) :] in _TOLERATED_METADATA
            ):
                continue
            if not path.startswith(site + os.sep):
                continue  # scripts: pip rewrites their shebang, so they never match the wheel
            code = _is_code(path, None)
            yield Finding(
                rule_id="WS-INT-009",
                severity=Severity.CRITICAL if code else Severity.HIGH,
                package=dist.name,
                version=dist.version,
                path=path,
                message="The installed RECORD lists a file the locked wheel does not contain.",
                evidence=f"wheel {wheel.path.name}",
            )

    def _fetch_locked_wheels(self, have: list[_Artifact]) -> list[_Artifact]:
        """Download the locked wheels of installed distributions that are not at hand.

        Only the wheel whose tags match the installed WHEEL file, only from the URL the
        lock names or the lock's index (simple API, JSON), and only kept when its bytes
        match the lock's sha256. Kept under the cache directory, keyed by that sha256.
        """
        if not self.options.online:
            return []
        have_names = {a.path.name for a in have}
        locked: dict[str, list[LockedPackage]] = defaultdict(list)
        for pkg in self.inventory.locked_packages:
            locked[canonical(pkg.name)].append(pkg)
        indexes = {lf.path: lf.indexes for lf in self.inventory.lockfiles}
        store = (self.options.cache_dir or default_cache_dir()) / "wheels"
        fetched: list[_Artifact] = []
        with new_session() as session:
            for state in self.env_states:
                for dist, _paths in state.record_paths:
                    tags = _installed_tags(dist)
                    for pkg in locked.get(dist.name, ()):
                        if pkg.kind is not PinKind.PINNED or not _version_matches(
                            pkg, dist.version
                        ):
                            continue
                        index = pkg.index or next(
                            iter(indexes.get(pkg.lockfile, ())), PYPI_SIMPLE_URL
                        )
                        for filename, url, sha in _locked_wheel_sources(session, pkg, index):
                            if filename in have_names or (
                                tags and not tags & _wheel_tags(filename)
                            ):
                                continue
                            art = self._download(session, pkg, url, filename, sha, store)
                            if art is not None:
                                fetched.append(art)
                                have_names.add(filename)
        return fetched

    def _download(
        self,
        session: requests.Session,
        pkg: LockedPackage,
        url: str,
        filename: str,
        sha: str,
        store: Path,
    ) -> _Artifact | None:
        name, version, kind = _parse_artifact_name(filename)
        target = store / sha / filename
        if target.is_file():
            digest = hash_files([target], self.cache)[target]
            if not isinstance(digest, OSError) and digest[0] == sha:
                return _Artifact(target, sha, name, version, kind)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        except OSError:
            return None
        digest_obj = hashlib.sha256()
        import requests

        try:
            with (
                os.fdopen(fd, "wb") as fh,
                session.get(url, stream=True, timeout=_DOWNLOAD_TIMEOUT_S) as resp,
            ):
                if resp.status_code != 200:
                    self.findings.append(
                        Finding(
                            rule_id="WS-INT-009",
                            severity=Severity.INFO,
                            package=pkg.name,
                            version=pkg.version,
                            path=str(pkg.lockfile),
                            line=pkg.line,
                            message=f"Locked wheel {filename} could not be fetched "
                            f"(HTTP {resp.status_code}); installed files were compared "
                            "with the installed RECORD only.",
                            evidence=url,
                        )
                    )
                    return None
                size = 0
                for chunk in resp.iter_content(1 << 20):
                    size += len(chunk)
                    if size > _MAX_DOWNLOAD_BYTES:
                        raise ServiceError("download larger than the limit", path=url)
                    digest_obj.update(chunk)
                    fh.write(chunk)
            if digest_obj.hexdigest() != sha:
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-006",
                        severity=Severity.CRITICAL,
                        package=pkg.name,
                        version=pkg.version,
                        path=str(pkg.lockfile),
                        line=pkg.line,
                        message=f"The index served {filename} with bytes that do not match the "
                        "lock's hash.",
                        evidence=f"lock sha256:{sha}; served sha256:{digest_obj.hexdigest()} "
                        f"from {url}",
                    )
                )
                return None
            os.replace(tmp, target)
        except requests.RequestException as err:
            raise ServiceError(
                f"cannot download the locked wheel: {err}",
                path=url,
                hint="run without --online to skip this comparison",
            ) from err
        finally:
            Path(tmp).unlink(missing_ok=True)
        return _Artifact(target, sha, name, version, kind)


def _lock_trusts(pkg: LockedPackage, art: _Artifact) -> bool:
    """True if the lock pins a sha256 equal to this artifact's bytes."""
    for locked in pkg.artifacts:
        if locked.filename is not None and locked.filename != art.path.name:
            continue
        if any(
            h.algorithm.lower() == "sha256" and h.value.lower() == art.sha256 for h in locked.hashes
        ):
            return True
    return False


def _installed_location(wheel_path: str, site: str, prefix: str) -> str | None:
    """Where pip installs a wheel member, or None for members whose bytes it rewrites."""
    top, _, rest = wheel_path.partition("/")
    if not top.endswith(".data"):
        return site + os.sep + wheel_path.replace("/", os.sep)
    scheme, _, inner = rest.partition("/")
    if scheme in ("purelib", "platlib"):
        return site + os.sep + inner.replace("/", os.sep)
    if scheme == "data":
        return os.path.normpath(os.path.join(prefix, inner))
    return None  # scripts get a new shebang; headers go to a version-specific place


def _installed_tags(dist: InstalledDistribution) -> frozenset[Tag]:
    """The wheel tags the installed WHEEL file names (empty if it names none)."""
    try:
        text = (dist.metadata_dir / "WHEEL").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    tags: set[Tag] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "tag":
            tags |= parse_tag(value.strip())
    return frozenset(tags)


def _wheel_tags(filename: str) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(filename)[3]
    except (InvalidWheelFilename, InvalidVersion):
        return frozenset()


def _locked_wheel_sources(
    session: requests.Session, pkg: LockedPackage, index: str
) -> list[tuple[str, str, str]]:
    """(file name, URL, sha256) of the wheels the lock allows for `pkg`."""
    pinned = {h.value.lower() for h in pkg.hashes if h.algorithm.lower() == "sha256"}
    out = [
        (a.filename, a.url, h.value.lower())
        for a in pkg.artifacts
        if a.filename and a.filename.endswith(".whl") and a.url
        for h in a.hashes
        if h.algorithm.lower() == "sha256"
    ]
    if out or not pinned:
        return out
    # The lock names no URL (requirements files): ask the index (PEP 691 JSON).
    import requests

    page = index.rstrip("/") + f"/{pkg.name}/"
    try:
        resp = session.get(
            page,
            timeout=_DOWNLOAD_TIMEOUT_S,
            headers={"Accept": "application/vnd.pypi.simple.v1+json"},
        )
        resp.raise_for_status()
        files = resp.json().get("files", [])
    except (requests.RequestException, ValueError, AttributeError) as err:
        raise ServiceError(
            f"cannot read the index page: {err}",
            path=page,
            hint="run without --online to skip this comparison",
        ) from err
    for entry in files if isinstance(files, list) else ():
        if not isinstance(entry, dict):
            continue
        filename, url = entry.get("filename"), entry.get("url")
        sha = (entry.get("hashes") or {}).get("sha256")
        if (
            isinstance(filename, str)
            and filename.endswith(".whl")
            and "/" not in filename
            and isinstance(url, str)
            and isinstance(sha, str)
            and sha.lower() in pinned
        ):
            out.append((filename, urljoin(page, url), sha.lower()))
    return out


def _pick_installed_wheel(
    candidates: list[_Artifact],
    dist: InstalledDistribution,
    paths: dict[str, RecordEntry],
    hashes: dict[str, FileHash | OSError],
) -> _Artifact | None:
    """The trusted wheel that was installed: the one whose WHEEL file is byte-identical."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    wheel_file = str(dist.metadata_dir / "WHEEL")
    installed = hashes.get(wheel_file)
    if installed is None or isinstance(installed, OSError):
        return None
    for art in candidates:
        with SafeArchive(art.path) as archive:
            name = f"{dist.metadata_dir.name}/WHEEL"
            if name in archive and hashlib.sha256(archive.read(name)).hexdigest() == installed[0]:
                return art
    return None
