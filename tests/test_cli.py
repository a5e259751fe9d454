"""The command-line contract: exit codes, one-line errors, reports written whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main

H = "c" * 64


@pytest.fixture(autouse=True)
def _db(tiny_osv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.test_cli.DB", str(tiny_osv))


DB = ""


def run(*args: str) -> tuple[int, str, str]:
    argv = list(args)
    if argv and argv[0] == "scan" and DB:
        argv[1:1] = ["--db", DB]
    result = CliRunner().invoke(main, argv)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def clean_lock(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(f"click==8.1.7 --hash=sha256:{H}\n")
    return path


@pytest.fixture
def loose_lock(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(f"click==8.1.7 --hash=sha256:{H}\nrich>=13\n")
    return path


def test_clean_scan_exits_0(clean_lock: Path) -> None:
    code, out, _ = run("scan", str(clean_lock))
    assert code == 0, out
    assert "passed" in out


def test_findings_at_fail_on_exit_1(loose_lock: Path) -> None:
    assert run("scan", str(loose_lock))[0] == 0  # medium < default fail-on high
    code, out, _ = run("scan", "--fail-on", "medium", "--format", "json", str(loose_lock))
    assert code == 1
    report = json.loads(out)
    assert report["summary"]["blocked"] is True
    finding = report["findings"][0]
    assert (finding["rule_id"], finding["severity"], finding["package"], finding["line"]) == (
        "WS-LOCK-001",
        "medium",
        "rich",
        2,
    )
    assert report["skipped"][0]["target"].endswith("requirements.txt:2")


def test_json_contract(clean_lock: Path) -> None:
    code, out, _ = run("scan", "--format", "json", str(clean_lock))
    report = json.loads(out)
    assert code == 0
    assert report["schema_version"] == 2
    assert report["tool"]["name"] == "wormsign"
    assert set(report) >= {"schema_version", "tool", "targets", "summary", "findings", "skipped"}
    assert set(report["summary"]) >= {"packages", "files_hashed", "findings", "blocked"}
    assert report["summary"]["findings"] == {
        "critical": 0,
        "high": 0,
        "medium": 0,
        "low": 0,
        "info": 0,
    }
    assert report["summary"]["packages"] == 1


def test_malformed_lock_exits_3_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "requirements.txt"
    bad.write_text("click==8.1.7 --hash=sha256:nothex\n")
    code, out, err = run("scan", str(bad))
    assert code == 3
    assert out == ""
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1
    assert str(bad) in lines[0] and "Traceback" not in err


def test_unknown_lock_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "weird.lock"
    bad.write_bytes(b"\x00\x01\x02 garbage")
    code, _, err = run("scan", str(bad))
    assert code == 3
    assert "not a lock or requirements file" in err


def test_usage_errors_exit_2(tmp_path: Path, clean_lock: Path) -> None:
    assert run("scan", str(tmp_path / "missing.txt"))[0] == 2
    assert run("scan", "--fail-on", "sometimes", str(clean_lock))[0] == 2
    assert run("scan", "--format", "xml", str(clean_lock))[0] == 2


def test_output_is_written_atomically(tmp_path: Path, clean_lock: Path) -> None:
    out = tmp_path / "report.json"
    code, stdout, _ = run("scan", "--format", "json", "--output", str(out), str(clean_lock))
    assert code == 0 and stdout == ""
    assert json.loads(out.read_text())["schema_version"] == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_failed_scan_leaves_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous")
    bad = tmp_path / "requirements.txt"
    bad.write_text("-r missing.txt\n")
    code, _, _ = run("scan", "--format", "json", "--output", str(out), str(bad))
    assert code == 3
    assert out.read_text() == "previous"


def test_known_malicious_pin_blocks(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"evilpkg==1.0 --hash=sha256:{H}\n")
    code, out, _ = run("scan", "--format", "json", str(lock))
    assert code == 1
    finding = json.loads(out)["findings"][0]
    assert (finding["rule_id"], finding["severity"], finding["references"][0]) == (
        "WS-ADV-MAL",
        "critical",
        "MAL-2099-1",
    )


def test_missing_database_fails_closed(clean_lock: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.test_cli.DB", "")
    code, out, err = run("scan", str(clean_lock))
    assert code == 3
    assert out == ""
    assert "no advisory database" in err and "wormsign db update" in err


def test_python_dash_m_is_the_same_program(clean_lock: Path, tiny_osv: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            "--db",
            str(tiny_osv),
            "--format",
            "json",
            str(clean_lock),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["blocked"] is False


def test_control_characters_in_paths_are_escaped(tmp_path: Path) -> None:
    weird = tmp_path / "evil\x1b[31m"
    weird.mkdir()
    lock = weird / "requirements.txt"
    lock.write_text("rich>=13\n")
    code, out, _ = run("scan", "--fail-on", "medium", str(lock))
    assert code == 1
    assert "\x1b" not in out
