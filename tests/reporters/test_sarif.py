"""SARIF 2.1.0: valid against the OASIS schema, and shaped the way GitHub code scanning reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.models import Finding, Severity, Skipped
from scanner.reporters.sarif import SECURITY_SEVERITY, render_sarif, sarif_level
from tests.reporters.conftest import HOSTILE, every_severity, make_report


def sarif(report: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sarif(report))
    return data


def assert_valid(validator: Any, data: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_every_severity_is_valid_and_mapped(sarif_validator: Any) -> None:
    data = sarif(make_report(every_severity()))
    assert_valid(sarif_validator, data)
    run = data["runs"][0]
    assert data["version"] == "2.1.0"
    driver = run["tool"]["driver"]
    assert driver["name"] == "wormsign" and driver["version"] and driver["informationUri"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {f.rule_id for f in every_severity()}
    expected = {
        "WS-TEST-CRIT": ("9.5", "error"),
        "WS-TEST-HIGH": ("8.0", "error"),
        "WS-LOCK-001": ("5.5", "warning"),
        "WS-TEST-LOW": ("3.0", "note"),
        "WS-TEST-INFO": ("0.0", "note"),
    }
    for rule_id, (score, level) in expected.items():
        rule = rules[rule_id]
        assert rule["properties"]["security-severity"] == score
        assert float(rule["properties"]["security-severity"]) == float(score)
        assert rule["defaultConfiguration"]["level"] == level
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {k: v[1] for k, v in expected.items()}
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_every_severity_has_a_score_and_a_level() -> None:
    for sev in Severity:
        assert 0.0 <= SECURITY_SEVERITY[sev] <= 10.0
        assert sarif_level(sev) in ("error", "warning", "note")


def test_empty_report_is_valid(sarif_validator: Any) -> None:
    data = sarif(make_report([]))
    assert_valid(sarif_validator, data)
    assert data["runs"][0]["results"] == []
    assert data["runs"][0]["tool"]["driver"]["rules"] == []


def test_locations(tmp_path: Path, sarif_validator: Any) -> None:
    inside = tmp_path / "env" / "lib" / "x.py"
    findings = [
        Finding("R1", Severity.HIGH, "relative with line", path="requirements.txt", line=4),
        Finding("R2", Severity.HIGH, "needs escaping", path="sub dir/req #1.txt", line=2),
        Finding("R3", Severity.HIGH, "absolute outside", path="/opt/site-packages/a b.py"),
        Finding("R4", Severity.HIGH, "absolute inside the working dir", path=str(inside)),
        Finding("R5", Severity.HIGH, "no path: anchored at the target"),
        Finding("R6", Severity.HIGH, "parent dir", path="../elsewhere/uv.lock", line=9),
    ]
    data = sarif(make_report(findings, targets=("proj/uv.lock",)))
    assert_valid(sarif_validator, data)
    run = data["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    phys = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in run["results"]}
    assert phys["R1"] == {
        "artifactLocation": {"uri": "requirements.txt", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 4},
    }
    assert phys["R2"]["artifactLocation"]["uri"] == "sub%20dir/req%20%231.txt"
    assert phys["R3"] == {"artifactLocation": {"uri": "file:///opt/site-packages/a%20b.py"}}
    assert phys["R4"]["artifactLocation"] == {"uri": "env/lib/x.py", "uriBaseId": "%SRCROOT%"}
    assert "region" not in phys["R4"]
    assert phys["R5"]["artifactLocation"] == {"uri": "proj/uv.lock", "uriBaseId": "%SRCROOT%"}
    assert (
        phys["R6"]["artifactLocation"]["uri"]
        == (tmp_path.parent / "elsewhere" / "uv.lock").as_uri()
    )
    assert all(len(r["locations"]) == 1 for r in run["results"])  # GitHub needs one


def test_fingerprints_are_stable_and_distinct() -> None:
    report = make_report(every_severity())
    first = [r["partialFingerprints"] for r in sarif(report)["runs"][0]["results"]]
    second = [r["partialFingerprints"] for r in sarif(report)["runs"][0]["results"]]
    assert first == second
    values = [fp["wormsign/v1"] for fp in first]
    assert len(set(values)) == len(values)
    moved = Finding(
        "WS-LOCK-001",
        Severity.MEDIUM,
        "rich is not pinned",
        package="rich",
        path="other/requirements.txt",
        line=2,
    )
    fp_moved = sarif(make_report([moved]))["runs"][0]["results"][0]["partialFingerprints"]
    assert fp_moved["wormsign/v1"] not in values
    # The line is not part of it: adding a line above a pin must not make a new alert.
    shifted = Finding(
        "WS-LOCK-001",
        Severity.MEDIUM,
        "rich is not pinned",
        package="rich",
        path="sub dir/requirements #1.txt",
        line=3,
        evidence="rich>=13",
    )
    fp_shifted = sarif(make_report([shifted]))["runs"][0]["results"][0]["partialFingerprints"]
    assert fp_shifted == first[2]


def test_properties_carry_package_evidence_fix_references() -> None:
    result = sarif(make_report(every_severity()))["runs"][0]["results"]
    crit = next(r for r in result if r["ruleId"] == "WS-TEST-CRIT")
    assert crit["properties"]["package"] == "torch"
    assert crit["properties"]["version"] == "2.4.0+cu121"
    assert crit["properties"]["evidence"] == "sha256 aaaa != bbbb"
    assert crit["properties"]["references"] == ["MAL-2024-1", "https://osv.dev/MAL-2024-1"]
    high = next(r for r in result if r["ruleId"] == "WS-TEST-HIGH")
    assert high["properties"]["fix"] == "upgrade to 2.6.4"
    assert "fix" not in crit["properties"]
    rules = sarif(make_report(every_severity()))["runs"][0]["tool"]["driver"]["rules"]
    assert next(r for r in rules if r["id"] == "WS-TEST-CRIT")["helpUri"] == (
        "https://osv.dev/MAL-2024-1"
    )


def test_hostile_strings_stay_inert(sarif_validator: Any) -> None:
    hostile = Finding(
        "WS-TEST-HIGH",
        Severity.HIGH,
        HOSTILE,
        package=HOSTILE,
        version=HOSTILE,
        path=f"dir/{HOSTILE}.txt",
        line=1,
        evidence=HOSTILE,
        fix=HOSTILE,
        references=(HOSTILE,),
    )
    report = make_report([hostile], skipped=(Skipped(HOSTILE, HOSTILE),), notes=(HOSTILE,))
    text = render_sarif(report)
    data = json.loads(text)
    assert_valid(sarif_validator, data)

    def strings(node: Any) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [s for v in node.values() for s in strings(v)]
        if isinstance(node, list):
            return [s for v in node for s in strings(v)]
        return []

    for s in strings(data):
        assert "\n::" not in s and "\r" not in s and "\x1b" not in s and "\x00" not in s, s
    uri = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert all(c not in uri["uri"] for c in " \r\n\x1b|<>`")


def test_skipped_and_notes_become_notifications(sarif_validator: Any) -> None:
    report = make_report(
        [], skipped=(Skipped("req.txt:3", "unpinned entry"),), notes=("database is 40 days old",)
    )
    data = sarif(report)
    assert_valid(sarif_validator, data)
    notes = data["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [
        "skipped req.txt:3: unpinned entry",
        "database is 40 days old",
    ]
