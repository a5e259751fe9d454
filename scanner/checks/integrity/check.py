"""Integrity: is every installed file, wheel and locked artifact the thing it claims to be?

Rule ids (stable; ignores name them):

- WS-INT-001 (critical) an installed file's sha256 or size differs from its RECORD.
- WS-INT-002 a file inside a distribution's own directories that no RECORD lists
  (injected): critical for code (`.py .pyc .pyw .pth .so .pyd .dylib .dll`, any
  executable, any symbolic link), critical for an unlisted `entry_points.txt` in a
  `.dist-info` (plugins load it), high for anything else. Bytecode in
  `__pycache__` is tolerated while its source exists next to it (Python writes it
  at import time and never lists it); orphaned bytecode there is low (Python never
  loads it without its source). `INSTALLER`, `REQUESTED` and `direct_url.json` in a
  `.dist-info` are tolerated (installers other than pip add them unlisted).
- WS-INT-003 RECORD missing or unparsable (high; medium for an `.egg-info` that lists
  no files, which cannot be verified at all), a RECORD entry that points outside
  the environment's prefix (critical), hashless entries for files that should
  have a hash (low).
- WS-INT-004 a top-level entry of site-packages that belongs to no distribution:
  medium for `.pth`, `sitecustomize.py`, `usercustomize.py`; low otherwise. Whether
  a `.pth` executes code is the rules' judgement, not this check's.
- WS-INT-005 a wheel's members vs its own RECORD: a member whose hash or size
  differs (critical), a member RECORD does not list (critical for code, high
  otherwise), no or an unparsable RECORD (high), a listed member that is absent
  (medium), a link or device member (high).
- WS-INT-006 (critical) an artifact's bytes differ from the hashes a lock pins for it
  (artifacts from `--wheelhouse` directories, next to the lock file, or given as
  targets, matched by file name).
- WS-INT-007 (high) an installed distribution that no lock pins at the installed
  version (low for the bootstrap tools pip, setuptools, wheel).
- WS-INT-008 (medium) a locked package whose markers apply to the environment but
  that is not installed.
- WS-INT-009 installed files vs the RECORD inside the locked wheel, used only once
  that wheel's bytes match the lock's hash: a file whose hash differs (critical),
  a file the installed RECORD lists that the wheel does not contain (critical for
  code, high otherwise), a file of the wheel that is not installed (medium); info
  when the locked wheel could not be fetched. This catches an attacker who edits a
  file and rewrites the installed RECORD. The wheel comes from the artifacts at
  hand (targets, `--wheelhouse`, next to the lock) or, only with `online`, from the
  URL the lock names or the lock's index (PEP 691 JSON), kept under the cache
  directory by sha256. Scripts (`.data/scripts`, shebang rewritten by pip) and
  headers are not compared.
- WS-INT-010 (medium) a file RECORD lists is missing.
- WS-INT-011 (high) a file or directory that cannot be verified: unreadable, a
  symbolic link where RECORD lists a file, not a regular file, a directory that
  cannot be listed.
- WS-INT-012 an sdist member that is a link or device (high; critical for a link
  pointing outside the archive), two sdist members whose names differ only in case
  or Unicode form (medium; for wheels the same is WS-INT-005, medium).

Directories a distribution without a RECORD claims (egg-info `top_level.txt`) are
not searched for injected files, even when they are shared with other
distributions (namespace packages): their files cannot be told from injected ones.

Compiled bytecode is never verified against its source: a crafted `.pyc` with a
header matching its source would be loaded by Python instead of the source.
`PYTHONDONTWRITEBYTECODE` / `python -B` plus removing `__pycache__` closes that gap.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import stat
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from packaging.markers import InvalidMarker, Marker, default_environment
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from scanner import __version__
from scanner.checks.interface import FILES_HASHED, CheckContext, CheckResult
from scanner.errors import ServiceError
from scanner.infra.archive import Member, SafeArchive
from scanner.infra.hash_cache import HashCache, default_cache_dir, open_cache
from scanner.infra.hashing import FileHash, hash_files
from scanner.models import (
    Environment,
    Finding,
    InstalledDistribution,
    Inventory,
    LockedPackage,
    PinKind,
    RecordEntry,
    Severity,
    canonical,
)
from scanner.options import ScanOptions
from scanner.sources.environment import environment_prefix, parse_record

if TYPE_CHECKING:
    import requests  # imported where used: only online runs pay for it

CODE_SUFFIXES = frozenset({".py", ".pyc", ".pyo", ".pyw", ".pth", ".so", ".pyd", ".dylib", ".dll"})
STARTUP_FILES = frozenset({"sitecustomize.py", "usercustomize.py"})
BOOTSTRAP_PACKAGES = frozenset({"pip", "setuptools", "wheel", "distribute"})
ARTIFACT_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")
_TOLERATED_METADATA = frozenset(
    {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD", "RECORD.jws", "RECORD.p7s"}
)
_HASHLESS_OK = (".pyc", ".pyo", "/RECORD", "/RECORD.jws", "/RECORD.p7s")
_MAX_EXAMPLES = 5
USER_AGENT = f"wormsign/{__version__}"
_DOWNLOAD_TIMEOUT_S = 60.0
_MAX_DOWNLOAD_BYTES = 8 << 30
PYPI = "https://pypi.org/simple"
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True, slots=True)
class IntegrityResult:
    """The integrity check's findings and how many files it verified by hash."""

    findings: tuple[Finding, ...]
    files_hashed: int


