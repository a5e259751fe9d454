"""What a worker runs: judge a shard, one artifact at a time, by the per-artifact scan
path of `wormsign scan` (the gate's own checks over a one-artifact inventory).

Only the content checks run here (`CONTENT_CHECKS`: what the bytes and the file name
decide); advisories are recomputed from name and version by the caller every run. Findings
are stored relative to the artifact (`ContentFinding.member` is the path's tail after
the artifact's own path), so one verdict serves every copy of the same bytes.

A worker needs only wormsign and the shard: remote artifacts are fetched here over
scanner.infra.http and checked against their sha256 before anything reads them.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from scanner.checks.advisories.settings import AdvisorySettings
from scanner.checks.freshness.settings import FreshnessSettings
from scanner.checks.interface import CheckContext
from scanner.checks.provenance.settings import ProvenancePolicy
from scanner.errors import ScannerError
from scanner.models import Finding, Inventory
from scanner.options import ScanOptions
from scanner.scale.artifacts import Artifact, Outcome, Shard
from scanner.verdicts import ContentFinding, Verdict

CONTENT_CHECKS = ("heuristics", "integrity", "metadata", "models")
"""Checks whose findings depend only on the artifact's bytes and file name."""
CONTEXT_CHECKS = ("advisories",)
"""Checks recomputed every run from name and version (cheap; the database changes)."""
VERDICT_KIND = "scan-index"
MAX_DOWNLOAD = 8 << 30


def content_checks(options: ScanOptions) -> tuple[str, ...]:
    """The content checks the options select."""
    return tuple(c for c in CONTENT_CHECKS if options.checks is None or c in options.checks)


def worker_options(options: ScanOptions) -> ScanOptions:
    """The options a worker judges with, and all it is sent: one process, no cache of its
    own, no network, and none of the context (database, cache and wheelhouse paths,
    advisory services, provenance policy) the content checks do not read."""
    return replace(
        options,
        jobs=1,
        use_cache=False,
        progress=False,
        online=False,
        db_path=None,
        cache_dir=None,
        wheelhouses=(),
        attestations_dir=None,
        advisories=AdvisorySettings(),
        provenance=ProvenancePolicy(),
        freshness=FreshnessSettings(),
    )


def warm() -> int:
    """Import the scan path once per worker, at start-up rather than in its first shard."""
    from scanner.gate import load_check

    for name in CONTENT_CHECKS:
        load_check(name)
    return 0


def judge_shard(shard: Shard, options: ScanOptions) -> list[Outcome]:
    """Judge every job of the shard; never raises for one bad artifact."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    out: list[Outcome] = []
    for job in shard.jobs:
        started, cpu = time.perf_counter(), time.process_time()
        verdict_json: str | None = None
        error: str | None = None
        try:
            verdict = judge_artifact(job.artifact, options)
            verdict_json = verdict.to_json()
            if not verdict.complete:
                error = "; ".join(skipped_of(verdict)) or "judgement incomplete"
        except ScannerError as err:
            error = err.diagnostics()
            if job.artifact.display not in error:
                error = f"{job.artifact.display}: {error}"
        except RecursionError:
            error = f"{job.artifact.display}: input nested too deeply to scan"
        except Exception as err:  # a bug of ours fails this artifact closed, not the run
            error = f"{job.artifact.display}: internal error: {type(err).__name__}: {err}"
        out.append(
            Outcome(
                key=job.key,
                sha256=job.artifact.sha256 or "",
                verdict_json=verdict_json,
                error=error,
                seconds=time.perf_counter() - started,
                cpu_seconds=time.process_time() - cpu,
                worker=worker,
                peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            )
        )
    return out


def judge_artifact(artifact: Artifact, options: ScanOptions) -> Verdict:
    """The content verdict of one artifact (complete = False when anything was skipped)."""
    if artifact.location.startswith(("http://", "https://")):
        with tempfile.TemporaryDirectory(prefix="wormsign-fetch-") as tmp:
            local = Path(tmp) / Path(artifact.filename).name
            _fetch(artifact, local)
            return _judge_local(artifact, local, options)
    if artifact.kind != "installed":
        _verify(artifact, Path(artifact.location), "listed")
    return _judge_local(artifact, Path(artifact.location), options)


def _fetch(artifact: Artifact, dest: Path) -> None:
    from scanner.infra.http import HttpClient

    client = HttpClient("index")
    try:
        client.download(artifact.location, dest, max_bytes=MAX_DOWNLOAD)
    finally:
        client.close()
    _verify(artifact, dest, "index's")


def _verify(artifact: Artifact, local: Path, whose: str) -> None:
    """The bytes judged are the bytes the verdict is stored under: a file whose sha256
    differs from the one listed (a manifest's claim, a file changed since the listing, a
    tampered download) is an error, never a verdict under someone else's address."""
    from scanner.infra.hashing import sha256_file

    try:
        digest, _size = sha256_file(local)
    except OSError as err:
        raise ScannerError(f"cannot read: {err.strerror or err}", path=artifact.location) from err
    if artifact.sha256 is not None and digest != artifact.sha256:
        raise ScannerError(
            f"sha256 {digest} differs from the {whose} {artifact.sha256}",
            path=artifact.location,
        )


