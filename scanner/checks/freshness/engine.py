"""Release age: how long ago each locked or installed file reached the index.

Every 2026 compromise of the ML stack (THREATS.md §2, §5, §9) was live for 42 minutes to
about 11 hours before the index quarantined it. A cooldown (`min-release-age = "P3D"`)
keeps such a release out of a job without knowing anything about its payload, as pip's
`--uploaded-prior-to`, uv's `exclude-newer` and poetry's `solver.min-release-age` do at
install time; this judges what is already locked or installed.

Where an upload time comes from, in this order:
- the lock file itself: uv.lock and pylock.toml record each file's `upload-time`
  (offline, reproducible with `--as-of`);
- online, PyPI's JSON API (PEP 700 `upload-time`): the locked file by name or sha256; for
  an installed distribution, or a lock that names no file PyPI has, the release's first
  upload.

Ages are per file, as the installers' cooldowns are: a wheel added yesterday to an old
release is as new as a new release. A release whose age cannot be learnt is named in a
note, never passed silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scanner.checks.freshness.duration import describe_age, format_duration
from scanner.checks.freshness.settings import FreshnessSettings
from scanner.infra.pypi import DEFAULT_PYPI_URL, IndexFile, Project, PyPIJson, served_by_pypi
from scanner.models import Finding, Inventory, LockedArtifact, PinKind, canonical

RULE_AGE = "WS-AGE-001"
PEP_700 = "https://peps.python.org/pep-0700/"
_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class Release:
    """One pinned release the inventory uses, and where it was seen."""

    package: str
    version: str
    path: str
    line: int | None
    artifacts: tuple[LockedArtifact, ...]
    """The files a lock entry allows; () for an installed distribution."""
    on_pypi: bool
    """Whether PyPI is where it comes from, as far as the inventory says."""


@dataclass(frozen=True, slots=True)
class Upload:
    """When one file reached the index, and who says so."""

    filename: str | None
    time: datetime
    source: str
    """`the lock file`, `PyPI`, or `PyPI (first file of the release)`."""


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the age check found: findings, notes on what it could not date, counts."""

    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    releases: int
    """Pinned releases looked at."""
    dated: int
    """Of those, releases with at least one known upload time."""
    files_dated: int
    """Upload times known (from the locks and from PyPI)."""


def releases_of(inventory: Inventory, pypi_url: str = DEFAULT_PYPI_URL) -> list[Release]:
    """Pinned lock entries and installed distributions, in inventory order."""
    found: list[Release] = []
    for pkg in inventory.locked_packages:
        if pkg.kind is not PinKind.PINNED or not pkg.version:
            continue
        on_pypi = served_by_pypi(pkg.index, pypi_url) and "+" not in pkg.version
        found.append(
            Release(pkg.name, pkg.version, str(pkg.lockfile), pkg.line, pkg.artifacts, on_pypi)
        )
    for dist in inventory.installed:
        if not dist.version:
            continue
        on_pypi = dist.direct_url is None and "+" not in dist.version
        found.append(
            Release(canonical(dist.name), dist.version, str(dist.metadata_dir), None, (), on_pypi)
        )
    return found


def uploads_in_lock(release: Release) -> list[Upload]:
    """Upload times the lock file records for the release's files."""
    return [
        Upload(a.filename, a.upload_time, "the lock file")
        for a in release.artifacts
        if a.upload_time is not None
    ]


def uploads_on_index(release: Release, project: Project | None) -> list[Upload]:
    """Upload times PyPI gives for the release's files not dated by the lock: each locked
    file by name or sha256; the release's first upload where none can be matched (an
    installed distribution names no file)."""
    files = project.files(release.version) if project is not None else None
    if not files:
        return []
    by_name = {f.filename: f for f in files}
    by_sha256 = {f.sha256: f for f in files if f.sha256}
    uploads: list[Upload] = []
    for artifact in release.artifacts:
        if artifact.upload_time is not None:
            continue
        match: IndexFile | None = by_name.get(artifact.filename or "")
        if match is None:
            digests = (h.value.lower() for h in artifact.hashes if h.algorithm == "sha256")
            match = next((by_sha256[d] for d in digests if d in by_sha256), None)
        if match is not None and match.upload_time is not None:
            uploads.append(Upload(match.filename, match.upload_time, "PyPI"))
    if not uploads:
        dated = [f for f in files if f.upload_time is not None]
        if dated:
            first = min(dated, key=lambda f: (f.upload_time, f.filename))
            assert first.upload_time is not None
            uploads.append(Upload(first.filename, first.upload_time, "PyPI (first file)"))
    return uploads