def check_integrity(inventory: Inventory, context: CheckContext) -> CheckResult:
    """The integrity check: its findings, and how many installed files RECORD lets it
    verify (`count_hashable`, the report's `files_hashed`)."""
    findings = run_integrity(inventory, context.options).findings
    return CheckResult(findings=findings, counters=((FILES_HASHED, count_hashable(inventory)),))


def run_integrity(inventory: Inventory, options: ScanOptions) -> IntegrityResult:
    """Run every integrity rule over the inventory."""
    cache = open_cache(options)
    try:
        run = _Run(inventory, options, cache)
        run.execute()
        return IntegrityResult(findings=tuple(run.findings), files_hashed=run.files_hashed)
    finally:
        if cache is not None:
            cache.close()


@dataclass
class _EnvState:
    """What one environment's pass learned, for the lock comparisons after it."""

    env: Environment
    hashes: dict[str, FileHash | OSError]
    record_paths: list[tuple[InstalledDistribution, dict[str, RecordEntry]]]
    """Each distribution with a RECORD and its entries by absolute path (a list: hashing a
    distribution would hash its whole RECORD)."""


@dataclass(frozen=True, slots=True)
class _Artifact:
    """A distribution file at hand with the sha256 of its bytes."""

    path: Path
    sha256: str
    name: str | None
    version: str | None
    kind: str