def _inventory(artifact: Artifact, local: Path) -> Inventory:
    if artifact.kind == "installed":
        from scanner.scale.fleet import distribution_files
        from scanner.sources.environment import collect_environment
        from scanner.verdicts import manifest_digest

        env = collect_environment(local)
        dists = tuple(d for d in env.distributions if d.name == artifact.name)
        if len(dists) != 1:
            raise ScannerError(f"{artifact.name} is not installed here", path=str(local))
        if manifest_digest(distribution_files(local, dists[0], None)) != artifact.sha256:
            raise ScannerError(
                f"{artifact.name}: the files here differ from the inventory's",
                path=str(local),
            )
        env = replace(env, distributions=dists, loose_files=())
        return Inventory(targets=(artifact.display,), environments=(env,))
    from scanner.sources.discover import collect

    return collect([local], [], [])


def _judge_local(artifact: Artifact, local: Path, options: ScanOptions) -> Verdict:
    from scanner.gate import load_check, merge_findings

    inventory = _inventory(artifact, local)
    context = CheckContext(worker_options(options))
    results = [load_check(name)(inventory, context) for name in content_checks(options)]
    findings = merge_findings(results)
    skipped = [*inventory.skipped, *(s for r in results for s in r.skipped)]
    prefix = str(local)
    content = tuple(_relative(f, prefix) for f in findings)
    owners = [[f.package, f.version] for f in findings]
    reasons = [f"{s.target}: {s.reason}".replace(prefix, artifact.location) for s in skipped]
    payload = json.dumps({"owners": owners, "skipped": reasons}, separators=(",", ":"))
    return Verdict(kind=VERDICT_KIND, findings=content, complete=not skipped, payload=payload)


def _relative(finding: Finding, prefix: str) -> ContentFinding:
    member: str | None = None
    if finding.path is not None:
        # "@tail": a place inside the artifact; anything else is kept as it was
        inside = finding.path.startswith(prefix)
        member = "@" + finding.path[len(prefix) :] if inside else finding.path
    return ContentFinding(
        rule_id=finding.rule_id,
        severity=finding.severity,
        message=finding.message.replace(prefix, "\0"),
        member=member,
        line=finding.line,
        evidence=finding.evidence,
        references=finding.references,
        fix=finding.fix,
    )


def findings_of(verdict: Verdict, artifact: Artifact) -> list[Finding]:
    """The verdict's findings placed at this artifact (paths under its location)."""
    owners: Sequence[Sequence[str | None]] = []
    if verdict.payload:
        owners = json.loads(verdict.payload).get("owners", [])
    base = artifact.location if artifact.node is None else f"{artifact.node}:{artifact.location}"
    out: list[Finding] = []
    for i, cf in enumerate(verdict.findings):
        package, version = owners[i] if i < len(owners) else (artifact.name, artifact.version)
        path = cf.member
        if path is not None and path.startswith("@"):
            path = base + path[1:]
        f = cf.to_finding(path, package=package, version=version)
        out.append(replace(f, message=f.message.replace("\0", base)))
    return out


def skipped_of(verdict: Verdict) -> list[str]:
    """What the judgement could not read (why the verdict is incomplete)."""
    if not verdict.payload:
        return []
    reasons = json.loads(verdict.payload).get("skipped", [])
    return [str(r) for r in reasons]
