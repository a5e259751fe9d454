"""Known-vulnerable and known-malicious pins, from OSV records; vanished and yanked releases.

Rule ids:
- WS-ADV-MAL   a pin that an OSV record marks malicious (MAL-, or malware markers): critical
- WS-ADV-VULN  a pin inside a vulnerability's affected range: severity from its CVSS vector,
               high when unscored (fail closed)
- WS-ADV-GONE  (--online) a pinned release the index no longer lists or lists as yanked: high
- WS-ADV-QUARANTINED (--online) the index marks the project quarantined (PEP 792: judged
               unsafe, e.g. malware; nothing can be downloaded): critical
- WS-ADV-ARCHIVED / WS-ADV-DEPRECATED (--online) the project is archived (no more
               releases, so no more fixes) or deprecated (PEP 792): low
- WS-ADV-NOTE  (--verbose) advisory data for a pinned package that was approximated or could
               not be evaluated (dirty versions): info

Records come from the offline database (`scanner.checks.advisories.database`) and, with
--online, from the OSV API; both go through the one matcher in `scanner.checks.advisories.osv`.
Records that are one issue under several ids (PYSEC / GHSA / CVE / MAL) give
one finding whose references start with the primary id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from scanner.checks.advisories.database import AdvisoryDatabase, open_database
from scanner.checks.advisories.osv import (
    Advisory,
    MatchGroup,
    MatchResult,
    collapse_aliases,
    cvss_score,
    is_malicious,
    match_version,
    parse_version,
    severity_from_score,
    smallest_clearing_upgrade,
)
from scanner.checks.advisories.osv_api import OsvApi, PackageQuery
from scanner.checks.interface import CheckContext, CheckResult
from scanner.errors import ServiceError
from scanner.infra.http import HttpClient, ResponseCache, response_cache_dir
from scanner.infra.pypi import (
    DEFAULT_PYPI_URL,
    PEP_792,
    ProjectState,
    ProjectStatus,
    PyPIJson,
    ReleaseState,
    served_by_pypi,
)
from scanner.models import Finding, Inventory, PinKind, Severity, canonical
from scanner.options import ScanOptions

_MAX_REFERENCE_URLS = 3


@dataclass(frozen=True, slots=True)
class Pin:
    """One pinned (name, version) and where the inventory saw it."""

    name: str
    version: str
    path: str
    line: int | None
    from_pypi: bool
    """The pin is served by PyPI as far as we know (for the vanished-release check)."""


def pins_of(inventory: Inventory, pypi_url: str = DEFAULT_PYPI_URL) -> list[Pin]:
    """Pinned lock entries, installed distributions and distribution files, in order."""
    pins: list[Pin] = []
    for pkg in inventory.locked_packages:
        if pkg.kind is not PinKind.PINNED or not pkg.version:
            continue
        pins.append(
            Pin(
                canonical(pkg.name),
                pkg.version,
                str(pkg.lockfile),
                pkg.line,
                served_by_pypi(pkg.index, pypi_url) and "+" not in pkg.version,
            )
        )
    for dist in inventory.installed:
        if not dist.version:
            continue
        pins.append(
            Pin(
                canonical(dist.name),
                dist.version,
                str(dist.metadata_dir),
                None,
                dist.direct_url is None and "+" not in dist.version,
            )
        )
    # A wheel or sdist given as a target (or found in a project) is what it says it is
    # by its file name: lightning-2.3.0-py3-none-any.whl is lightning 2.3.0.
    pins.extend(
        Pin(canonical(f.name), f.version, str(f.path), None, False)
        for f in inventory.distribution_files
        if f.name and f.version
    )
    return pins


def check_advisories(inventory: Inventory, context: CheckContext) -> CheckResult:
    """Findings for every pinned package that a known advisory affects, and notes on the
    database (old, or absent).

    Raises ServiceError when no database is available and none can be used
    instead (offline scan without `wormsign db update`), or when --online was
    asked for and a service cannot be reached.
    """
    options = context.options
    findings = tuple(_findings(inventory, options))
    return CheckResult(findings=findings, notes=database_notes(options))


def _findings(inventory: Inventory, options: ScanOptions) -> Iterator[Finding]:
    settings = options.advisories
    pypi_url = settings.pypi_url
    pins = pins_of(inventory, pypi_url)
    if not pins:
        return
    db = open_database(options.db_path, cache_dir=options.cache_dir, required=not options.online)
    with contextlib.ExitStack() as stack:
        if db is not None:
            stack.enter_context(db)
        online: dict[str, tuple[Advisory, ...]] = {}
        http: HttpClient | None = None
        if options.online:
            http = stack.enter_context(contextlib.closing(_http_client(options)))
            api = OsvApi(http, settings.osv_api_url)
            unique = list(dict.fromkeys(PackageQuery(p.name, p.version) for p in pins))
            online = api.advisories(unique)
        yield from _advisory_findings(pins, db, online, options.verbose)
        if http is not None:
            yield from _release_findings(pins, PyPIJson(http, pypi_url))


def database_notes(options: ScanOptions) -> tuple[str, ...]:
    """Notes for Report.notes: the database the scan would use is old, or absent.

    Separate from the check because a stale database is a warning for humans, not
    a finding about the scanned packages.
    """
    try:
        db = open_database(options.db_path, cache_dir=options.cache_dir, required=False)
    except ServiceError as err:
        return (err.diagnostics(),)
    if db is None:
        return (
            "no advisory database: known vulnerabilities and malicious releases were "
            "not checked (run `wormsign db update` or pass --db)",
        )
    with db:
        status = db.status()
    if not status.stale:
        return ()
    age = f"{status.age_days:.0f} days old" if status.age_days is not None else "of unknown age"
    return (
        f"the advisory database {status.path} is {age} (newest record "
        f"{status.newest_modified or 'none'}); run `wormsign db update`",
    )


def _http_client(options: ScanOptions) -> HttpClient:
    settings = options.advisories
    cache = None
    if options.use_cache:
        cache = ResponseCache(response_cache_dir(options.cache_dir), ttl=settings.cache_ttl)
    return HttpClient("online advisory sources", timeout=settings.http_timeout, cache=cache)


def _advisories(
    name: str, db: AdvisoryDatabase | None, online: Mapping[str, tuple[Advisory, ...]]
) -> tuple[Advisory, ...]:
    """Offline records (matching fields only) merged with online ones (full records)."""
    merged: dict[str, Advisory] = {}
    offline = db.advisories_for(name, details=False) if db is not None else ()
    for adv in (*offline, *online.get(name, ())):
        known = merged.get(adv.id)
        if known is None or adv.modified > known.modified:
            merged[adv.id] = adv
    return tuple(merged.values())


def _advisory_findings(
    pins: Sequence[Pin],
    db: AdvisoryDatabase | None,
    online: Mapping[str, tuple[Advisory, ...]],
    verbose: bool,
) -> Iterator[Finding]:
    judged: dict[tuple[str, str], tuple[list[Finding], tuple[str, ...]]] = {}
    for pin in pins:
        key = (pin.name, pin.version)
        if key not in judged:
            advisories = _advisories(pin.name, db, online)
            result = match_version(advisories, pin.name, pin.version)
            if result.matches and db is not None:
                # Only the records that match need their summary, aliases and scores.
                matched = [m.advisory for m in result.matches]
                full = {a.id: a for a in db.with_details(matched)}
                detailed = [
                    full[a.id] if a.id in full and full[a.id].modified == a.modified else a
                    for a in matched
                ]  # a newer online record stays
                result = MatchResult(
                    matches=match_version(detailed, pin.name, pin.version).matches,
                    notes=result.notes,
                )
            groups = collapse_aliases(result.matches)
            upgrade = (
                smallest_clearing_upgrade(advisories, pin.name, pin.version) if groups else None
            )
            templates = [_finding(pin, g, upgrade, len(groups)) for g in groups]
            judged[key] = (templates, result.notes)
        templates, notes = judged[key]
        for template in templates:
            yield _placed(template, pin)
        if verbose and notes:
            yield Finding(
                rule_id="WS-ADV-NOTE",
                severity=Severity.INFO,
                package=pin.name,
                version=pin.version,
                path=pin.path,
                line=pin.line,
                message=f"some advisory data for {pin.name} could only be approximated or "
                "not evaluated",
                evidence="; ".join(notes),
            )


def _placed(template: Finding, pin: Pin) -> Finding:
    return Finding(
        rule_id=template.rule_id,
        severity=template.severity,
        message=template.message,
        package=template.package,
        version=template.version,
        path=pin.path,
        line=pin.line,
        evidence=template.evidence,
        references=template.references,
        fix=template.fix,
        aliases=template.aliases,
        fix_version=template.fix_version,
    )


def _group_severity(group: MatchGroup) -> tuple[Severity, float | None, str | None]:
    if any(is_malicious(m.advisory) for m in group.matches):
        return Severity.CRITICAL, None, None
    best: tuple[float, str] | None = None
    for m in group.matches:
        for kind, vector in m.advisory.severity:
            score = cvss_score(kind, vector)
            if score is not None and (best is None or score > best[0]):
                best = (score, vector)
    if best is None:
        return Severity.HIGH, None, None  # unscored: fail closed
    return severity_from_score(best[0]), best[0], best[1]


def _finding(pin: Pin, group: MatchGroup, upgrade: str | None, total: int) -> Finding:
    primary = group.primary.advisory
    malicious = any(is_malicious(m.advisory) for m in group.matches)
    severity, score, vector = _group_severity(group)
    fixed = sorted(
        {v for m in group.matches for v in m.fixed},
        key=lambda v: (parse_version(v)[0] is None, parse_version(v)[0] or v, v),
    )
    summary = primary.summary.rstrip(".") or "no summary"
    if malicious:
        message = f"{pin.name} {pin.version} is known malicious ({primary.id}: {summary})"
    else:
        message = f"{pin.name} {pin.version} is affected by {primary.id}: {summary}"
    evidence_parts = [f"matched by {'+'.join(sorted({m.how for m in group.matches}))}"]
    if score is not None:
        evidence_parts.append(f"CVSS {score:.1f} ({vector})")
    evidence_parts.append(f"fixed in: {', '.join(fixed)}" if fixed else "no fixed version known")
    ids = group.ids
    urls = [u for m in group.matches for u in m.advisory.references][:_MAX_REFERENCE_URLS]
    return Finding(
        rule_id="WS-ADV-MAL" if malicious else "WS-ADV-VULN",
        severity=severity,
        message=message,
        package=pin.name,
        version=pin.version,
        path=pin.path,
        line=pin.line,
        evidence="; ".join(evidence_parts),
        references=tuple(dict.fromkeys((*ids, *urls))),
        fix=_fix_text(pin, fixed, upgrade, total, malicious),
        aliases=ids[1:],
        fix_version=upgrade,
    )


def _fix_text(
    pin: Pin, fixed: Sequence[str], upgrade: str | None, total: int, malicious: bool
) -> str:
    if upgrade is not None:
        clears = f"clears all {total} known advisories" if total > 1 else "clears it"
        head = f"fixed in {', '.join(fixed)}; " if fixed else ""
        return f"{head}upgrade to {pin.name}=={upgrade} ({clears})"
    if malicious and not fixed:
        return (
            f"remove {pin.name} {pin.version}: no clean release is known; rotate any "
            "credentials the environment held"
        )
    if fixed:
        return (
            f"fixed in {', '.join(fixed)}; no known release of {pin.name} clears every "
            "advisory that affects this version"
        )
    return f"no fixed release of {pin.name} is known"


def _release_findings(pins: Sequence[Pin], pypi: PyPIJson) -> Iterator[Finding]:
    statuses: dict[tuple[str, str], Finding | None] = {}
    for pin in pins:
        if not pin.from_pypi:
            continue
        status = _status_finding(pin, pypi.project_status(pin.name))
        if status is not None:
            yield status
        key = (pin.name, pin.version)
        if key not in statuses:
            statuses[key] = _release_finding(pin, pypi)
        template = statuses[key]
        if template is not None:
            yield _placed(template, pin)


_PROJECT_STATES = {
    ProjectState.QUARANTINED: (
        "WS-ADV-QUARANTINED",
        Severity.CRITICAL,
        "is quarantined on the index: judged unsafe (malware, a compromised release) and "
        "offered for download no more",
        "remove it and rotate every credential the environment held since it was installed",
    ),
    ProjectState.ARCHIVED: (
        "WS-ADV-ARCHIVED",
        Severity.LOW,
        "is archived on the index: it takes no new releases, so it will get no fixes",
        "plan a replacement",
    ),
    ProjectState.DEPRECATED: (
        "WS-ADV-DEPRECATED",
        Severity.LOW,
        "is deprecated on the index: its maintainers consider it obsolete",
        "move to the project that replaces it",
    ),
}


def _status_finding(pin: Pin, status: ProjectStatus | None) -> Finding | None:
    """A finding for a project the index marks quarantined, archived or deprecated."""
    if status is None or status.state not in _PROJECT_STATES:
        return None
    rule, severity, what, fix = _PROJECT_STATES[status.state]
    why = f" (reason given: {status.reason})" if status.reason else ""
    evidence = f"project-status: {status.raw}"
    if status.reason:
        evidence += f"; reason: {status.reason}"
    return Finding(
        rule_id=rule,
        severity=severity,
        message=f"{pin.name} {what}{why}",
        package=pin.name,
        version=pin.version,
        path=pin.path,
        line=pin.line,
        evidence=evidence,
        references=(status.url, PEP_792),
        fix=fix,
    )


def _release_finding(pin: Pin, pypi: PyPIJson) -> Finding | None:
    status = pypi.release_status(pin.name, pin.version)
    if status.state is ReleaseState.LISTED:
        return None
    what = {
        ReleaseState.GONE: "is no longer listed on the index (releases are removed when "
        "they are found compromised)",
        ReleaseState.YANKED: "is yanked on the index",
        ReleaseState.NO_FILES: "has no files left on the index",
        ReleaseState.NO_PROJECT: "belongs to a project the index does not know (removed, "
        "or served by another index)",
    }[status.state]
    # A project missing altogether is also what a private package looks like; a release
    # missing from a project that exists is the compromise signal.
    severity = Severity.MEDIUM if status.state is ReleaseState.NO_PROJECT else Severity.HIGH
    return Finding(
        rule_id="WS-ADV-GONE",
        severity=severity,
        message=f"{pin.name} {pin.version} {what}",
        package=pin.name,
        version=pin.version,
        path=pin.path,
        line=pin.line,
        evidence=f"yanked: {status.yanked_reason}" if status.yanked_reason else status.state.value,
        references=(status.url,),
        fix=f"pin a release of {pin.name} that the index lists, after checking why this one "
        "was removed",
    )