@dataclass
class _Run:
    inventory: Inventory
    options: ScanOptions
    cache: HashCache | None
    findings: list[Finding] = field(default_factory=list)
    files_hashed: int = 0
    env_states: list[_EnvState] = field(default_factory=list)

    def execute(self) -> None:
        for env in self.inventory.environments:
            self.env_states.append(self._check_environment(env))
        for dist_file in self.inventory.distribution_files:
            if dist_file.kind == "wheel":
                self.findings.extend(check_wheel_record(dist_file.path))
            else:
                self.findings.extend(check_sdist_members(dist_file.path))
        if self.inventory.lockfiles:
            artifacts = self._artifacts_at_hand()
            self._check_lock_hashes(artifacts)
            if self.inventory.environments:
                self._check_env_vs_lock()
                artifacts += self._fetch_locked_wheels(artifacts)
                self._check_env_vs_locked_wheels(artifacts)

    # -- one environment: RECORD hashes, injected files, loose files -----------------

    def _check_environment(self, env: Environment) -> _EnvState:
        site = str(env.site_packages)
        prefix = os.path.normpath(str(environment_prefix(env.site_packages)))
        record_paths: list[tuple[InstalledDistribution, dict[str, RecordEntry]]] = []
        owned: set[str] = set()
        walk_roots: set[str] = set()
        unwalkable: set[str] = set()
        wanted: dict[str, tuple[InstalledDistribution, RecordEntry]] = {}
        shared: list[tuple[str, InstalledDistribution, RecordEntry]] = []
        for dist in env.distributions:
            if dist.record is None:
                self.findings.append(_record_problem(dist))
                unwalkable.update(dist.top_level)
                continue
            paths = self._resolve_record(dist, site, prefix)
            record_paths.append((dist, paths))
            owned.update(paths)
            hashless: list[str] = []
            for path, entry in paths.items():
                if entry.sha256 is None and entry.size is None:
                    if dist.metadata_kind == "dist-info" and not entry.path.endswith(_HASHLESS_OK):
                        hashless.append(entry.path)
                elif path in wanted:
                    shared.append((path, dist, entry))  # two RECORDs list one file
                else:
                    wanted[path] = (dist, entry)
            if hashless:
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-003",
                        severity=Severity.LOW,
                        package=dist.name,
                        version=dist.version,
                        path=str(dist.metadata_dir / "RECORD"),
                        message=f"RECORD lists {len(hashless)} file(s) without a hash; "
                        "their contents cannot be verified.",
                        evidence=", ".join(hashless[:_MAX_EXAMPLES]),
                    )
                )
            if dist.metadata_kind == "dist-info":
                walk_roots.add(str(dist.metadata_dir))
            for top in dist.top_level:
                walk_roots.add(site + os.sep + top)
        walk_roots = {r for r in walk_roots if r.rpartition(os.sep)[2] not in unwalkable}
        hashes = hash_files(wanted, self.cache)
        self.files_hashed += sum(1 for r in hashes.values() if not isinstance(r, OSError))
        judge = self._judge_hash
        for path, (dist, entry) in wanted.items():
            result = hashes[path]
            # The common case stays in this loop: a tuple whose digest and size agree.
            if (
                type(result) is tuple
                and result[0] == entry.sha256
                and (entry.size is None or result[1] == entry.size)
            ):
                continue
            judge(dist, entry, path, result)
        for path, dist, entry in shared:
            judge(dist, entry, path, hashes[path])
        self._find_injected(site, walk_roots, owned)
        self._report_loose(env)
        return _EnvState(env=env, hashes=hashes, record_paths=record_paths)

    def _resolve_record(
        self, dist: InstalledDistribution, site: str, prefix: str
    ) -> dict[str, RecordEntry]:
        """Absolute path -> entry for every RECORD entry inside the prefix; report the rest."""
        out: dict[str, RecordEntry] = {}
        assert dist.record is not None
        for entry in dist.record:
            rel = entry.path
            if (
                os.sep == "/"
                and not rel.startswith(("/", "."))
                and "/." not in rel
                and "\\" not in rel
                and "//" not in rel
            ):
                out[site + "/" + rel] = entry  # the common case, without normpath's cost
                continue
            path = os.path.normpath(os.path.join(site, rel.replace("\\", "/")))
            if path != prefix and not path.startswith(prefix + os.sep):
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-003",
                        severity=Severity.CRITICAL,
                        package=dist.name,
                        version=dist.version,
                        path=str(dist.metadata_dir / "RECORD"),
                        message=f"RECORD entry {rel!r} points outside the environment ({prefix}).",
                        evidence=path,
                    )
                )
                continue
            out[path] = entry
        return out

    def _judge_hash(
        self, dist: InstalledDistribution, entry: RecordEntry, path: str, result: FileHash | OSError
    ) -> None:
        new = partial(Finding, package=dist.name, version=dist.version, path=path)
        if isinstance(result, OSError):
            if result.errno in (errno.ENOENT, errno.ENOTDIR):
                self.findings.append(
                    new(
                        rule_id="WS-INT-010",
                        severity=Severity.MEDIUM,
                        message="A file the distribution's RECORD lists is missing.",
                    )
                )
            else:
                self.findings.append(
                    new(
                        rule_id="WS-INT-011",
                        severity=Severity.HIGH,
                        message=f"Installed file cannot be verified: {result.strerror or result}.",
                    )
                )
            return
        digest, size = result
        if (entry.sha256 is not None and digest != entry.sha256) or (
            entry.size is not None and size != entry.size
        ):
            self.findings.append(
                new(
                    rule_id="WS-INT-001",
                    severity=Severity.CRITICAL,
                    message="Installed file differs from the hash in its distribution's RECORD.",
                    evidence=f"RECORD sha256={entry.sha256} size={entry.size}; "
                    f"file sha256={digest} size={size}",
                    fix=f"reinstall {dist.name}=={dist.version} from a trusted source",
                )
            )

    def _find_injected(self, site: str, roots: set[str], owned: set[str]) -> None:
        """Report files in the distributions' directories that no RECORD lists.

        Works per directory with set differences (one listdir each) instead of per
        file: only the few unknown names cost Python time.
        """
        known: dict[str, set[str]] = defaultdict(set)  # directory -> names RECORDs own
        for path in owned:
            directory, _, name = path.rpartition(os.sep)
            known[directory].add(name)
        subdirs: dict[str, list[str]] = defaultdict(list)
        for directory in list(known):
            # Register each directory with its parent, up to the walk roots, so that
            # directories holding only directories are known and descended too.
            while directory not in roots:
                parent, _, name = directory.rpartition(os.sep)
                if not parent.startswith(site) or name in known[parent]:
                    break
                known[parent].add(name)
                subdirs[parent].append(directory)
                directory = parent
        stack = sorted(roots)
        seen: set[str] = set()
        while stack:
            directory = stack.pop()
            if directory in seen:
                continue
            seen.add(directory)
            names = self._list_directory(directory)
            if names is None:
                continue
            in_metadata = directory.endswith(".dist-info")
            for name in sorted(set(names) - known.get(directory, set())):
                self._judge_unknown(directory, name, names, in_metadata)
            stack.extend(subdirs.get(directory, ()))

    def _list_directory(self, directory: str) -> list[str] | None:
        """Names in a directory, never through a symbolic link; None (reported) on failure."""
        try:
            fd = os.open(directory, _DIR_FLAGS)
        except FileNotFoundError:
            return None  # gone (the RECORD comparison reports missing files)
        except OSError as err:
            # O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR on Linux, ELOOP elsewhere
            st = _lstat_or_none(directory)
            if st is not None and not stat.S_ISLNK(st.st_mode) and not stat.S_ISDIR(st.st_mode):
                return None  # a top-level module file: nothing to list
            if st is not None and stat.S_ISLNK(st.st_mode):
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-002",
                        severity=Severity.CRITICAL,
                        path=directory,
                        evidence=f"symbolic link to {_readlink(directory)}",
                        message="A distribution's directory is a symbolic link (its files may "
                        "live anywhere).",
                    )
                )
            else:
                self.findings.append(
                    Finding(
                        rule_id="WS-INT-011",
                        severity=Severity.HIGH,
                        path=directory,
                        message=f"Directory cannot be listed: {err.strerror or err}; files in it "
                        "cannot be checked.",
                    )
                )
            return None
        try:
            return os.listdir(fd)
        except OSError as err:
            self.findings.append(
                Finding(
                    rule_id="WS-INT-011",
                    severity=Severity.HIGH,
                    path=directory,
                    message=f"Directory cannot be listed: {err.strerror or err}.",
                )
            )
            return None
        finally:
            os.close(fd)

    def _judge_unknown(
        self, directory: str, name: str, siblings: list[str], in_metadata: bool
    ) -> None:
        """Report one name no RECORD lists (`siblings`: everything in `directory`)."""
        path = directory + os.sep + name
        try:
            st = os.lstat(path)
        except OSError:
            return  # gone meanwhile
        if stat.S_ISDIR(st.st_mode):
            if name == "__pycache__":
                for pyc in sorted(self._list_directory(path) or ()):
                    finding = _injected(path + os.sep + pyc, None, siblings, in_metadata)
                    if finding is not None:
                        self.findings.append(finding)
                return
            self.findings.append(_injected_directory(path))
            return
        in_pycache = directory.endswith(os.sep + "__pycache__")
        finding = _injected(path, st, None if in_pycache else siblings, in_metadata)
        if finding is not None:
            self.findings.append(finding)

    def _report_loose(self, env: Environment) -> None:
        for path in env.loose_files:
            name = path.name
            if name.endswith(".pth") or name in STARTUP_FILES:
                severity = Severity.MEDIUM
                message = (
                    "Startup file (Python runs it at every start) that belongs to no "
                    "installed distribution."
                )
            else:
                severity = Severity.LOW
                message = "Top-level file or directory that belongs to no installed distribution."
            self.findings.append(
                Finding(rule_id="WS-INT-004", severity=severity, path=str(path), message=message)
            )

    # -- artifacts and locks ---------------------------------------------------------

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
                if name in installed:
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

    # -- locked wheels from the index (only with options.online) ------------------------

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
        import requests

        with requests.Session() as session:
            session.headers["User-Agent"] = USER_AGENT
            for state in self.env_states:
                for dist, _paths in state.record_paths:
                    tags = _installed_tags(dist)
                    for pkg in locked.get(dist.name, ()):
                        if pkg.kind is not PinKind.PINNED or not _version_matches(
                            pkg, dist.version
                        ):
                            continue
                        index = pkg.index or next(iter(indexes.get(pkg.lockfile, ())), PYPI)
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


