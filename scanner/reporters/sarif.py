"""SARIF 2.1.0 for code scanning (GitHub and any other SARIF consumer).

One run, one rule per rule id seen, one result per finding. GitHub rejects a whole
upload when any result lacks a location, so a finding without a path is anchored at
the scan target it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from scanner import __version__
from scanner.models import Finding, Report, Severity
from scanner.reporters.text import safe_text

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/wormsign/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "wormsign/v1"

# GitHub ranks alerts by `security-severity` (CVSS-like: >= 9 critical, 7-8.9 high,
# 4-6.9 medium, 0.1-3.9 low). CodeQL writes it as a string holding a number; so do we.
SECURITY_SEVERITY: dict[Severity, float] = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 3.0,
    Severity.INFO: 0.0,
}


def sarif_level(severity: Severity) -> str:
    """SARIF `level`: error blocks by default, warning is worth a look, note is context."""
    if severity >= Severity.HIGH:
        return "error"
    if severity is Severity.MEDIUM:
        return "warning"
    return "note"


def artifact_location(path: str, root: Path) -> dict[str, str]:
    """An artifactLocation: relative to `root` (%SRCROOT%) when inside it, else a file URI."""
    p = Path(path)
    if not p.is_absolute():
        rel = PurePosixPath(*Path(os.path.normpath(p)).parts)
        if not str(rel).startswith(".."):
            return {"uri": _quote(rel.as_posix()), "uriBaseId": SRCROOT}
        p = root / p
    try:
        rel = PurePosixPath(*Path(os.path.normpath(p)).relative_to(root).parts)
    except ValueError:
        return {"uri": Path(os.path.normpath(p)).as_uri()}
    return {"uri": _quote(rel.as_posix() or "."), "uriBaseId": SRCROOT}


def _quote(path: str) -> str:
    """Percent-encode a path for a URI. A non-UTF-8 file name arrives as lone surrogates
    (os.fsdecode): its original bytes are encoded (%FF), not a UnicodeEncodeError."""
    return quote(path, safe="/", errors="surrogateescape")


def fingerprint(f: Finding, uri: str) -> str:
    """Stable across runs and machines: what was found, in which package, where."""
    parts = (f.rule_id, f.package or "", f.version or "", uri, f.message)
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _anchor(f: Finding, report: Report) -> str:
    """Where a result is shown: its path, else the first target (GitHub needs one)."""
    if f.path:
        return f.path
    return report.targets[0] if report.targets else "."


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    worst = max(f.severity for f in findings)
    first = findings[0]
    fixes = sorted({f.fix for f in findings if f.fix})
    refs = sorted({r for f in findings for r in f.references})
    help_lines = [safe_text(first.message)]
    help_lines += [f"Fix: {safe_text(fx)}" for fx in fixes[:3]]
    help_lines += [f"Reference: {safe_text(r)}" for r in refs[:5]]
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": f"{rule_id}: {safe_text(first.message)}"},
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": sarif_level(worst)},
        "properties": {
            "security-severity": f"{SECURITY_SEVERITY[worst]:.1f}",
            "tags": ["security", "supply-chain"],
        },
    }
    urls = [r for r in refs if r.startswith(("https://", "http://"))]
    if urls:
        rule["helpUri"] = urls[0]
    return rule


def _result(f: Finding, report: Report, root: Path, rule_index: int) -> dict[str, Any]:
    location = artifact_location(_anchor(f, report), root)
    physical: dict[str, Any] = {"artifactLocation": location}
    if f.line is not None and f.line >= 1:
        physical["region"] = {"startLine": f.line}
    properties: dict[str, Any] = {"severity": f.severity.label}
    for key, value in (
        ("package", f.package),
        ("version", f.version),
        ("evidence", f.evidence),
        ("fix", f.fix),
    ):
        if value is not None:
            properties[key] = safe_text(value)
    if f.references:
        properties["references"] = [safe_text(r) for r in f.references]
    if f.aliases:
        properties["aliases"] = [safe_text(a) for a in f.aliases]
    text = safe_text(f.message)
    if f.fix:
        text += f" Fix: {safe_text(f.fix)}"
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": sarif_level(f.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f, location["uri"])},
        "properties": properties,
    }


def sarif_log(report: Report, *, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log as plain data; paths relative to `root` (default: the working dir)."""
    base = Path(os.path.abspath(root if root is not None else Path.cwd()))
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    rule_ids = sorted(by_rule)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "wormsign",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(r, by_rule[r]) for r in rule_ids],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
        "results": [_result(f, report, base, index[f.rule_id]) for f in report.findings],
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "warning",
                        "message": {
                            "text": f"skipped {safe_text(s.target)}: {safe_text(s.reason)}"
                        },
                    }
                    for s in report.skipped
                ]
                + [{"level": "note", "message": {"text": safe_text(n)}} for n in report.notes],
            }
        ],
        "properties": {
            "fail_on": report.fail_on.label,
            "blocked": report.blocked,
            "packages": report.packages,
            "files_hashed": report.files_hashed,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report) -> str:
    """The report as SARIF 2.1.0 JSON text."""
    return json.dumps(sarif_log(report), indent=2) + "\n"
