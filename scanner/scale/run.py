"""scan-index end to end: list, plan, shard, map over an engine, store, stream, report.

Verdicts are stored the moment a shard's outcomes arrive, before its lines are emitted,
so an interrupted run loses at most the shards in flight, and the rerun (same plan, minus
what is stored) judges nothing twice. Advisories run here, every run, from name and
version; policy, the report and the exit code are the gate's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from scanner.checks.interface import VERDICTS, VERDICTS_REUSED, CheckContext, CheckResult
from scanner.models import DistributionFile, Finding, Inventory, Report, Skipped
from scanner.options import ScanOptions
from scanner.policy import Config, apply_policy
from scanner.scale.artifacts import Artifact, Outcome
from scanner.scale.engines import Engine
from scanner.scale.judge import (
    CONTEXT_CHECKS,
    content_checks,
    findings_of,
    skipped_of,
    worker_options,
)
from scanner.scale.plan import Plan, make_plan
from scanner.scale.shards import DEFAULT_SHARD_SIZE, make_shards
from scanner.scale.store import SharedStore
from scanner.verdicts import Verdict, fingerprint

Emit = Callable[[dict[str, object]], None]


@dataclass(slots=True)
class Stats:
    """What a run did, for the summary line and the benchmark."""

    listed: int = 0
    unique: int = 0
    reused: int = 0
    judged: int = 0
    stored: int = 0
    shards: int = 0
    shard_seconds: list[float] = field(default_factory=list)
    worker_cpu_seconds: float = 0.0
    peak_rss_kib: dict[str, int] = field(default_factory=dict)
    judged_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IndexScan:
    """The report, the error lines (each one input that could not be judged), the stats."""

    report: Report
    errors: tuple[str, ...]
    stats: Stats


def rules_fingerprint(options: ScanOptions, rules_directory: Path | None = None) -> str:
    """The fingerprint of everything that decides a content verdict here."""
    settings = {
        "scan-index": 1,
        "checks": list(content_checks(options)),
        "models": repr(options.models),
        "metadata": repr(options.metadata),
    }
    return fingerprint(settings, rules_directory=rules_directory)


def scan_artifacts(
    artifacts: Sequence[Artifact],
    *,
    options: ScanOptions,
    engine: Engine,
    store: SharedStore,
    targets: Sequence[str],
    list_errors: Sequence[str] = (),
    shard_size: int = DEFAULT_SHARD_SIZE,
    emit: Emit | None = None,
    config: Config | None = None,
    today: date | None = None,
) -> IndexScan:
    """Judge what the store lacks, then report on every artifact."""
    out = emit or (lambda _event: None)
    stats = Stats(listed=len(artifacts))
    plan = make_plan(artifacts, store)
    stats.unique, stats.reused = plan.unique, len(plan.stored)
    shards = make_shards(plan.jobs, shard_size)
    stats.shards = len(shards)
    out(
        {
            "event": "plan",
            "artifacts": len(artifacts),
            "unique_sha256": plan.unique,
            "stored": len(plan.stored),
            "to_judge": len(plan.jobs),
            "shards": len(shards),
            "engine": engine.name,
            "workers": engine.workers,
            "fingerprint": store.fingerprint,
        }
    )
    verdicts: dict[str, Verdict] = dict(plan.stored)
    errors: dict[str, str] = {}
    by_key = _artifacts_by_key(plan)
    for key in sorted(plan.stored):
        out(_verdict_event(key, plan.stored[key], by_key[key], cached=True, error=None))
    for outcomes in engine.map_shards(shards, worker_options(options)):
        stats.shard_seconds.append(sum(o.seconds for o in outcomes))
        _take(outcomes, store, stats, verdicts, errors)
        for o in outcomes:
            verdict = verdicts.get(o.key)
            out(
                _verdict_event(o.key, verdict, by_key[o.key], cached=False, error=errors.get(o.key))
            )
    findings: list[Finding] = []
    skipped: list[Skipped] = [Skipped(target="scan-index", reason=e) for e in list_errors]
    for artifact, key in zip(plan.artifacts, plan.keys, strict=True):
        verdict = verdicts.get(key)
        if verdict is not None:
            findings.extend(findings_of(verdict, artifact))
        if key in errors:
            skipped.append(Skipped(target=artifact.display, reason=errors[key]))
    results = [
        CheckResult.of(
            findings, counters=[(VERDICTS, len(plan.artifacts)), (VERDICTS_REUSED, stats.reused)]
        ),
        *_context_results(plan.artifacts, options),
    ]
    report = _report(results, skipped, options, targets, config, today)
    _node_events(report, plan.artifacts, out)
    all_errors = (*list_errors, *(errors[k] for k in sorted(errors)))
    return IndexScan(report=report, errors=all_errors, stats=stats)


def _artifacts_by_key(plan: Plan) -> dict[str, list[Artifact]]:
    out: dict[str, list[Artifact]] = {}
    for artifact, key in zip(plan.artifacts, plan.keys, strict=True):
        out.setdefault(key, []).append(artifact)
    return out


def _take(
    outcomes: Sequence[Outcome],
    store: SharedStore,
    stats: Stats,
    verdicts: dict[str, Verdict],
    errors: dict[str, str],
) -> None:
    """Store the complete verdicts of a shard first, then remember them for the report."""
    fresh: list[tuple[str, str, Verdict]] = []
    for o in outcomes:
        stats.judged += 1
        stats.worker_cpu_seconds += o.cpu_seconds
        stats.judged_keys.append(o.key)
        stats.peak_rss_kib[o.worker] = max(stats.peak_rss_kib.get(o.worker, 0), o.peak_rss_kib)
        verdict = Verdict.from_json(o.verdict_json) if o.verdict_json else None
        if verdict is not None:
            verdicts[o.key] = verdict
        if o.error is not None or verdict is None or not verdict.complete:
            errors[o.key] = o.error or "judgement incomplete"
            continue
        fresh.append((o.key, o.sha256, verdict))
    stats.stored += store.put_many(fresh)


def _verdict_event(
    key: str, verdict: Verdict | None, artifacts: list[Artifact], *, cached: bool, error: str | None
) -> dict[str, object]:
    first = artifacts[0]
    findings = findings_of(verdict, first) if verdict is not None else []
    event: dict[str, object] = {
        "event": "verdict",
        "sha256": first.sha256,
        "artifact": first.display,
        "copies": len(artifacts),
        "cached": cached,
        "complete": verdict is not None and verdict.complete and error is None,
        "findings": [
            {"rule_id": f.rule_id, "severity": f.severity.label, "path": f.path, "line": f.line}
            for f in findings
        ],
    }
    if error is not None:
        event["error"] = error
    elif verdict is not None and skipped_of(verdict):
        event["error"] = "; ".join(skipped_of(verdict))
    return event


def _context_results(artifacts: Sequence[Artifact], options: ScanOptions) -> list[CheckResult]:
    """Advisories by name and version, recomputed every run."""
    from scanner.gate import load_check

    names = [c for c in CONTEXT_CHECKS if options.checks is None or c in options.checks]
    if not names:
        return []
    files = tuple(
        DistributionFile(
            path=Path(_where(a)),
            kind="wheel" if a.kind == "installed" else a.kind,
            name=a.name,
            version=a.version,
            sha256=a.sha256 or "",
            size=a.size,
        )
        for a in artifacts
        if a.name and a.version
    )
    inventory = Inventory(distribution_files=files)
    context = CheckContext(options)
    return [load_check(name)(inventory, context) for name in names]


def _where(artifact: Artifact) -> str:
    return f"{artifact.node}:{artifact.display}" if artifact.node else artifact.display


def _report(
    results: Sequence[CheckResult],
    skipped: Sequence[Skipped],
    options: ScanOptions,
    targets: Sequence[str],
    config: Config | None,
    today: date | None,
) -> Report:
    from scanner.gate import build_report, cap_findings, merge_findings

    if today is None:
        today = options.as_of.date() if options.as_of is not None else date.today()
    policy = apply_policy(merge_findings(results), config or Config(), today)
    kept = cap_findings(policy.kept)
    inventory = Inventory(targets=tuple(targets), skipped=tuple(skipped))
    return build_report(inventory, results, kept, options, policy.notes, policy.suppressions)


def _node_events(report: Report, artifacts: Sequence[Artifact], out: Emit) -> None:
    """Fleet mode: per node, what blocks it."""
    nodes = sorted({a.node for a in artifacts if a.node})
    for node in nodes:
        blocking = [
            f
            for f in report.findings
            if f.severity >= report.fail_on and (f.path or "").startswith(f"{node}:")
        ]
        out(
            {
                "event": "node",
                "node": node,
                "blocked": bool(blocking),
                "blocking": [
                    {"rule_id": f.rule_id, "package": f.package, "version": f.version}
                    for f in blocking
                ],
            }
        )


def json_line(event: dict[str, object]) -> str:
    """One JSON Lines record."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
