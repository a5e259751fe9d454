"""The library entry point: targets -> Report. `wormsign scan`, `wormsign run` and
launchers (a Lightning callback, a training script) all go through here.

    from scanner.gate import check, require_clean
    report = check(["."])            # a Report; report.blocked says if the job must not start
    require_clean(["uv.lock"])       # raises GateBlocked with the findings
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from pathlib import Path

from scanner.checks.interface import (
    FILES_HASHED,
    VERDICTS,
    VERDICTS_REUSED,
    Check,
    CheckContext,
    CheckResult,
)
from scanner.errors import ConfigError, SourceError
from scanner.infra.progress import advance
from scanner.models import ADVISORY_RULES, Finding, Inventory, Report, Severity, Suppression
from scanner.options import ScanOptions
from scanner.policy import (
    Config,
    apply_config,
    apply_policy,
    governs,
    load_config,
    weakening_notes,
    with_command_line_ignores,
)
from scanner.sources.discover import collect, nothing_scanned, unverifiable

# Check name -> "module:function". Names are what `checks = [...]` in config selects.
CHECKS: dict[str, str] = {
    "advisories": "scanner.checks.advisories.check:check_advisories",
    "freshness": "scanner.checks.freshness.check:check_freshness",
    "heuristics": "scanner.checks.heuristics.content:check_heuristics",
    "integrity": "scanner.checks.integrity.check:check_integrity",
    "lock": "scanner.checks.lock.check:check_lock_hygiene",
    "metadata": "scanner.checks.metadata.check:check_metadata",
    "models": "scanner.checks.models.check:check_model_files",
    "provenance": "scanner.checks.provenance.check:check_provenance",
}


class GateBlocked(Exception):
    """The gate refused: findings at or above the failing severity."""

    def __init__(self, report: Report) -> None:
        worst = max((f.severity for f in report.findings), default=Severity.INFO)
        super().__init__(
            f"wormsign blocked the job: {len(report.findings)} findings, worst {worst.label}"
        )
        self.report = report

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The findings that blocked the job."""
        return tuple(f for f in self.report.findings if f.severity >= self.report.fail_on)


def load_check(name: str) -> Check:
    """The check function registered under `name`."""
    try:
        spec = CHECKS[name]
    except KeyError:
        known = ", ".join(sorted(CHECKS))
        raise ConfigError(f"unknown check {name!r} (known: {known})") from None
    module_name, func_name = spec.split(":")
    func: Check = getattr(importlib.import_module(module_name), func_name)
    return func


def run_checks(inventory: Inventory, options: ScanOptions) -> list[CheckResult]:
    """Every selected check over the inventory, in name order."""
    names = sorted(CHECKS) if options.checks is None else sorted(options.checks)
    context = CheckContext(options)
    results: list[CheckResult] = []
    for done, name in enumerate(names):
        advance("checks", done, len(names))
        results.append(load_check(name)(inventory, context))
    return results


def merge_findings(results: Iterable[CheckResult]) -> list[Finding]:
    """The findings of every result; duplicates removed, most severe first."""
    findings: dict[tuple[object, ...], Finding] = {}
    for result in results:
        for f in result.findings:
            key = (f.rule_id, f.package, f.version, f.path, f.line, f.references[:1], f.message)
            findings.setdefault(key, f)
    return sorted(findings.values(), key=Finding.sort_key)


def build_report(
    inventory: Inventory,
    results: Sequence[CheckResult],
    findings: Iterable[Finding],
    options: ScanOptions,
    notes: Iterable[str] = (),
    suppressed: Iterable[Suppression] = (),
) -> Report:
    """Assemble the report the reporters render: policy's findings and notes, then what
    the checks noted, could not verify and counted."""
    packages = {(p.name, p.version) for p in inventory.locked_packages}
    packages |= {(d.name, d.version) for d in inventory.installed}
    skipped = inventory.skipped + unverifiable(inventory)
    skipped += tuple(s for r in results for s in r.skipped)
    hashed = sum(r.count(FILES_HASHED) for r in results) + len(inventory.distribution_files)
    return Report(
        targets=inventory.targets,
        findings=tuple(findings),
        skipped=skipped,
        fail_on=options.fail_on,
        packages=len(packages),
        files_hashed=hashed,
        notes=(*notes, *(n for r in results for n in r.notes)),
        suppressed=tuple(suppressed),
        verdicts=sum(r.count(VERDICTS) for r in results),
        verdicts_reused=sum(r.count(VERDICTS_REUSED) for r in results),
        inventory=inventory,
        errors=inventory.errors,
    )


MAX_FINDINGS_PER_GROUP = 50
"""Findings of one rule for one distribution listed one by one; the rest are counted."""


