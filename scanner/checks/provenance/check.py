"""Provenance: PEP 740 attestations of every artifact at hand, against a publisher policy.

Artifacts judged: every distribution file of the inventory (its bytes are
hashed by the source), and every artifact of a pinned lock entry that has a
sha256 (from the lock, or from the file found in a wheelhouse). Attestations
come from files beside the artifact, from `options.attestations_dir`, and,
when `options.online`, from PyPI's integrity API (see scanner.checks.provenance.attestations).

Findings:
- WS-PROV-001 critical: an attestation that does not verify, or verifies but
  was signed by another publisher than the policy requires.
- WS-PROV-002 high (low where the policy only warns): no attestation for a
  package that must be attested.
- WS-PROV-003 high (online): the release before this one was attested, this
  one is not (the signature of a stolen upload token, as in ultralytics 8.3.41).
- WS-PROV-004 high (online): attested, but by another publisher identity than the last
  attested releases; WS-PROV-005 high: a version far ahead of the one before it;
  WS-PROV-006 medium: a release after more than two years of silence
  (scanner.checks.provenance.drift).
- WS-PROV-OK info: one per verified artifact; `evidence` is the identity
  verified (`github:owner/repo@.github/workflows/release.yml`). The policy
  layer may hide info findings by default.

Policy: `ScanOptions.provenance` (scanner.checks.provenance.settings), parsed once
from the `[tool.wormsign.provenance]` table (keys may use `-` or `_`)::

    [tool.wormsign.provenance]
    default = "warn"               # ignore | warn | require: packages not named below
    require = ["torch", "numpy"]   # must carry a verified attestation
    regression = true              # online: flag releases published otherwise than before
    drift-window = 3               # how many earlier releases they are compared with
    index-url = "https://pypi.org" # integrity API and JSON API base
    refresh-trust-root = false     # online: refresh sigstore's trust root over TUF

    [tool.wormsign.provenance.publishers]
    lightning = { kind = "github", repository = "Lightning-AI/pytorch-lightning",
                  workflow = "release-pypi.yml", environment = "pypi" }
    gl-pkg = { kind = "gitlab", repository = "group/project", workflow = ".gitlab-ci.yml" }
    gcp-pkg = { kind = "google", email = "publisher@project.iam.gserviceaccount.com" }
    moved = [ { kind = "github", repository = "old/repo" },
              { kind = "github", repository = "new/repo" } ]   # any one of them

A package with a publisher must be attested by it (it is required). `workflow`
is optional (any workflow of the repository); `environment` is compared with
PyPI's publisher claim where one came with the attestation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import platformdirs
from packaging.version import InvalidVersion, Version

from scanner.checks.interface import CheckContext, CheckResult
from scanner.checks.provenance.attestations import (
    AttestationDirectory,
    FoundAttestation,
    IntegrityClient,
    Rejected,
    Verified,
    VerifyOutcome,
    files_beside,
    read_attestation_file,
    verify_attestation,
)
from scanner.checks.provenance.drift import (
    Current,
    Place,
    earlier_releases,
    jump_findings,
    published,
    publisher_change_finding,
    regression_finding,
)
from scanner.checks.provenance.settings import ProvenancePolicy, Requirement
from scanner.infra.dist_names import parse_dist_filename
from scanner.infra.hashing import sha256_file
from scanner.models import Finding, Inventory, LockedPackage, PinKind, Severity, canonical
from scanner.options import ScanOptions

RULE_INVALID = "WS-PROV-001"
RULE_MISSING = "WS-PROV-002"
RULE_VERIFIED = "WS-PROV-OK"
PEP_740 = "https://peps.python.org/pep-0740/"
TRUSTED_PUBLISHING = "https://docs.pypi.org/trusted-publishers/"


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True, slots=True)
class _Subject:
    """One artifact whose attestation is judged."""

    filename: str | None
    """None for a hash a lock pins without naming its file (requirements files), when
    neither the attestations directory nor PyPI could name it."""
    sha256: str | None
    package: str | None
    version: str | None
    path: str
    """Where the report points: the file, or the lock file."""
    line: int | None = None
    file: Path | None = None
    """The artifact on disk, where its bytes are at hand."""
    on_pypi: bool = True
    """Whether PyPI's integrity API can know this file (not from another index)."""

    @property
    def label(self) -> str:
        """The file name, or what stands for it in messages."""
        if self.filename:
            return self.filename
        return f"{self.package} {self.version} (sha256:{(self.sha256 or '?')[:16]}…)"


