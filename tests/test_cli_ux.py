"""The habits users bring from other tools (issue 20): hints for common mistakes, the
flags they reach for, one broken file that does not hide the rest of a project."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main

H = "c" * 64
REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_without_double_dash_suggests_the_line() -> None:
    code, _, err = invoke("run", "--fail-on", "low", "python", "-c", "print(1)")
    assert code == 2
    hint = [line for line in err.splitlines() if "after `--`" in line]
    assert len(hint) == 1
    suggested = hint[0].split(": ", 1)[1]
    assert shlex.split(suggested) == [
        *("wormsign", "run", "--fail-on", "low", "--"),
        *("python", "-c", "print(1)"),
    ]


def test_run_with_a_script_but_no_double_dash_suggests_the_line(tmp_path: Path) -> None:
    code, _, err = invoke("run", "torchrun", "train.py")
    assert code == 2
    assert "wormsign run -- torchrun train.py" in err


def test_run_with_a_bad_option_and_no_command_gives_no_hint() -> None:
    code, _, err = invoke("run", "--no-such-flag")
    assert code == 2
    assert "after `--`" not in err


def test_python_naming_a_non_interpreter_is_one_clear_line(tmp_path: Path) -> None:
    ls = Path("/bin/ls")
    if not ls.is_file():
        pytest.skip("no /bin/ls")
    code, out, err = invoke("scan", "--db", str(tmp_path), "--python", str(ls))
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("wormsign: error: /bin/ls: not a Python interpreter")
    assert "import" not in err and "sys.path" not in err


VULN = """{"id": "GHSA-aaaa-bbbb-cccc", "modified": "2026-01-01T00:00:00Z",
 "aliases": ["CVE-2099-1234"], "summary": "click runs the wrong thing",
 "database_specific": {"severity": "HIGH"},
 "affected": [{"package": {"ecosystem": "PyPI", "name": "click"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "8.1.8"}]}]}]}
"""
MAL = """{"id": "MAL-2099-1", "modified": "2026-01-01T00:00:00Z",
 "summary": "Malicious code in evilpkg (PyPI)",
 "affected": [{"package": {"ecosystem": "PyPI", "name": "evilpkg"}, "versions": ["1.0"]}]}