# -- helpers ---------------------------------------------------------------------------


def _record_problem(dist: InstalledDistribution) -> Finding:
    egg = dist.metadata_kind == "egg-info"
    return Finding(
        rule_id="WS-INT-003",
        severity=Severity.MEDIUM if egg else Severity.HIGH,
        package=dist.name,
        version=dist.version,
        path=str(dist.metadata_dir),
        message=(dist.record_error or "RECORD is missing") + "; installed files are not verified.",
        fix=f"reinstall {dist.name}=={dist.version} with pip",
    )


def _is_code(path: str, mode: int | None) -> bool:
    suffix = os.path.splitext(path)[1].lower()
    return suffix in CODE_SUFFIXES or (mode is not None and bool(mode & 0o111))


def _injected(
    path: str, st: os.stat_result | None, source_names: list[str] | None, in_metadata: bool
) -> Finding | None:
    """A finding for one unlisted file, or None where it is tolerated.

    `source_names` lists the directory above a `__pycache__` (None: look on disk).
    """
    directory, _, name = path.rpartition(os.sep)
    if directory.endswith(os.sep + "__pycache__"):
        if name.endswith((".pyc", ".pyo")):
            # `mod.cpython-311.pyc` belongs to `mod.py` in the parent directory
            source = name.split(".", 1)[0] + ".py"
            if (
                source in source_names
                if source_names is not None
                else os.path.exists(os.path.join(os.path.dirname(directory), source))
            ):
                return None
            return Finding(
                rule_id="WS-INT-002",
                severity=Severity.LOW,
                path=path,
                message="Orphaned bytecode (its source is gone; Python does not load it).",
            )
        st = _lstat_or_none(path)
    if in_metadata and name in _TOLERATED_METADATA:
        return None
    link = st is not None and stat.S_ISLNK(st.st_mode)
    code = (
        name == "entry_points.txt"
        if in_metadata
        else (link or _is_code(name, st.st_mode if st is not None else None))
    )
    return Finding(
        rule_id="WS-INT-002",
        severity=Severity.CRITICAL if code else Severity.HIGH,
        path=path,
        evidence=f"symbolic link to {_readlink(path)}" if link else None,
        message="File inside a distribution's directory that no RECORD lists (injected?).",
    )