@dataclass(frozen=True, slots=True)
class _Group:
    """The artifacts of one package version from one place (a lock entry, a file)."""

    package: str | None
    version: str | None
    path: str
    line: int | None
    subjects: tuple[_Subject, ...]
    no_subject_reason: str | None = None
    """Why there is nothing to verify (unpinned entry, no hashes ...)."""


class _Context:
    """What one run of the check shares: the policy, the sources, memoised verifications."""

    def __init__(self, policy: ProvenancePolicy, options: ScanOptions) -> None:
        self.policy = policy
        self.options = options
        self.offline = not (options.online and policy.refresh_trust_root)
        self.directory = (
            AttestationDirectory.scan(options.attestations_dir)
            if options.attestations_dir is not None
            else None
        )
        self.client: IntegrityClient | None = None
        if options.online:
            cache = None
            if options.use_cache:
                base = options.cache_dir or Path(platformdirs.user_cache_dir("wormsign"))
                cache = base / "provenance"
            self.client = IntegrityClient(policy.index_url, cache_dir=cache)
        self._verified: dict[tuple[str, int, str, str], VerifyOutcome] = {}
        self._wheelhouse: dict[str, Path] | None = None

    def wheelhouse_file(self, filename: str) -> Path | None:
        """The locked artifact's file in one of the wheelhouses, if it is there."""
        if self._wheelhouse is None:
            self._wheelhouse = {}
            for directory in self.options.wheelhouses:
                if directory.is_dir():
                    for entry in sorted(directory.iterdir()):
                        self._wheelhouse.setdefault(entry.name, entry)
        return self._wheelhouse.get(filename)

    def attestations_for(self, subject: _Subject) -> list[FoundAttestation]:
        """Local attestations first; the integrity API only when none is at hand."""
        if subject.filename is None:
            return []
        paths: list[Path] = []
        if subject.file is not None:
            paths.extend(files_beside(subject.file))
        if self.directory is not None:
            paths.extend(p for p in self.directory.files_for(subject.filename) if p not in paths)
        found = [f for p in paths for f in read_attestation_file(p)]
        if found or self.client is None or not subject.on_pypi:
            return found
        if subject.package is None or subject.version is None:
            return found
        return self.client.provenance(subject.package, subject.version, subject.filename)

    def filename_for_digest(self, locked: LockedPackage, sha256: str, on_pypi: bool) -> str | None:
        """Name the file a lock pins only by hash: from the attestations directory, or
        from PyPI's release listing (online). The name must be of this package version."""
        wanted = (locked.name, _normal_version(locked.version))
        if self.directory is not None:
            for name in self.directory.names_for_digest(sha256):
                parsed = distribution_name_version(name)
                if parsed is not None and (parsed[0], _normal_version(parsed[1])) == wanted:
                    return name
        if self.client is not None and on_pypi:
            for version, files in self.client.release_files(locked.name).items():
                if _normal_version(version) != wanted[1]:
                    continue
                for release_file in files:
                    if (release_file.sha256 or "").lower() == sha256.lower():
                        return release_file.filename
        return None

    def verify(self, found: FoundAttestation, subject: _Subject, sha256: str) -> VerifyOutcome:
        specs = self.policy.publishers.get(subject.package or "", ())
        key = (
            found.origin,
            id(found.attestation),
            f"{subject.filename}{sha256}",
            "|".join(s.describe() for s in specs),
        )
        if key not in self._verified:
            self._verified[key] = verify_attestation(
                found, subject.filename or "", sha256, specs, offline=self.offline
            )
        return self._verified[key]


def check_provenance(inventory: Inventory, context: CheckContext) -> CheckResult:
    """Verify PEP 740 attestations of every artifact at hand against the provenance policy."""
    options = context.options
    return CheckResult.of(_provenance_findings(inventory, _Context(options.provenance, options)))


def _provenance_findings(inventory: Inventory, context: _Context) -> Iterator[Finding]:
    for group in _groups(inventory, context):
        yield from _judge_group(group, context)


def _groups(inventory: Inventory, context: _Context) -> Iterator[_Group]:
    for dist in inventory.distribution_files:
        package = canonical(dist.name) if dist.name else None
        version = dist.version
        if package is None or version is None:
            parsed = distribution_name_version(dist.path.name)
            if parsed is not None:
                package, version = package or parsed[0], version or parsed[1]
        subject = _Subject(
            dist.path.name, dist.sha256, package, version, str(dist.path), file=dist.path
        )
        yield _Group(package, version, str(dist.path), None, (subject,))
    for locked in inventory.locked_packages:
        yield _locked_group(locked, context)


