"""Issue 17, items 7 and 11-15: a hostile source, include, output path or file name must
not empty the database, leak secrets, clobber files, inject terminal escapes, or be
accepted half-read.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scanner.checks.advisories.database import AdvisoryDatabase, import_records
from scanner.cli import main
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wormsign: error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def record(i: int) -> dict[str, object]:
    return {
        "id": f"PYSEC-2099-{i}",
        "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": f"pkg{i}"}, "versions": ["1.0"]}],
    }


def count(db: Path) -> int:
    with AdvisoryDatabase(db) as database:
        return database.status().records


# -- item 7: an update that loses most records is refused -------------------------------------


def test_a_mostly_malformed_or_much_smaller_source_keeps_the_old_database(
    tmp_path: Path,
) -> None:
    db = tmp_path / "osv.sqlite"
    import_records([record(i) for i in range(200)], db)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("PYSEC-2099-0.json", json.dumps(record(0)))
        for i in range(9):
            zf.writestr(f"broken-{i}.json", "{not json")
    result = invoke("db", "update", "--source", str(bad), "--db", str(db))
    assert result.exit_code == 3
    assert "malformed" in one_line(result)
    assert count(db) == 200
    small = tmp_path / "small"
    small.mkdir()
    for i in range(3):
        (small / f"r{i}.json").write_text(json.dumps(record(i)))
    result = invoke("db", "update", "--source", str(small), "--db", str(db))
    assert result.exit_code == 3
    assert "would replace 200 records with 3" in one_line(result)
    assert count(db) == 200


# -- item 11: includes that leave the project; no quoted secrets ----------------------------


def test_an_include_outside_the_project_is_refused_and_not_quoted(
    tmp_path: Path, tiny_osv: Path
) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("https://user:TOPSECRET-abc123@github.com\n")
    project = tmp_path / "project"
    project.mkdir()
    for include in (str(secret), "../credentials", "/proc/self/environ"):
        (project / "requirements.txt").write_text(f"click==8.1.7\n-r {include}\n")
        for fmt in ("text", "json", "sarif", "markdown"):
            result = invoke("scan", "--db", str(tiny_osv), "--format", fmt, str(project))
            assert result.exit_code == 3, result.output
            line = one_line(result)
            assert "line 2" in line and "outside the project" in line
            assert "TOPSECRET" not in result.output


# -- item 12: -o replaces only regular files --------------------------------------------------


def test_output_never_replaces_what_is_not_a_regular_file(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("click==8.1.7\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "report.json"
    link.symlink_to(victim)
    result = invoke("scan", "--offline", "--check", "lock", "-o", str(link), str(lock))
    assert result.exit_code == 3
    assert "symbolic link" in one_line(result)
    assert link.is_symlink() and victim.read_text() == "keep me\n"
    readonly = tmp_path / "ro.json"
    readonly.write_text("old\n")
    readonly.chmod(0o444)
    result = invoke("scan", "--offline", "--check", "lock", "-o", str(readonly), str(lock))
    assert result.exit_code == 3
    assert readonly.read_text() == "old\n"
    kept = tmp_path / "kept.json"
    kept.write_text("old\n")
    kept.chmod(0o640)
    result = invoke("scan", "--offline", "--check", "lock", "-o", str(kept), str(lock))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = invoke("scan", "--offline", "--check", "lock", "-o", str(fifo), str(lock))
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and b"passed" in got[0]
    # A terminal the user named is written in place. (A pty, never /dev/null: a failing
    # run as root would replace the system's /dev/null.)
    master, slave = os.openpty()
    try:
        tty = os.ttyname(slave)
        result = invoke("scan", "--offline", "--check", "lock", "-o", tty, str(lock))
        assert result.exit_code == 0, result.output
        assert stat.S_ISCHR(os.lstat(tty).st_mode)
        assert b"passed" in os.read(master, 1 << 16)
    finally:
        os.close(master)
        os.close(slave)


# -- item 13: an unwritable cache is exit 3 on one line ---------------------------------------


def test_db_update_into_an_unwritable_place_is_one_line_exit_3(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "r.json").write_text(json.dumps(record(1)))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = invoke("db", "update", "--source", str(source), "--db", str(blocker / "osv.sqlite"))
    assert result.exit_code == 3
    one_line(result)
    result = invoke(
        "db", "update", "--source", str(source), env={"HOME": str(blocker), "XDG_CACHE_HOME": ""}
    )
    assert result.exit_code == 3
    one_line(result)


# -- item 14: control characters never reach the terminal raw ---------------------------------


def test_file_names_with_terminal_escapes_are_escaped(tmp_path: Path, tiny_osv: Path) -> None:
    evil = tmp_path / "x\x1b]0;pwned\x07\x1b[2J.txt"
    evil.write_text("this is not a lock file at all {}\n")
    result = invoke("scan", "--db", str(tiny_osv), str(evil))
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b" in one_line(result)
    source = tmp_path / "src"
    source.mkdir()
    for i in range(3):
        (source / f"r{i}.json").write_text(json.dumps(record(i)))
    (source / "bad\x1b[31m\x07.json").write_text("{not json")
    db = tmp_path / "osv.sqlite"
    assert invoke("db", "update", "--source", str(source), "--db", str(db)).exit_code == 0
    status = invoke("db", "status", "-v", "--db", str(db))
    assert "bad" in status.stderr
    assert "\x1b" not in status.output and "\x07" not in status.output


# -- item 15: leftovers, duplicate RECORD rows, concatenated zips, run's 126 ------------------


def test_db_update_removes_what_a_killed_update_left(tmp_path: Path) -> None:
    db = tmp_path / "osv.sqlite"
    stale = tmp_path / ".osv.sqlite.k1ll3d.tmp"
    stale.write_bytes(b"\0" * 4096)
    (tmp_path / ".osv.sqlite.k1ll3d.tmp-wal").write_bytes(b"\0")
    source = tmp_path / "src"
    source.mkdir()
    (source / "r.json").write_text(json.dumps(record(1)))
    assert invoke("db", "update", "--source", str(source), "--db", str(db)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["osv.sqlite", "src"]


def test_a_duplicate_hashless_record_row_does_not_cancel_the_hash_check(
    tmp_path: Path, tiny_osv: Path
) -> None:
    root = tmp_path / "venv"
    site = make_site_packages(root)
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    install_wheel(wheel, site, prefix=root)
    (site / "demo" / "__init__.py").write_text("x = 2  # tampered\n")
    record_file = site / "demo-1.0.dist-info" / "RECORD"
    record_file.write_text(record_file.read_text() + "demo/__init__.py,,\n")
    result = invoke("scan", "--no-cache", "--db", str(tiny_osv), "--format", "json", str(root))
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    rules = {(f["rule_id"], f["message"].split(" ")[0]) for f in findings}
    assert ("WS-INT-001", "Installed") in rules
    assert any(f["rule_id"] == "WS-INT-003" and "more than once" in f["message"] for f in findings)


def test_a_concatenated_zip_is_reported(tmp_path: Path, tiny_osv: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    hidden = tmp_path / "hidden.zip"
    with zipfile.ZipFile(hidden, "w") as zf:
        zf.writestr("demo/__init__.py", "import os; os.system('id')\n")
    joined = tmp_path / "joined" / wheel.name
    joined.parent.mkdir()
    joined.write_bytes(hidden.read_bytes() + wheel.read_bytes())
    result = invoke("scan", "--no-cache", "--db", str(tiny_osv), str(joined))
    assert result.exit_code == 3, result.output
    assert "concatenated" in one_line(result)


def test_run_with_a_non_executable_command_is_126(tmp_path: Path, tiny_osv: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    result = invoke("run", "--db", str(tiny_osv), str(tmp_path), "--", str(script))
    assert result.exit_code == 126, result.output
    assert "not an executable" in one_line(result)


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
