"""Provenance drift: a release published otherwise than the project's earlier releases.

Most 2026 compromises (THREATS.md §9) were uploaded with a stolen token, with no tag,
release or CI run upstream; so what changed in *how* a release was published is
evidence, whatever its payload. A valid attestation alone is no proof of safety
(elementary-data 0.23.3 was built and attested by the project's own hijacked CI): each
finding says what was compared with what. Online only, against the `window` nearest
earlier final, unyanked releases on PyPI:

- WS-PROV-003 high: no attestation, where the release before it had one ("uploaded
  without trusted publishing after N releases with it"; ultralytics 8.3.45/46).
- WS-PROV-004 high: attested, but by another publisher identity (repository, workflow
  or deployment environment) than every attested release of the window.
- WS-PROV-005 high: a version far ahead of the release before it, with nothing in
  between (two or more major versions, or ten or more minor versions of one major).
- WS-PROV-006 medium: the release before it is more than two years older (a dormant
  project revived, as ctx 0.2.x in 2022 after 0.1.2 in 2014).

Earlier publishers are PyPI's publisher claims from the integrity API (PyPI verified
them at upload); the current one is what this scan verified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from packaging.version import InvalidVersion, Version

from scanner.checks.provenance.attestations import IntegrityClient, ReleaseFile
from scanner.models import Finding, Severity

RULE_REGRESSION = "WS-PROV-003"
RULE_PUBLISHER_CHANGED = "WS-PROV-004"
RULE_VERSION_JUMP = "WS-PROV-005"
RULE_DORMANT = "WS-PROV-006"
PEP_740 = "https://peps.python.org/pep-0740/"
MAJOR_JUMP = 2
MINOR_JUMP = 10
DORMANT = timedelta(days=730)
CALVER_MAJOR = 1000
"""A major version this large is a year (CalVer): its gaps are not jumps."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a finding points: the package version and the file that pins or holds it."""

    package: str
    version: str
    path: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Earlier:
    """One earlier release on the index and its files."""

    version: str
    files: tuple[ReleaseFile, ...]


@dataclass(frozen=True, slots=True)
class Published:
    """How one earlier release was published, as PyPI's provenance says."""

    version: str
    filename: str | None
    """The file whose provenance was read (None when none was asked about)."""
    publisher: str | None
    """PyPI's publisher claim (`github:owner/repo@.github/workflows/release.yml`); None
    when the release carries no attestation."""
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class Current:
    """A publisher identity this scan verified for the release being judged."""

    identity: str
    environment: str | None
    environment_known: bool
    """True when PyPI's claim came with the attestation (so None means "none")."""


def earlier_releases(
    releases: Mapping[str, tuple[ReleaseFile, ...]], current: Version, limit: int
) -> list[Earlier]:
    """The `limit` nearest releases before `current`, newest first: final releases (or
    pre-releases when `current` is one) with at least one file that is not yanked."""
    candidates = []
    for text, files in releases.items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        live = tuple(f for f in files if not f.yanked)
        if version < current and live and (not version.is_prerelease or current.is_prerelease):
            candidates.append((version, text, live))
    candidates.sort(key=lambda c: c[0], reverse=True)
    return [Earlier(text, files) for _, text, files in candidates[:limit]]


def published(
    client: IntegrityClient, package: str, earlier: Earlier, kinds: set[str]
) -> Published:
    """Ask the integrity API about up to two files of an earlier release (of the kinds
    the current release has first); the first attested one answers."""
    probe = sorted(earlier.files, key=lambda f: (f.packagetype not in kinds, f.filename))[:2]
    for release_file in probe:
        found = client.provenance(package, earlier.version, release_file.filename)
        if found:
            claim = next((f for f in found if f.publisher_claim), None)
            return Published(
                earlier.version,
                release_file.filename,
                claim.publisher_claim if claim else "a publisher",
                claim.claimed_environment if claim else None,
            )
    return Published(earlier.version, probe[0].filename if probe else None, None)


def _key(identity: str) -> str:
    return identity.strip().lower()


def _describe(item: Published) -> str:
    env = f" (environment {item.environment})" if item.environment else ""
    return f"{item.version} by {item.publisher}{env}"


def regression_finding(
    place: Place, history: Sequence[Published], unattested: Sequence[str]
) -> Finding | None:
    """WS-PROV-003 when the nearest earlier release carries an attestation."""
    if not history or history[0].publisher is None:
        return None
    nearest = history[0]
    streak = 0
    for item in history:
        if item.publisher is None:
            break
        streak += 1
    after = f"after {streak} attested releases" if streak > 1 else "after an attested release"
    compared = "; ".join(
        _describe(h) if h.publisher else f"{h.version} not attested" for h in history
    )
    return Finding(
        rule_id=RULE_REGRESSION,
        severity=Severity.HIGH,
        message=(
            f"{place.package} {place.version} has no attestation, but the earlier release "
            f"{nearest.version} was attested ({nearest.filename}, published by "
            f"{nearest.publisher}): it may have been uploaded outside its trusted publisher, "
            f"{after}."
        ),
        package=place.package,
        version=place.version,
        path=place.path,
        line=place.line,
        evidence=(
            f"compared with the {len(history)} release(s) before it: {compared}; "
            f"{place.version}: no provenance for {', '.join(unattested[:3])}"
        ),
        references=(PEP_740,),
        fix=f"Pin {place.package}=={nearest.version} until the project explains the release.",
    )