def _locked_group(locked: LockedPackage, context: _Context) -> _Group:
    where = str(locked.lockfile)
    if locked.kind is not PinKind.PINNED or locked.version is None:
        return _Group(
            locked.name,
            locked.version,
            where,
            locked.line,
            (),
            f"the lock entry is {locked.kind.value}, not a pinned release from an index",
        )
    on_pypi = locked.index is None or _same_host(locked.index, context.policy.index_url)
    subjects = []
    for artifact in locked.artifacts:
        sha256s = [h.value.lower() for h in artifact.hashes if h.algorithm == "sha256"]
        if not artifact.filename:
            # requirements files: hashes without file names; each hash is one artifact.
            for pinned in sha256s:
                name = context.filename_for_digest(locked, pinned, on_pypi)
                subjects.append(
                    _Subject(
                        name, pinned, locked.name, locked.version, where, locked.line, None, on_pypi
                    )
                )
            continue
        file = context.wheelhouse_file(artifact.filename)
        sha256 = sha256s[0] if sha256s else None
        if sha256 is None and file is not None:
            sha256 = sha256_file(file)[0]
        subjects.append(
            _Subject(
                artifact.filename,
                sha256,
                locked.name,
                locked.version,
                where,
                locked.line,
                file,
                on_pypi,
            )
        )
    reason = None if subjects else "the lock pins no artifact hashes to verify against"
    return _Group(locked.name, locked.version, where, locked.line, tuple(subjects), reason)


def _same_host(index: str, base: str) -> bool:
    host = urlparse(index).hostname or ""
    return host in (urlparse(base).hostname, "pypi.org", "files.pythonhosted.org")


def _judge_group(group: _Group, context: _Context) -> Iterator[Finding]:
    requirement = context.policy.requirement_for(group.package)
    unattested: list[_Subject] = []
    unverifiable: list[_Subject] = []
    current: list[Current] = []
    for subject in group.subjects:
        if subject.sha256 is None:
            unverifiable.append(subject)
            continue
        found = context.attestations_for(subject)
        if not found:
            unattested.append(subject)
            continue
        outcomes = [context.verify(f, subject, subject.sha256) for f in found]
        current.extend(
            Current(o.identity, f.claimed_environment, f.publisher_claim is not None)
            for f, o in zip(found, outcomes, strict=True)
            if isinstance(o, Verified)
        )
        yield from _outcome_findings(subject, subject.sha256, outcomes)
    missing = unattested + unverifiable
    if requirement is not Requirement.IGNORE and (missing or not group.subjects):
        yield _missing_finding(group, missing, requirement, context)
    if context.client is not None and context.policy.regression:
        yield from _drift_findings(group, unattested, current, context)


def _drift_findings(
    group: _Group, unattested: list[_Subject], current: list[Current], context: _Context
) -> Iterator[Finding]:
    """What changed against the project's earlier releases on PyPI (online)."""
    client = context.client
    if client is None or group.package is None or group.version is None:
        return
    if not group.subjects or not any(s.on_pypi for s in group.subjects):
        return
    try:
        version = Version(group.version)
    except InvalidVersion:
        return
    releases = client.release_files(group.package)
    window = earlier_releases(releases, version, context.policy.drift_window)
    place = Place(group.package, group.version, group.path, group.line)
    own = next(
        (files for text, files in releases.items() if _normal_version(text) == str(version)), ()
    )
    yield from jump_findings(place, version, window[0] if window else None, own)
    if not window:
        return
    kinds = {_packagetype(s.filename) for s in group.subjects}
    # A regression needs PyPI to have said "no provenance" for every artifact of the
    # release; an artifact never asked about (no file name, another index) proves nothing.
    asked = [s for s in unattested if s.filename is not None and s.on_pypi]
    if asked and len(asked) == len(group.subjects):
        nearest = published(client, group.package, window[0], kinds)
        if nearest.publisher is None:
            return
        history = [nearest, *(published(client, group.package, e, kinds) for e in window[1:])]
        finding = regression_finding(place, history, [s.label for s in asked])
    elif current and group.package not in context.policy.publishers:
        history = [published(client, group.package, e, kinds) for e in window]
        finding = publisher_change_finding(place, history, current)
    else:
        return
    if finding is not None:
        yield finding