def age_finding(
    release: Release, uploads: Sequence[Upload], settings: FreshnessSettings, as_of: datetime
) -> Finding | None:
    """WS-AGE-001 when the newest of `uploads` is younger than the minimum age."""
    minimum = settings.min_age
    if minimum is None or not uploads:
        return None
    newest = max(uploads, key=lambda u: u.time)
    age = as_of - newest.time
    if age >= minimum:
        return None
    young = sorted({u.filename or "?" for u in uploads if as_of - u.time < minimum})
    when = newest.time.strftime("%Y-%m-%d %H:%M UTC")
    if age < timedelta(0):
        how_old = f"after the reference time {as_of.strftime('%Y-%m-%d %H:%M UTC')} ({when})"
    else:
        how_old = f"{describe_age(age)} ago ({when})"
    others = f" and {len(young) - 1} more file(s)" if len(young) > 1 else ""
    ready = (newest.time + minimum).strftime("%Y-%m-%d %H:%M UTC")
    return Finding(
        rule_id=RULE_AGE,
        severity=settings.severity,
        message=(
            f"{release.package} {release.version} was uploaded {how_old}, less than the "
            f"minimum release age of {describe_age(minimum)}: {newest.filename or 'a file'}"
            f"{others}."
        ),
        package=release.package,
        version=release.version,
        path=release.path,
        line=release.line,
        evidence=(
            f"upload-time {newest.time.isoformat().replace('+00:00', 'Z')} from "
            f"{newest.source}; reference time {as_of.isoformat().replace('+00:00', 'Z')}; "
            f"min-release-age {format_duration(minimum)}; young files: "
            + ", ".join(young[:_EXAMPLES])
            + (f" (+{len(young) - _EXAMPLES})" if len(young) > _EXAMPLES else "")
        ),
        references=(PEP_700,),
        fix=(
            f"Pin the release before it, or wait until {ready} (a release this new has "
            "not yet been looked at by anyone)."
        ),
    )


def assess(
    inventory: Inventory,
    settings: FreshnessSettings,
    as_of: datetime,
    pypi: PyPIJson | None = None,
) -> Assessment:
    """Judge every pinned release's age; `pypi` (online) dates what the locks do not."""
    releases = releases_of(inventory, settings.pypi_url)
    findings: list[Finding] = []
    unknown: dict[tuple[str, str], list[str]] = {}
    dated = files_dated = 0
    for release in releases:
        uploads = uploads_in_lock(release)
        undated = len(uploads) < len(release.artifacts) or not release.artifacts
        reason = None
        if undated:
            if pypi is None:
                reason = "offline"
            elif not release.on_pypi:
                reason = "not-pypi"
            else:
                from_index = uploads_on_index(release, pypi.project(release.package))
                uploads.extend(from_index)
                if not from_index and not uploads:
                    reason = "unlisted"
        if reason is not None and not uploads:
            unknown.setdefault((release.path, reason), []).append(
                f"{release.package} {release.version}"
            )
        if uploads:
            dated += 1
            files_dated += len(uploads)
        finding = age_finding(release, uploads, settings, as_of)
        if finding is not None:
            findings.append(finding)
    return Assessment(
        findings=tuple(findings),
        notes=tuple(_unknown_notes(unknown)),
        releases=len(releases),
        dated=dated,
        files_dated=files_dated,
    )


_REASONS = {
    "offline": "age unknown offline: {where} records no upload time for {what} "
    "(run with --online to ask PyPI, or lock with uv or as pylock.toml)",
    "not-pypi": "age unknown: {what} in {where} come(s) from another index than PyPI, "
    "which wormsign cannot ask",
    "unlisted": "age unknown: PyPI gives no upload time for {what} in {where}",
}


def _unknown_notes(unknown: dict[tuple[str, str], list[str]]) -> Iterable[str]:
    for (where, reason), names in unknown.items():
        shown = ", ".join(names[:_EXAMPLES])
        what = f"{len(names)} pinned release(s) ({shown}, ...)" if len(names) > _EXAMPLES else shown
        yield _REASONS[reason].format(where=where, what=what)