def cap_findings(
    findings: Sequence[Finding], limit: int = MAX_FINDINGS_PER_GROUP
) -> tuple[Finding, ...]:
    """At most `limit` findings per (rule, package, version), most severe first; the rest
    become one finding that counts them (as severe as the worst of them), so a RECORD of
    a million rows cannot make a report of a million lines."""
    seen: dict[tuple[str, str | None, str | None], int] = {}
    rest: dict[tuple[str, str | None, str | None], tuple[int, Finding]] = {}
    kept: list[Finding] = []
    for f in findings:  # most severe first (merge_findings sorted them)
        if f.rule_id in ADVISORY_RULES and f.references:
            # One finding per published advisory: the database bounds them, and the SBOM
            # and `wormsign fix` need every one (mlflow 2.2.0 has 72).
            kept.append(f)
            continue
        key = (f.rule_id, f.package, f.version)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            kept.append(f)
            continue
        count, worst = rest.get(key, (0, f))
        rest[key] = (count + 1, worst if worst.severity >= f.severity else f)
    for (rule, package, version), (count, worst) in rest.items():
        owner = f" for {package}" if package else ""
        kept.append(
            Finding(
                rule_id=rule,
                severity=worst.severity,
                package=package,
                version=version,
                path=worst.path,
                message=f"{count} more {rule} findings{owner} not listed "
                f"(at most {limit} per rule and distribution); the first is shown here.",
                evidence=worst.message,
            )
        )
    return tuple(sorted(kept, key=Finding.sort_key))


def _config_start(paths: Sequence[Path]) -> Path:
    """Where the config search starts: the first target's directory."""
    first = paths[0]
    return first if first.is_dir() else first.parent


def check(
    targets: Sequence[str | Path] = (),
    *,
    env_paths: Sequence[str | Path] = (),
    pythons: Sequence[str | Path] = (),
    options: ScanOptions | None = None,
    config_path: str | Path | None = None,
    overridden: Collection[str] = (),
    today: date | None = None,
) -> Report:
    """Scan the targets and return the Report.

    With no targets, environments or interpreters, the current directory and the
    running interpreter's environment are scanned; with only `env_paths` / `pythons`,
    just those.

    The project's config (`wormsign.toml` or `[tool.wormsign]`, searched upward from
    the first target, or `config_path`) fills in every option except those named in
    `overridden` (what the caller set explicitly), and its ignores filter the findings.
    """
    options = options or ScanOptions()
    paths = [Path(t) for t in targets]
    if not targets and not env_paths and not pythons:
        # No target: the current project and the environment of the running interpreter
        # (resolved from files, never by starting it, like any other --python).
        paths = [Path.cwd()]
        pythons = [sys.executable]
    # With only --env / --python, just those are scanned (the working directory is not
    # walked: a .venv inside it would be read twice); config is still searched from here.
    config = load_config(
        _config_start(paths or [Path.cwd()]), Path(config_path) if config_path else None
    )
    config_notes: list[str] = []
    if config_path is None and not governs(config, paths):
        # Found inside the first target: it must not weaken the gate for the others.
        config_notes.append(
            f"{config.source} was not applied: it governs {config.base_dir} and other "
            "targets lie outside it (name a config with --config)"
        )
        config = Config()
    config_notes += weakening_notes(config, CHECKS)
    options = apply_config(options, config, overridden)
    config = with_command_line_ignores(config, options.ignore_vulns)
    inventory = collect(
        paths, [Path(e) for e in env_paths], [Path(p) for p in pythons], exclude=options.exclude
    )
    if nothing_scanned(inventory) and inventory.errors:
        first = inventory.errors[0]
        more = len(inventory.errors) - 1
        raise SourceError(
            first.reason + (f" (and {more} more unreadable files)" if more else ""),
            path=first.target,
        )
    if nothing_scanned(inventory):
        raise SourceError(
            f"nothing to scan in {', '.join(inventory.targets)}: no lock entry, "
            "environment, distribution file or model file",
            hint="name a lock file, a project, an environment or a model file",
        )
    results = run_checks(inventory, options)
    if today is None:
        today = options.as_of.date() if options.as_of is not None else date.today()
    policy = apply_policy(merge_findings(results), config, today)
    notes = (*config_notes, *policy.notes)
    kept = cap_findings(policy.kept)
    return build_report(inventory, results, kept, options, notes, policy.suppressions)


def require_clean(
    targets: Sequence[str | Path] = (),
    *,
    env_paths: Sequence[str | Path] = (),
    pythons: Sequence[str | Path] = (),
    options: ScanOptions | None = None,
    config_path: str | Path | None = None,
) -> Report:
    """Like `check`, but raise GateBlocked if the job must not start."""
    report = check(
        targets, env_paths=env_paths, pythons=pythons, options=options, config_path=config_path
    )
    if report.blocked:
        raise GateBlocked(report)
    if report.incomplete:  # fail closed: what could not be read was not judged
        first = report.errors[0]
        raise SourceError(first.reason, path=first.target)
    return report