def _outcome_findings(
    subject: _Subject, sha256: str, outcomes: Iterable[VerifyOutcome]
) -> Iterator[Finding]:
    verified: dict[str, Verified] = {}
    for outcome in outcomes:
        if isinstance(outcome, Rejected):
            yield _rejected_finding(subject, sha256, outcome)
        else:
            verified.setdefault(outcome.identity, outcome)
    for identity, outcome in verified.items():
        ref = f" at {outcome.ref}" if outcome.ref else ""
        env = f" (environment {outcome.environment})" if outcome.environment else ""
        kind = outcome.predicate_type.rstrip("/").rsplit("/", 2)[-2:]
        yield Finding(
            rule_id=RULE_VERIFIED,
            severity=Severity.INFO,
            message=(
                f"{subject.label}: attestation ({'/'.join(kind)}) verified, "
                f"published by {identity}{ref}{env}."
            ),
            package=subject.package,
            version=subject.version,
            path=subject.path,
            line=subject.line,
            evidence=identity,
            references=(PEP_740,),
        )


def _rejected_finding(subject: _Subject, sha256: str, outcome: Rejected) -> Finding:
    if outcome.wrong_publisher:
        message = f"{subject.label}: wrong publisher: {outcome.reason}."
        fix = (
            "Do not install this artifact unless the project really moved its publishing; "
            "then update [tool.wormsign.provenance.publishers]."
        )
    else:
        message = f"{subject.label}: attestation does not verify: {outcome.reason}."
        fix = "Do not install this artifact until the attestation is explained."
    evidence = f"attestation: {outcome.origin}; artifact: {subject.label} sha256:{sha256}"
    if outcome.subject:
        evidence += f"; attestation subject: {outcome.subject}"
    if outcome.signed_by:
        evidence += f"; signed by: {outcome.signed_by}"
    return Finding(
        rule_id=RULE_INVALID,
        severity=Severity.CRITICAL,
        message=message,
        package=subject.package,
        version=subject.version,
        path=subject.path,
        line=subject.line,
        evidence=evidence,
        references=(PEP_740,),
        fix=fix,
    )


def _missing_finding(
    group: _Group, missing: list[_Subject], requirement: Requirement, context: _Context
) -> Finding:
    severity = Severity.HIGH if requirement is Requirement.REQUIRE else Severity.LOW
    looked = ["files beside the artifact"]
    if context.directory is not None:
        looked.append(str(context.directory.root))
    if context.client is not None:
        looked.append("the PyPI integrity API")
    if not group.subjects:
        what = group.no_subject_reason or "nothing to verify"
        message = f"{group.package or group.path}: provenance cannot be verified: {what}."
    elif all(s.sha256 is None for s in missing) and missing:
        message = (
            f"{group.package} {group.version}: no sha256 is known for "
            f"{len(missing)} artifact(s), so no attestation can be verified."
        )
    else:
        total = len(group.subjects)
        message = (
            f"{group.package or missing[0].label} {group.version or ''}: "
            f"{len(missing)} of {total} artifact(s) carry no attestation "
            f"(looked in {', '.join(looked)})."
        ).replace("  ", " ")
    names = ", ".join(s.label for s in missing[:5])
    if len(missing) > 5:
        names += f" and {len(missing) - 5} more"
    hint = (
        "Run with --online or --attestations DIR; or ask the project to publish with "
        "trusted publishing."
    )
    if not context.options.online and context.directory is None:
        hint = "Run with --online (PyPI's integrity API) or --attestations DIR."
    return Finding(
        rule_id=RULE_MISSING,
        severity=severity,
        message=message,
        package=group.package,
        version=group.version,
        path=group.path,
        line=group.line,
        evidence=names or None,
        references=(PEP_740, TRUSTED_PUBLISHING),
        fix=hint,
    )


def _normal_version(text: str | None) -> str | None:
    try:
        return str(Version(text)) if text is not None else None
    except InvalidVersion:
        return text


def _packagetype(filename: str | None) -> str:
    return "bdist_wheel" if filename and filename.endswith(".whl") else "sdist"


def distribution_name_version(filename: str) -> tuple[str, str] | None:
    """(canonical name, version) from a wheel or sdist file name, None if it is neither."""
    return parse_dist_filename(filename)
