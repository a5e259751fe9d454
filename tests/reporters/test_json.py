"""The JSON report is a contract other tools read (issue 3): keys, types, nulls, severities."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scanner import __version__
from scanner.models import Finding, Report, Severity, Skipped
from scanner.reporters import OutputFormat, renderer_for
from scanner.reporters.json_report import render_json
from tests.reporters.conftest import HOSTILE, every_severity, make_report

# The shape issue 3 fixes, and the additions made since (each needs this test updated, so a
# change to the contract is a decision, never an accident).
TOP_KEYS = {"schema_version", "tool", "targets", "summary", "findings", "skipped"}
TOP_ADDED = {"notes", "suppressed", "errors"}  # errors: issue 20
SUMMARY_KEYS = {"packages", "files_hashed", "findings", "blocked"}
SUMMARY_ADDED = {"fail_on", "suppressed", "incomplete"}
FINDING_TYPES: dict[str, tuple[type, ...]] = {
    "rule_id": (str,),
    "severity": (str,),
    "package": (str, type(None)),
    "version": (str, type(None)),
    "path": (str, type(None)),
    "line": (int, type(None)),
    "message": (str,),
    "evidence": (str, type(None)),
    "references": (list,),
    "fix": (str, type(None)),
    "remediation": (str, type(None)),
}
FINDING_ADDED = {"aliases"}


def load(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_json(report))
    return data


def test_contract_keys_and_types() -> None:
    report = make_report(
        every_severity(), skipped=(Skipped("req.txt:2", "unpinned"),), notes=("a note",)
    )
    data = load(report)
    assert set(data) == TOP_KEYS | TOP_ADDED
    assert data["schema_version"] == 2
    assert data["tool"] == {"name": "wormsign", "version": __version__}
    assert data["targets"] == ["requirements.txt"]
    summary = data["summary"]
    assert set(summary) == SUMMARY_KEYS | SUMMARY_ADDED
    assert isinstance(summary["packages"], int) and summary["packages"] == 3
    assert isinstance(summary["files_hashed"], int) and summary["files_hashed"] == 7
    assert summary["findings"] == {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 1}
    assert summary["blocked"] is True
    assert summary["fail_on"] == "high"
    for finding in data["findings"]:
        assert set(finding) == set(FINDING_TYPES) | FINDING_ADDED
        for key, types in FINDING_TYPES.items():
            assert isinstance(finding[key], types), (key, finding[key])
        assert finding["severity"] in {s.label for s in Severity}
        assert all(isinstance(r, str) for r in finding["references"])
    assert data["skipped"] == [{"target": "req.txt:2", "reason": "unpinned"}]
    assert data["notes"] == ["a note"]


def test_nulls_where_a_field_does_not_apply() -> None:
    data = load(make_report([Finding("R", Severity.INFO, "bare")]))
    f = data["findings"][0]
    assert (f["package"], f["version"], f["path"], f["line"], f["evidence"], f["fix"]) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )
    assert f["references"] == [] and f["severity"] == "info"
    assert data["summary"]["blocked"] is False


def test_every_severity_is_counted_even_at_zero() -> None:
    counts = load(make_report([]))["summary"]["findings"]
    assert counts == {s.label: 0 for s in Severity}
    assert list(counts) == ["critical", "high", "medium", "low", "info"]


def test_hostile_strings_round_trip() -> None:
    data = load(make_report([Finding("R", Severity.LOW, HOSTILE, path=HOSTILE)]))
    assert data["findings"][0]["message"] == HOSTILE  # JSON escapes, it does not rewrite


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_has_a_renderer(fmt: OutputFormat) -> None:
    render = renderer_for(fmt)
    text = render(make_report(every_severity()))
    assert isinstance(text, str) and text.endswith("\n")
    # A CycloneDX BOM lists advisories only (tests/reporters/test_cyclonedx.py).
    assert ("WS-TEST-HIGH" in text) is (fmt is not OutputFormat.CYCLONEDX)


def test_fix_is_a_version_and_the_prose_is_remediation() -> None:
    advisory = Finding(
        "WS-ADV-VULN",
        Severity.HIGH,
        "torch 2.5.1 is affected by PYSEC-2025-41",
        package="torch",
        version="2.5.1",
        fix="fixed in 2.6.0; upgrade to torch==2.6.0 (clears it)",
        fix_version="2.6.0",
    )
    prose_only = Finding("WS-PICKLE-002", Severity.HIGH, "a global", fix="review the file")
    first, second = load(make_report([advisory, prose_only]))["findings"]
    assert (first["fix"], first["remediation"]) == ("2.6.0", advisory.fix)
    assert (second["fix"], second["remediation"]) == (None, "review the file")
