"""The text report is quiet on success: one summary line; the table when blocked or -v."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.models import Finding, Severity, Skipped
from scanner.reporters.text import render_text, summary_line
from tests.helpers.wheels import install_wheel, make_wheel
from tests.reporters.conftest import make_report

H = "c" * 64


def _finding(severity: Severity, rule: str = "WS-TEST-001") -> Finding:
    return Finding(rule_id=rule, severity=severity, message="something", path="a/b.py", line=3)


def test_a_pass_is_one_line() -> None:
    report = make_report([_finding(Severity.MEDIUM), _finding(Severity.LOW, "WS-TEST-002")])
    text = render_text(report, verbose=False, elapsed=2.345)
    assert text.count("\n") == 1
    assert text.startswith("wormsign: passed (fail-on high): ")
    assert "2 findings (1 medium, 1 low)" in text and "in 2.3 s" in text
    assert "WS-TEST-001" not in text and "(-v for details)" in text


def test_verbose_or_blocked_shows_the_table() -> None:
    quiet = make_report([_finding(Severity.MEDIUM)], skipped=(Skipped("x.txt", "why"),))
    verbose = render_text(quiet, verbose=True)
    assert "WS-TEST-001" in verbose and "skipped: x.txt: why" in verbose
    blocked = render_text(make_report([_finding(Severity.HIGH)]), verbose=False)
    assert "WS-TEST-001" in blocked and "BLOCKED" in blocked


def test_a_clean_pass_has_no_hint() -> None:
    text = render_text(make_report([]), verbose=False)
    assert text.count("\n") == 1 and "-v" not in text


def test_the_summary_line_is_never_wrapped() -> None:
    findings = [_finding(s) for s in Severity if s < Severity.HIGH] * 3
    report = make_report(findings, notes=("a note",))
    line = summary_line(report, 12.0, detailed=False)
    assert len(line) > 60
    text = render_text(report, verbose=False, elapsed=12.0, width=60)
    assert text == line + "\n"


@pytest.fixture
def loose_lock(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(f"click==8.1.7 --hash=sha256:{H}\nrich>=13\n")
    return path


def test_scan_cli_is_quiet_on_a_pass_and_full_with_v(loose_lock: Path, tiny_osv: Path) -> None:
    base = ["scan", "--db", str(tiny_osv), str(loose_lock)]
    quiet = CliRunner().invoke(main, base)
    assert quiet.exit_code == 0
    assert quiet.stdout.count("\n") == 1 and "1 medium" in quiet.stdout
    assert "WS-LOCK-001" not in quiet.stdout
    full = CliRunner().invoke(main, [*base, "-v"])
    assert full.exit_code == 0 and "WS-LOCK-001" in full.stdout
    blocked = CliRunner().invoke(main, [*base, "--fail-on", "medium"])
    assert blocked.exit_code == 1 and "WS-LOCK-001" in blocked.stdout


def test_the_summary_line_counts_reused_verdicts(tmp_path: Path, tiny_osv: Path) -> None:
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    for name in ("one", "two"):
        wheel = make_wheel(tmp_path, name, "1.0", {f"{name}/__init__.py": "X = 1\n"})
        install_wheel(wheel, site)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    args = ["scan", "--env", str(venv), "--db", str(tiny_osv), "--check", "heuristics"]
    args += ["--cache-dir", str(tmp_path / "cache")]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "reused 0 of 2 verdicts" in first.stdout
    again = CliRunner().invoke(main, args)
    assert "reused 2 of 2 verdicts" in again.stdout
    assert again.stdout.count("\n") == 1
