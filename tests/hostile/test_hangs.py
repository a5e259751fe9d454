"""Issue 17, items 8-9: FIFOs, devices and endless inputs never hang the gate or fill memory.

Each scan runs in a child process (`python -m scanner`), so a hang is a test failure
(the child is killed after a generous bound) rather than a stuck suite, and the peak
memory of the child is measured (`ru_maxrss` of the waited-for child).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HANG_BOUND_S = float(os.environ.get("WORMSIGN_TEST_HANG_BOUND_S", "180"))
MEMORY_BOUND = 500 << 20


def wormsign(*args: str, cwd: Path | None = None) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in bytes) of one CLI run in a child process."""
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", PYTHONNOUSERSITE="1")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scanner", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        killer = threading.Timer(HANG_BOUND_S, proc.kill)
        killer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        finally:
            killer.cancel()
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code == -signal.SIGKILL:
            pytest.fail(f"wormsign {' '.join(args)} hung")
        out.seek(0)
        err.seek(0)
        text_out = out.read().decode("utf-8", "replace")
        text_err = err.read().decode("utf-8", "replace")
    return code, text_out, text_err, usage.ru_maxrss * 1024


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wormsign: error: "), err
    return lines[0]


def report(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("name", ["requirements.txt", "uv.lock", "model.pt"])
def test_a_fifo_in_a_project_is_reported_not_read(
    tmp_path: Path, tiny_osv: Path, name: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements-base.txt").write_text("evilpkg==1.0\n")
    os.mkfifo(project / name)
    code, out, err, peak = wormsign(
        "scan", "--no-cache", "--format", "json", "--db", str(tiny_osv), str(project)
    )
    assert code == 1, err
    skipped = {s["target"]: s["reason"] for s in report(out)["skipped"]}
    assert "FIFO" in skipped[str(project / name)]
    assert peak < MEMORY_BOUND


@pytest.mark.parametrize("name", ["requirements.txt", "uv.lock", "model.pt"])
def test_a_fifo_as_a_target_is_refused(tmp_path: Path, tiny_osv: Path, name: str) -> None:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    code, _out, err, _peak = wormsign("scan", "--no-cache", "--db", str(tiny_osv), str(fifo))
    assert code == 3
    assert "FIFO" in one_line(err)


def test_a_fifo_as_record_or_db_does_not_hang(tmp_path: Path, tiny_osv: Path) -> None:
    from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel

    root = tmp_path / "venv"
    site = make_site_packages(root)
    install_wheel(make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"}), site)
    record = next(site.glob("demo-1.0.dist-info")) / "RECORD"
    record.unlink()
    os.mkfifo(record)
    code, _out, err, _peak = wormsign("scan", "--no-cache", "--db", str(tiny_osv), str(root))
    assert code in (1, 3), err
    assert "Traceback" not in err
    db = tmp_path / "osv.sqlite"
    os.mkfifo(db)
    lock = tmp_path / "requirements.txt"
    lock.write_text("click==8.1.7\n")
    code, _out, err, _peak = wormsign("scan", "--no-cache", "--db", str(db), str(lock))
    assert code == 3
    assert "FIFO" in one_line(err)


def test_dev_zero_as_a_lock_file_is_bounded(tmp_path: Path, tiny_osv: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("evilpkg==1.0\n")
    (project / "uv.lock").symlink_to("/dev/zero")
    code, out, err, peak = wormsign(
        "scan", "--no-cache", "--format", "json", "--db", str(tiny_osv), str(project)
    )
    assert code == 1, err
    assert str(project / "uv.lock") in {s["target"] for s in report(out)["skipped"]}
    target = tmp_path / "requirements.txt"
    target.symlink_to("/dev/zero")
    code, _out, err, peak2 = wormsign("scan", "--no-cache", "--db", str(tiny_osv), str(target))
    assert code == 3
    assert "character device" in one_line(err)
    assert max(peak, peak2) < MEMORY_BOUND


def test_a_python_that_prints_forever_is_never_run(tmp_path: Path, tiny_osv: Path) -> None:
    root = tmp_path / "venv"
    (root / "bin").mkdir(parents=True)
    (root / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (root / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.4\n")
    python = root / "bin" / "python"
    python.write_text("#!/bin/sh\nwhile :; do echo yes; done\n")
    python.chmod(0o755)
    empty = tmp_path / "requirements.txt"
    empty.write_text("click==8.1.7\n")
    code, _out, err, peak = wormsign(
        "scan", "--no-cache", "--db", str(tiny_osv), "--python", str(python), str(empty)
    )
    assert code in (0, 1), err
    assert peak < MEMORY_BOUND


def test_a_huge_db_update_source_is_refused_without_reading_it(tmp_path: Path) -> None:
    source = tmp_path / "osv.json"
    with source.open("wb") as fh:
        fh.write(b"[")
        fh.truncate(1 << 30)  # a sparse 1 GiB "JSON list"
    code, _out, err, peak = wormsign(
        "db", "update", "--source", str(source), "--db", str(tmp_path / "osv.sqlite")
    )
    assert code == 3
    one_line(err)
    assert peak < MEMORY_BOUND


def test_a_record_of_many_rows_is_reported_capped(tmp_path: Path, tiny_osv: Path) -> None:
    """Item 10: 100,000 RECORD rows whose files are missing are 50 findings and a count."""
    from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel

    root = tmp_path / "venv"
    site = make_site_packages(root)
    install_wheel(make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"}), site)
    record = next(site.glob("demo-1.0.dist-info")) / "RECORD"
    with record.open("a") as fh:
        fh.writelines(f"demo/gone_{i}.py,sha256={'A' * 43},1\n" for i in range(100_000))
    code, out, err, peak = wormsign(
        "scan", "--no-cache", "--format", "json", "--db", str(tiny_osv), str(root)
    )
    assert code in (0, 1), err
    missing = [f for f in report(out)["findings"] if f["rule_id"] == "WS-INT-010"]
    assert len(missing) == 51
    assert any(f["message"].startswith("99950 more WS-INT-010") for f in missing)
    assert len(out) < 1 << 20
    assert peak < MEMORY_BOUND