def _injected_directory(path: str) -> Finding:
    """One finding for a whole directory no RECORD knows, with what is inside it."""
    files: list[str] = []
    code = False
    for root, dirs, names in os.walk(path, followlinks=False):
        dirs.sort()
        for name in names:
            files.append(os.path.join(root, name))
            code = code or _is_code(name, None)
        if len(files) > 10_000:
            break
    shown = ", ".join(os.path.relpath(f, path) for f in files[:_MAX_EXAMPLES])
    return Finding(
        rule_id="WS-INT-002",
        severity=Severity.CRITICAL if code else Severity.HIGH,
        path=path,
        evidence=f"{len(files)} file(s): {shown}" if files else "empty",
        message="Directory inside a distribution's directory that no RECORD lists (injected?).",
    )


def _lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


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


def _parse_artifact_name(filename: str) -> tuple[str | None, str | None, str]:
    if filename.endswith(".whl"):
        try:
            name, version, _build, _tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return None, None, "wheel"
        return str(name), str(version), "wheel"
    try:
        sname, sversion = parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidVersion):
        return None, None, "sdist"
    return str(sname), str(sversion), "sdist"


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


def _wheel_record_name(members: Iterable[Member], metadata_dir: str | None) -> str | None:
    records = [
        m.name
        for m in members
        if m.kind == "file" and m.name.count("/") == 1 and m.name.endswith(".dist-info/RECORD")
    ]
    if metadata_dir is not None and f"{metadata_dir}/RECORD" in records:
        return f"{metadata_dir}/RECORD"
    return records[0] if len(records) == 1 else None


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


# -- a wheel against its own RECORD ------------------------------------------------------


