"""The JSON report: a contract other tools read. Bump SCHEMA_VERSION on any breaking change."""

from __future__ import annotations

import json
from typing import Any

from scanner import __version__
from scanner.models import Finding, Report

SCHEMA_VERSION = 2
"""2: `fix` is a version (the smallest that clears every advisory of the package, or
null), the prose moved to `remediation` (issue 20)."""


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """One finding in the report's stable shape (null where a field does not apply)."""
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.label,
        "package": f.package,
        "version": f.version,
        "path": f.path,
        "line": f.line,
        "message": f.message,
        "evidence": f.evidence,
        "references": list(f.references),
        "aliases": list(f.aliases),
        "fix": f.fix_version,
        "remediation": f.fix,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The whole report as plain data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "wormsign", "version": __version__},
        "targets": list(report.targets),
        "summary": {
            "packages": report.packages,
            "files_hashed": report.files_hashed,
            "findings": report.counts(),
            "fail_on": report.fail_on.label,
            "blocked": report.blocked,
            "incomplete": report.incomplete,
            "suppressed": len(report.suppressed),
        },
        "findings": [finding_to_dict(f) for f in report.findings],
        "suppressed": [
            {**finding_to_dict(s.finding), "reason": s.reason, "suppressed_by": s.entry}
            for s in report.suppressed
        ],
        "skipped": [{"target": s.target, "reason": s.reason} for s in report.skipped],
        "errors": [{"target": s.target, "reason": s.reason} for s in report.errors],
        "notes": list(report.notes),
    }


def render_json(report: Report) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False) + "\n"