"""


@pytest.fixture
def osv(tmp_path: Path) -> Path:
    path = tmp_path / "osv"
    path.mkdir()
    (path / "GHSA-aaaa-bbbb-cccc.json").write_text(VULN)
    (path / "MAL-2099-1.json").write_text(MAL)
    return path


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """A project pinning a vulnerable click, with a broken test fixture in it."""
    root = tmp_path / "proj"
    (root / "tests" / "fixtures").mkdir(parents=True)
    (root / "requirements.txt").write_text(f"click==8.1.7 --hash=sha256:{H}\n")
    (root / "tests" / "fixtures" / "requirements-broken.txt").write_text("-r missing.txt\n")
    return root


def scan(osv: Path, *args: str) -> tuple[int, str, str]:
    return invoke("scan", "--db", str(osv), *args)


def test_dash_capital_v_prints_the_version() -> None:
    from scanner import __version__

    for flag in ("-V", "--version"):
        code, out, _ = invoke(flag)
        assert code == 0 and out.strip() == f"wormsign, version {__version__}"


def test_one_broken_file_in_a_walk_is_reported_and_the_rest_scanned(osv: Path, proj: Path) -> None:
    code, out, err = scan(osv, "--format", "json", str(proj))
    assert code == 3, err
    report = json.loads(out)
    assert report["summary"]["incomplete"] is True
    # The rest of the project was scanned: the vulnerable pin is reported.
    assert [f["rule_id"] for f in report["findings"]].count("WS-ADV-VULN") == 1
    (error,) = report["errors"]
    assert error["target"].endswith("tests/fixtures/requirements-broken.txt")
    assert "missing.txt" in error["reason"]
    # One line on stderr too, naming the file, as any input error does.
    assert err.count("\n") == 1
    assert err.startswith("wormsign: error: incomplete scan: ")
    assert "requirements-broken.txt" in err


def test_the_broken_file_is_in_the_text_and_sarif_reports(osv: Path, proj: Path) -> None:
    code, out, _ = scan(osv, str(proj))
    assert code == 3
    assert "error: " in out and "requirements-broken.txt" in out and "missing.txt" in out
    assert "click 8.1.7" in out
    assert out.splitlines()[-1].startswith("wormsign: INCOMPLETE")
    code, out, _ = scan(osv, "--format", "sarif", str(proj))
    assert code == 3
    invocation = json.loads(out)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    errors = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert len(errors) == 1 and "requirements-broken.txt" in errors[0]["message"]["text"]


def test_a_walk_of_nothing_but_broken_files_is_one_error_line(osv: Path, proj: Path) -> None:
    code, out, err = scan(osv, str(proj / "tests"))
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "missing.txt" in err


def test_a_named_broken_file_still_fails_on_one_line(osv: Path, proj: Path) -> None:
    broken = proj / "tests" / "fixtures" / "requirements-broken.txt"
    code, out, err = scan(osv, str(proj / "requirements.txt"), str(broken))
    assert code == 3 and out == "" and err.startswith("wormsign: error: ")


def test_exclude_passes_over_the_broken_fixture(osv: Path, proj: Path) -> None:
    for glob in ("tests/fixtures", "tests", "requirements-broken.txt", "tests/*"):
        code, out, _ = scan(osv, "--exclude", glob, "--format", "json", str(proj))
        assert code == 1, glob  # blocked by the high vulnerability, nothing unreadable
        assert json.loads(out)["errors"] == []


def test_exclude_never_drops_a_named_target(osv: Path, proj: Path) -> None:
    code, _, _ = scan(osv, "--exclude", "requirements.txt", str(proj / "requirements.txt"))
    assert code == 1


def test_the_config_exclude_key_is_applied_and_said(osv: Path, proj: Path) -> None:
    (proj / "wormsign.toml").write_text('exclude = ["tests/fixtures"]\n')
    code, out, _ = scan(osv, "--format", "json", str(proj))
    report = json.loads(out)
    assert code == 1 and report["errors"] == []
    assert any("excludes from project walks: tests/fixtures" in n for n in report["notes"])
    (proj / "wormsign.toml").write_text('exclude = "tests"\n')
    code, _, err = scan(osv, str(proj))
    assert code == 2 and "`exclude` must be a list of globs" in err


def test_quiet_prints_the_summary_line_alone_even_when_blocked(osv: Path, proj: Path) -> None:
    code, out, _ = scan(osv, "-q", "--exclude", "tests", str(proj))
    assert code == 1
    assert out.count("\n") == 1 and out.startswith("wormsign: BLOCKED")
    code, out, _ = scan(osv, "--quiet", str(proj))
    assert code == 3 and out.count("\n") == 1 and "1 could not be scanned" in out


def test_exit_zero_reports_but_does_not_fail(osv: Path, proj: Path) -> None:
    code, out, _ = scan(osv, "--exit-zero", "--exclude", "tests", str(proj))
    assert code == 0
    assert "GHSA-aaaa-bbbb-cccc" in out and "wormsign: BLOCKED" in out
    # An incomplete scan is never turned into a pass.
    code, _, _ = scan(osv, "--exit-zero", str(proj))
    assert code == 3


@pytest.mark.parametrize("vuln_id", ["GHSA-aaaa-bbbb-cccc", "cve-2099-1234"])
def test_ignore_vuln_suppresses_by_id_or_alias(osv: Path, proj: Path, vuln_id: str) -> None:
    args = ("--exclude", "tests", "--format", "json", str(proj))
    code, out, _ = scan(osv, "--ignore-vuln", vuln_id, *args)
    assert code == 0
    report = json.loads(out)
    assert report["findings"] == []
    (suppressed,) = report["suppressed"]
    assert suppressed["rule_id"] == "WS-ADV-VULN"
    assert f"--ignore-vuln {vuln_id}" in suppressed["reason"]
    assert report["summary"]["suppressed"] == 1


def test_ignore_vuln_of_another_id_changes_nothing_and_is_said_stale(osv: Path, proj: Path) -> None:
    args = ("--exclude", "tests", "--format", "json", str(proj))
    code, out, _ = scan(osv, "--ignore-vuln", "GHSA-zzzz-zzzz-zzzz", *args)
    assert code == 1
    report = json.loads(out)
    assert any("stale ignore" in n and "GHSA-zzzz-zzzz-zzzz" in n for n in report["notes"])


def test_ignore_vuln_never_ignores_a_malicious_package(osv: Path, tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"evilpkg==1.0 --hash=sha256:{H}\n")
    code, out, _ = scan(osv, "--ignore-vuln", "MAL-2099-1", "--format", "json", str(lock))
    assert code == 1
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["WS-ADV-MAL"]


def test_run_does_not_start_the_command_when_the_scan_is_incomplete(osv: Path, proj: Path) -> None:
    marker = proj / "ran"
    out = subprocess.run(
        [
            *(sys.executable, "-m", "scanner", "run", "--db", str(osv), "--ignore-vuln"),
            *("GHSA-aaaa-bbbb-cccc", "--env", sys.prefix, str(proj), "--check", "advisories"),
            *("--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=proj,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 3, out.stderr
    assert not marker.exists()
    assert out.stderr.splitlines()[-1].startswith("wormsign: error: incomplete scan: ")
    assert out.stderr.splitlines()[-1].endswith(f"; not running {sys.executable}")


def test_shell_completion_as_the_readme_documents_it() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_WORMSIGN_COMPLETE=bash_source wormsign)"' in readme
    env = {**os.environ, "PYTHONPATH": str(REPO), "_WORMSIGN_COMPLETE": "bash_complete"}
    env |= {"COMP_WORDS": "wormsign scan --ex", "COMP_CWORD": "2"}
    out = subprocess.run(
        [sys.executable, "-c", "from scanner.cli import main; main(prog_name='wormsign')"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "plain,--exclude" in out.stdout.splitlines()
    assert "plain,--exit-zero" in out.stdout.splitlines()


def test_the_readme_sample_report_fits_80_columns() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("$ COLUMNS=80 wormsign scan")
    block = readme[start : readme.index("```", start)].splitlines()[1:]
    assert any(line.startswith("wormsign: INCOMPLETE") for line in block)
    assert all(len(line) <= 80 for line in block if not line.startswith("wormsign: "))


def test_ignore_vuln_is_a_suppression_with_its_justification_in_sarif(
    osv: Path, proj: Path
) -> None:
    args = ("--exclude", "tests", "--format", "sarif", str(proj))
    code, out, _ = scan(osv, "--ignore-vuln", "CVE-2099-1234", *args)
    assert code == 0
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["ruleId"] == "GHSA-aaaa-bbbb-cccc"
    (suppression,) = result["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["justification"] == "--ignore-vuln CVE-2099-1234 on the command line"


@pytest.mark.parametrize("command", ["scan-index", "inventory"])
def test_every_command_maps_errors_the_same_way(tmp_path: Path, command: str) -> None:
    """A file the OS refuses is one line naming it, exit 3, from scan-index and inventory
    as from scan (common.exit_on_error)."""
    missing_dir = tmp_path / "no-such-dir" / "out.jsonl"
    if command == "scan-index":
        (tmp_path / "src").mkdir()
        args = ["scan-index", str(tmp_path / "src"), "--jsonl", str(missing_dir)]
    else:
        site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
        site.mkdir(parents=True)
        (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        args = ["inventory", "--env", str(tmp_path / "venv"), "--output", str(missing_dir)]
    args += ["--cache-dir", str(tmp_path / "cache")]
    code, _, err = invoke(*args)
    assert code == 3, err
    assert err.count("\n") == 1 and err.startswith("wormsign: error: ")
    assert "no-such-dir" in err and "Traceback" not in err