def check_wheel_record(wheel: Path) -> Iterator[Finding]:
    """WS-INT-005: every member of a wheel against the RECORD inside it."""
    name, version, _kind = _parse_artifact_name(wheel.name)
    new = partial(Finding, package=name, version=version)
    with SafeArchive(wheel) as archive:
        members = archive.members()
        yield from _collision_findings(archive, wheel, "WS-INT-005", new)
        expected_dir = None
        if name and version:
            matching = [
                m.name.split("/", 1)[0]
                for m in members
                if m.name.count("/") == 1
                and m.name.endswith(".dist-info/RECORD")
                and canonical(m.name.split("/", 1)[0].rsplit("-", 1)[0]) == name
            ]
            expected_dir = matching[0] if len(matching) == 1 else None
        record_name = _wheel_record_name(members, expected_dir)
        if record_name is None:
            yield new(
                rule_id="WS-INT-005",
                severity=Severity.HIGH,
                path=str(wheel),
                message="Wheel has no single .dist-info/RECORD; its members cannot be verified.",
            )
            return
        try:
            record = parse_record(archive.read(record_name).decode("utf-8", "replace"))
        except ValueError as err:
            yield new(
                rule_id="WS-INT-005",
                severity=Severity.HIGH,
                path=f"{wheel}!{record_name}",
                message=f"Wheel RECORD is malformed: {err}.",
            )
            return
        listed = {posixpath.normpath(e.path): e for e in record}
        signature_files = {record_name, record_name + ".jws", record_name + ".p7s"}
        for member in members:
            where = f"{wheel}!{member.name}"
            if member.kind == "dir":
                continue
            if member.kind != "file":
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.HIGH,
                    path=where,
                    message=f"Wheel member is a {member.kind}, which pip would not "
                    "install as listed.",
                )
                continue
            if member.name in signature_files:
                continue
            entry = listed.get(member.name)
            if entry is None:
                code = _is_code(member.name, None)
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.CRITICAL if code else Severity.HIGH,
                    path=where,
                    message="Wheel member is not listed in the wheel's RECORD.",
                )
                continue
            digest = hashlib.sha256()
            size = 0
            for chunk in archive.iter_chunks(member.name):
                digest.update(chunk)
                size += len(chunk)
            if (entry.sha256 is not None and digest.hexdigest() != entry.sha256) or (
                entry.size is not None and entry.size != size
            ):
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.CRITICAL,
                    path=where,
                    message="Wheel member differs from the hash in the wheel's RECORD.",
                    evidence=f"RECORD sha256={entry.sha256} size={entry.size}; "
                    f"member sha256={digest.hexdigest()} size={size}",
                )
        present = {m.name for m in members}
        for path in listed:
            if path not in present and path not in signature_files:
                yield new(
                    rule_id="WS-INT-005",
                    severity=Severity.MEDIUM,
                    path=f"{wheel}!{path}",
                    message="RECORD lists a member the wheel does not contain.",
                )


# -- an sdist's members -----------------------------------------------------------------


def check_sdist_members(sdist: Path) -> Iterator[Finding]:
    """WS-INT-012: links, devices and colliding names inside an sdist.

    Nothing in a source tree needs a device node, and a link that points outside the
    tree (absolute, or up through `..`) reaches into the machine that builds it.
    """
    name, version, _kind = _parse_artifact_name(sdist.name)
    new = partial(Finding, package=name, version=version)
    with SafeArchive(sdist) as archive:
        yield from _collision_findings(archive, sdist, "WS-INT-012", new)
        for member in archive.members():
            if member.kind in ("file", "dir"):
                continue
            where = f"{sdist}!{member.name}"
            target = member.link_target or ""
            base = posixpath.dirname(member.name) if member.kind == "symlink" else ""
            escapes = target.startswith("/") or posixpath.normpath(
                posixpath.join(base, target)
            ).startswith("..")
            what = (
                "a device or special file"
                if member.kind == "other"
                else (
                    f"a {member.kind} to {target!r}" + (", outside the archive" if escapes else "")
                )
            )
            yield new(
                rule_id="WS-INT-012",
                severity=Severity.CRITICAL if escapes else Severity.HIGH,
                path=where,
                message=f"Sdist member is {what}.",
            )


def _collision_findings(
    archive: SafeArchive, path: Path, rule_id: str, new: partial[Finding]
) -> Iterator[Finding]:
    for first, second in archive.name_collisions[:_MAX_EXAMPLES]:
        yield new(
            rule_id=rule_id,
            severity=Severity.MEDIUM,
            path=f"{path}!{second}",
            message="Two members differ only in case or Unicode form; on macOS and "
            "Windows one overwrites the other when installed.",
            evidence=f"{first!r} and {second!r}",
        )


def count_hashable(inventory: Inventory) -> int:
    """How many installed files RECORD gives a hash or size for (an upper bound of the work)."""
    return sum(
        1
        for dist in inventory.installed
        for e in dist.record or ()
        if e.sha256 is not None or e.size is not None
    )


__all__ = [
    "IntegrityResult",
    "check_integrity",
    "check_sdist_members",
    "check_wheel_record",
    "count_hashable",
    "run_integrity",
]
