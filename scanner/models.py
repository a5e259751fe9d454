"""The data that flows through the pipeline: frozen dataclasses, nothing else.

targets -> sources -> Inventory -> checks -> Finding -> policy -> Report -> reporters
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from packaging.utils import canonicalize_name


class Severity(enum.IntEnum):
    """How bad a finding is; the gate fails at or above `--fail-on`."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a lower- or upper-case severity name; raises ValueError."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None

    @property
    def label(self) -> str:
        """The lower-case name used in reports and config."""
        return self.name.lower()


def canonical(name: str) -> str:
    """PEP 503 normalised name."""
    return str(canonicalize_name(name))


@dataclass(frozen=True, slots=True)
class Hash:
    """A digest a lock file pins or a RECORD lists; `value` is lower-case hex."""

    algorithm: str
    value: str


@enum.unique
class PinKind(str, enum.Enum):
    """How a lock entry names what to install. Only PINNED can be verified by hash."""

    PINNED = "pinned"  # name==version from an index
    UNPINNED = "unpinned"  # a range or a bare name
    EDITABLE = "editable"
    URL = "url"
    PATH = "path"
    GIT = "git"
    DIRECTORY = "directory"
    VIRTUAL = "virtual"  # a workspace / project root that is not installed from an index


@dataclass(frozen=True, slots=True)
class LockedArtifact:
    """One file a lock entry allows: a wheel or sdist, with the hashes it must match."""

    filename: str | None
    url: str | None = None
    hashes: tuple[Hash, ...] = ()
    size: int | None = None
    upload_time: datetime | None = None
    """When the index received the file (uv.lock, pylock.toml `upload-time`), UTC."""


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One package entry of a lock file."""

    name: str
    """PEP 503 canonical name."""
    version: str | None
    """The pinned version as written (local labels kept: `2.4.0+cu121`), None if unpinned."""
    kind: PinKind
    lockfile: Path
    line: int | None = None
    """1-based line in the lock file where the entry starts, where known."""
    index: str | None = None
    """The index URL the lock takes this package from, where the lock says."""
    markers: str | None = None
    extras: tuple[str, ...] = ()
    artifacts: tuple[LockedArtifact, ...] = ()
    source_url: str | None = None
    """For url / git / path / directory entries: where it points."""
    groups: tuple[str, ...] = ()
    requirement: str | None = None
    """The original requirement text for entries that are not plain pins."""
    dependencies: tuple[str, ...] = ()
    """Canonical names this entry depends on, where the lock records its edges (uv,
    poetry, pdm, pylock)."""

    @property
    def hashes(self) -> tuple[Hash, ...]:
        """Every hash pinned for any artifact of this package."""
        return tuple(h for a in self.artifacts for h in a.hashes)


@dataclass(frozen=True, slots=True)
class Lockfile:
    """A parsed lock or requirements file."""

    path: Path
    format: str
    """requirements | poetry | uv | pipfile | pylock | pdm | conda-lock"""
    packages: tuple[LockedPackage, ...]
    indexes: tuple[str, ...] = ()
    """Index URLs in the order the file gives them; the first is the primary one."""
    find_links: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    """Other resolver settings worth judging (`index-strategy`, `--trusted-host` ...)."""
    includes: tuple[Path, ...] = ()
    """Files pulled in with -r / -c."""


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """One row of a RECORD file."""

    path: str
    """As written in RECORD: relative to site-packages (may start with ../ for scripts)."""
    sha256: str | None
    """Lower-case hex, None where RECORD leaves it empty (RECORD itself, .pyc)."""
    size: int | None


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """One entry of entry_points.txt."""

    group: str
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class InstalledDistribution:
    """A `*.dist-info` or `*.egg-info` directory in an environment."""

    name: str
    """PEP 503 canonical name."""
    version: str
    metadata_dir: Path
    site_packages: Path
    metadata_kind: str
    """dist-info | egg-info"""
    record: tuple[RecordEntry, ...] | None
    """None where RECORD is missing or unparsable (see record_error)."""
    record_error: str | None = None
    entry_points: tuple[EntryPoint, ...] = ()
    installer: str | None = None
    direct_url: str | None = None
    """Raw JSON of direct_url.json, where present."""
    top_level: tuple[str, ...] = ()
    """Top-level names (packages, modules, .pth files) the distribution owns."""
    summary: str | None = None
    requires: tuple[str, ...] = ()
    """Canonical names of its Requires-Dist entries (every extra and marker included)."""
    project_urls: tuple[str, ...] = ()
    """Home-page, Download-URL and Project-URL values, as written."""
    people: tuple[str, ...] = ()
    """Author, Author-email, Maintainer, Maintainer-email values, as written."""


@dataclass(frozen=True, slots=True)
class Environment:
    """An installed environment: one site-packages directory and what lives in it."""

    site_packages: Path
    distributions: tuple[InstalledDistribution, ...]
    loose_files: tuple[Path, ...] = ()
    """Top-level files and directories that belong to no distribution."""
    python: Path | None = None
    """The interpreter this environment belongs to, where known."""
    python_version: str | None = None
    site_dir: bool = True
    """False for a directory on sys.path that `site` does not process (a PYTHONPATH entry,
    a `.pth` path line, an egg-link): only its distributions and startup modules are read,
    and a locked package missing from it is not missing from the environment."""


@dataclass(frozen=True, slots=True)
class DistributionFile:
    """A wheel or sdist on disk (alone, in a wheelhouse, next to a lock)."""

    path: Path
    kind: str
    """wheel | sdist"""
    name: str | None
    version: str | None
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A model file (checkpoint, pickle, safetensors ...) found in the targets."""

    path: Path
    size: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something that was seen but could not be verified. Always reported."""

    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything the sources found, in one place. Checks read only this."""

    targets: tuple[str, ...] = ()
    lockfiles: tuple[Lockfile, ...] = ()
    environments: tuple[Environment, ...] = ()
    distribution_files: tuple[DistributionFile, ...] = ()
    model_files: tuple[ModelFile, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    errors: tuple[Skipped, ...] = ()
    """Files of a project walk that could not be read or parsed (a requirements file
    whose `-r` names nothing): the rest was scanned, the scan is incomplete."""

    @property
    def locked_packages(self) -> tuple[LockedPackage, ...]:
        """Every package entry of every lock file."""
        return tuple(p for lf in self.lockfiles for p in lf.packages)

    @property
    def installed(self) -> tuple[InstalledDistribution, ...]:
        """Every installed distribution of every environment."""
        return tuple(d for env in self.environments for d in env.distributions)

    def merge(self, other: Inventory) -> Inventory:
        """The union of two inventories (sources are combined this way)."""
        return Inventory(
            targets=self.targets + other.targets,
            lockfiles=self.lockfiles + other.lockfiles,
            environments=self.environments + other.environments,
            distribution_files=self.distribution_files + other.distribution_files,
            model_files=self.model_files + other.model_files,
            skipped=self.skipped + other.skipped,
            errors=self.errors + other.errors,
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement a check made. `rule_id` is stable; ignores name it."""

    rule_id: str
    severity: Severity
    message: str
    """One sentence."""
    package: str | None = None
    version: str | None = None
    path: str | None = None
    line: int | None = None
    evidence: str | None = None
    """What was seen: matched text, the two hashes, the pickle global ..."""
    references: tuple[str, ...] = ()
    """Advisory ids (first is the primary id) and URLs."""
    fix: str | None = None
    """What to do, for humans (prose)."""
    aliases: tuple[str, ...] = field(default=())
    """Other ids the same finding is known by (CVE / GHSA for a PYSEC record)."""
    fix_version: str | None = None
    """For an advisory finding: the smallest version of `package` that clears every
    advisory known for it (the JSON report's `fix`, what `wormsign fix` pins); None when
    no known release does, or the finding is not about a version."""

    def sort_key(self) -> tuple[int, str, str, int, str]:
        """Most severe first, then by place."""
        return (
            -int(self.severity),
            self.path or "",
            self.package or "",
            self.line or 0,
            self.rule_id,
        )


ADVISORY_RULES = frozenset({"WS-ADV-VULN", "WS-ADV-MAL"})
"""The findings that are a published advisory (one finding per advisory id and place):
the CycloneDX vulnerabilities, what `wormsign fix` upgrades, never capped by the gate."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """A finding the project's policy set aside, and why: the `[[ignore]]` or `[[allow]]`
    entry that matched it (reporters show it as suppressed, never as a finding)."""

    finding: Finding
    reason: str
    """The entry's own `reason`."""
    entry: str
    """Which entry: `ignore #2 (rule=WS-TYPO-001) in /x/wormsign.toml`."""


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of a scan, after policy. Reporters render only this."""

    targets: tuple[str, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    fail_on: Severity
    packages: int
    files_hashed: int
    notes: tuple[str, ...] = ()
    """Warnings for humans: expired or stale ignores, an old database ..."""
    suppressed: tuple[Suppression, ...] = ()
    """Findings the config's ignores and allows set aside; they never block."""
    verdicts: int = 0
    """Contents judged by content verdict (distributions, archives)."""
    verdicts_reused: int = 0
    """Of those, the verdicts taken from the verdict store (not judged again)."""
    inventory: Inventory = field(default_factory=Inventory)
    """What was scanned (the SBOM lists it; `wormsign fix` edits its lock files)."""
    errors: tuple[Skipped, ...] = ()
    """Inputs that could not be read or parsed while the rest was scanned: the scan is
    incomplete (exit 3) whatever the findings."""

    @property
    def incomplete(self) -> bool:
        """True if some input could not be scanned: never a pass."""
        return bool(self.errors)

    @property
    def blocked(self) -> bool:
        """True if the gate must stop the job."""
        return any(f.severity >= self.fail_on for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity present (lower-case keys)."""
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            out[f.severity.label] += 1
        return out
