"""Findings the config ignores are reported as suppressed, not dropped (issue 20): SARIF
carries them with an external suppression and the ignore's reason, so code scanning
dismisses the alert instead of closing it as fixed; every report counts them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.models import Finding, Report, Severity, Suppression
from scanner.reporters.sarif import sarif_log
from tests.reporters.test_sarif import assert_valid

CONFIG = """
[[ignore]]
rule = "WS-LOCK-003"
reason = "hashes come with the next lock refresh"
expires = 2099-01-01
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text("rich>=13\nclick==8.1.7\n", encoding="utf-8")
    (tmp_path / "wormsign.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def scan(fmt: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["scan", "--check", "lock", "--fail-on", "critical", "--format", fmt, "requirements.txt"],
    )
    assert result.exit_code == 0, result.output + result.stderr
    return result.exit_code, result.stdout


def test_sarif_keeps_ignored_findings_as_suppressed(project: Path, sarif_validator: Any) -> None:
    _, out = scan("sarif")
    data = json.loads(out)
    assert_valid(sarif_validator, data)
    run = data["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == {"WS-LOCK-001", "WS-LOCK-003"}
    assert "suppressions" not in by_rule["WS-LOCK-001"]
    (suppression,) = by_rule["WS-LOCK-003"]["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["justification"] == "hashes come with the next lock refresh"
    assert "ignore #1 (rule=WS-LOCK-003)" in suppression["properties"]["entry"]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules[by_rule["WS-LOCK-003"]["ruleIndex"]] == "WS-LOCK-003"
    assert run["properties"]["suppressed"] == 1


def test_every_report_counts_them(project: Path) -> None:
    _, out = scan("json")
    data = json.loads(out)
    assert data["summary"]["suppressed"] == 1
    assert [f["rule_id"] for f in data["findings"]] == ["WS-LOCK-001"]
    (ignored,) = data["suppressed"]
    assert ignored["rule_id"] == "WS-LOCK-003"
    assert ignored["reason"] == "hashes come with the next lock refresh"
    assert ignored["suppressed_by"].startswith("ignore #1")
    _, text = scan("text")
    assert ", 1 suppressed" in text.rstrip().splitlines()[-1]  # then the time
    _, markdown = scan("markdown")
    assert "1 suppressed by policy" in markdown
    assert "### Suppressed by policy (1)" in markdown
    assert "hashes come with the next lock refresh" in markdown


def test_nothing_suppressed_says_nothing_about_it(project: Path) -> None:
    (project / "wormsign.toml").unlink()
    _, text = scan("text")
    assert "suppressed" not in text
    _, out = scan("json")
    assert json.loads(out)["summary"]["suppressed"] == 0


def test_a_suppressed_advisory_keeps_its_advisory_rule(sarif_validator: Any) -> None:
    finding = Finding(
        "WS-ADV-VULN",
        Severity.HIGH,
        "torch 2.4.0 is affected by GHSA-aaaa-aaaa-aaaa: torch.load runs code",
        package="torch",
        version="2.4.0",
        path="requirements.txt",
        references=("GHSA-aaaa-aaaa-aaaa",),
    )
    report = Report(
        targets=("requirements.txt",),
        findings=(),
        skipped=(),
        fail_on=Severity.HIGH,
        packages=1,
        files_hashed=0,
        suppressed=(Suppression(finding, "not reachable: we never call torch.load", "ignore #1"),),
    )
    data = sarif_log(report)
    assert_valid(sarif_validator, data)
    run = data["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["GHSA-aaaa-aaaa-aaaa"]
    (result,) = run["results"]
    assert result["ruleId"] == "GHSA-aaaa-aaaa-aaaa"
    assert result["suppressions"][0]["justification"] == "not reachable: we never call torch.load"