def publisher_change_finding(
    place: Place, history: Sequence[Published], current: Sequence[Current]
) -> Finding | None:
    """WS-PROV-004 when no verified publisher of this release published any of the
    attested releases of the window (same identity; same environment where both are
    known, an environment added since is not a change)."""
    attested = [h for h in history if h.publisher is not None and h.publisher != "a publisher"]
    if not attested or not current:
        return None
    for now in current:
        same = [h for h in attested if _key(h.publisher or "") == _key(now.identity)]
        if not same:
            continue
        envs = {h.environment for h in same}
        if not now.environment_known or now.environment in envs or envs == {None}:
            return None
    before = "; ".join(_describe(h) for h in attested)
    now_text = "; ".join(
        now.identity + (f" (environment {now.environment})" if now.environment else "")
        for now in current
    )
    what = (
        "the environment changed"
        if any(_key(h.publisher or "") == _key(c.identity) for h in attested for c in current)
        else "the publisher identity changed"
    )
    return Finding(
        rule_id=RULE_PUBLISHER_CHANGED,
        severity=Severity.HIGH,
        message=(
            f"{place.package} {place.version} is attested by {now_text}, but its last "
            f"{len(attested)} attested release(s) were published by another identity: "
            f"{what} (repository, workflow and environment were compared; a valid "
            "attestation alone is no proof the release is the project's)."
        ),
        package=place.package,
        version=place.version,
        path=place.path,
        line=place.line,
        evidence=f"earlier: {before}; {place.version}: {now_text}",
        references=(PEP_740,),
        fix=(
            f"Pin {place.package}=={attested[0].version} until the project confirms it moved "
            "its publishing; then name the new publisher in [tool.wormsign.provenance]."
        ),
    )


def _first_upload(files: Sequence[ReleaseFile]) -> datetime | None:
    times = []
    for f in files:
        if not f.uploaded:
            continue
        try:
            moment = datetime.fromisoformat(f.uploaded)
        except ValueError:
            continue
        times.append(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment)
    return min(times, default=None)


def jump_findings(
    place: Place, current: Version, nearest: Earlier | None, own_files: Sequence[ReleaseFile]
) -> list[Finding]:
    """WS-PROV-005 for a version far ahead of the release before it; WS-PROV-006 for a
    release that follows its predecessor after more than two years."""
    if nearest is None:
        return []
    try:
        before = Version(nearest.version)
    except InvalidVersion:
        return []
    out: list[Finding] = []
    majors = current.major - before.major
    minors = current.minor - before.minor if majors == 0 else 0
    calver = before.major >= CALVER_MAJOR
    if not calver and (majors >= MAJOR_JUMP or minors >= MINOR_JUMP):
        gap = f"{majors} major versions" if majors else f"{minors} minor versions"
        out.append(
            Finding(
                rule_id=RULE_VERSION_JUMP,
                severity=Severity.HIGH,
                message=(
                    f"{place.package} {place.version} jumps {gap} ahead of the release "
                    f"before it ({nearest.version}) with no release in between: a stolen "
                    "token often publishes a version no one expected."
                ),
                package=place.package,
                version=place.version,
                path=place.path,
                line=place.line,
                evidence=f"previous release on the index: {nearest.version}; this: {place.version}",
                fix=(
                    f"Check the project's changelog and tags for {place.version}; "
                    f"pin {nearest.version} until it is confirmed."
                ),
            )
        )
    then, now = _first_upload(nearest.files), _first_upload(own_files)
    if then is not None and now is not None and now - then > DORMANT:
        years = (now - then).days / 365.25
        out.append(
            Finding(
                rule_id=RULE_DORMANT,
                severity=Severity.MEDIUM,
                message=(
                    f"{place.package} {place.version} was uploaded {years:.1f} years after "
                    f"the release before it ({nearest.version}): a dormant project revived, "
                    "which is how hijacked accounts (ctx, 2022) published."
                ),
                package=place.package,
                version=place.version,
                path=place.path,
                line=place.line,
                evidence=(
                    f"{nearest.version} first uploaded {then.date().isoformat()}; "
                    f"{place.version} first uploaded {now.date().isoformat()}"
                ),
                fix=f"Check who published {place.version} before trusting it.",
            )
        )
    return out
