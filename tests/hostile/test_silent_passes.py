"""Issue 17, items 3-6: inputs that used to pass silently.

A `.pth` with its code after 4 MiB of padding, symlinked lock and model files, a config
inside one target that switched checks off for all, and scans that read nothing (an
empty directory, /dev/stdin, a conda-only conda-lock) all passed with exit 0.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from scanner.cli import main
from tests.helpers.wheels import make_site_packages, make_wheel
from tests.hostile.canaries import pickle_exec_proto4


def scan(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["scan", "--no-cache", "--format", "json", *args], input=stdin)


def report_of(result: Result) -> dict[str, Any]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def rules(result: Result) -> set[str]:
    return {f["rule_id"] for f in report_of(result)["findings"]}


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wormsign: error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# -- item 3: a .pth is read whole --------------------------------------------------------


def test_pth_code_after_four_mib_of_padding_is_found(tmp_path: Path, tiny_osv: Path) -> None:
    root = tmp_path / "venv"
    site = make_site_packages(root)
    padding = "# padding\n" * (450_000)  # 4.5 MB of comment lines site skips
    (site / "zz_late.pth").write_text(
        padding + "import base64; exec(base64.b64decode('cHJpbnQoMSk='))\n"
    )
    result = scan("--db", str(tiny_osv), "--env", str(root))
    assert result.exit_code == 1, result.output
    assert "WS-PTH-001" in rules(result)


def test_a_pth_too_large_to_read_is_itself_a_finding(tmp_path: Path, tiny_osv: Path) -> None:
    root = tmp_path / "venv"
    site = make_site_packages(root)
    with (site / "huge.pth").open("wb") as fh:
        fh.truncate(40 << 20)  # sparse: 40 MiB of NULs
    result = scan("--db", str(tiny_osv), "--env", str(root))
    assert result.exit_code == 1, result.output
    assert "WS-PTH-001" in rules(result)


# -- item 4: symlinks inside a target are followed, the rest and limits reported ----------


def test_symlinked_files_inside_a_project_are_scanned(tmp_path: Path, tiny_osv: Path) -> None:
    project = tmp_path / "project"
    (project / "locks").mkdir(parents=True)
    (project / "locks" / "real.txt").write_text("evilpkg==1.0\n")
    (project / "requirements.txt").symlink_to("locks/real.txt")
    (project / "weights").mkdir()
    (project / "weights" / "real.bin").write_bytes(pickle_exec_proto4("print(1)"))
    (project / "model.pt").symlink_to("weights/real.bin")
    outside = tmp_path / "outside.txt"
    outside.write_text("requests==2.0.0\n")
    (project / "requirements-dev.txt").symlink_to(outside)
    result = scan("--db", str(tiny_osv), str(project))
    assert result.exit_code == 1, result.output
    report = report_of(result)
    paths = {f["path"] for f in report["findings"]}
    assert any(p and p.endswith("requirements.txt") for p in paths), paths
    assert any(p and p.endswith("model.pt") for p in paths), paths
    skipped = {s["target"]: s["reason"] for s in report["skipped"]}
    assert "outside" in skipped[str(project / "requirements-dev.txt")]


def test_the_depth_limit_is_reported(tmp_path: Path, tiny_osv: Path) -> None:
    project = tmp_path / "project"
    deep = project.joinpath(*[f"d{i}" for i in range(15)])
    deep.mkdir(parents=True)
    (deep / "requirements.txt").write_text("evilpkg==1.0\n")
    (project / "requirements.txt").write_text("click==8.1.7\n")
    result = scan("--db", str(tiny_osv), str(project))
    assert result.exit_code in (0, 1), result.output
    assert any("deeper than" in s["reason"] for s in report_of(result)["skipped"])


# -- item 5: a config inside one target never weakens the gate for the others -------------


def test_a_config_inside_a_target_does_not_switch_off_checks_for_others(
    tmp_path: Path, tiny_osv: Path
) -> None:
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    (quiet / "wormsign.toml").write_text("checks = []\n")
    (quiet / "requirements.txt").write_text("click==8.1.7\n")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "requirements.txt").write_text("evilpkg==1.0\n")
    result = scan("--db", str(tiny_osv), str(quiet), str(victim))
    assert result.exit_code == 1, result.output
    notes = " ".join(report_of(result)["notes"])
    assert "was not applied" in notes


def test_a_config_that_disables_checks_or_ignores_everything_is_noted(
    tmp_path: Path, tiny_osv: Path
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "wormsign.toml").write_text(
        'checks = ["lock"]\n\n[[ignore]]\nrule = "*"\nreason = "x"\nexpires = 2999-01-01\n'
    )
    (project / "requirements.txt").write_text("evilpkg==1.0\n")
    result = scan("--db", str(tiny_osv), str(project))
    notes = " ".join(report_of(result)["notes"])
    assert "disables checks" in notes and "advisories" in notes
    assert "ignores every finding" in notes


# -- item 6: nothing scanned is not a pass; stdin; wheels by name and version -------------


def test_an_empty_directory_is_not_a_pass(tmp_path: Path, tiny_osv: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = scan("--db", str(tiny_osv), str(empty))
    assert result.exit_code == 3
    assert "nothing to scan" in one_error_line(result)


def test_dev_stdin_is_refused_and_dash_reads_stdin(tmp_path: Path, tiny_osv: Path) -> None:
    read, write = os.pipe()
    os.write(write, b"requests==2.0.0\n")
    os.close(write)
    fd_path = f"/dev/fd/{read}"
    try:
        piped = scan("--db", str(tiny_osv), fd_path)
    finally:
        os.close(read)
    assert piped.exit_code == 3
    assert "regular file" in one_error_line(piped)
    dash = scan("--db", str(tiny_osv), "-", stdin="evilpkg==1.0\n")
    assert dash.exit_code == 1, dash.output
    assert report_of(dash)["summary"]["packages"] == 1
    empty = scan("--db", str(tiny_osv), "-", stdin="")
    assert empty.exit_code == 3


def test_a_conda_lock_with_only_conda_packages_is_not_a_pass(
    tmp_path: Path, tiny_osv: Path
) -> None:
    lock = tmp_path / "conda-lock.yml"
    lock.write_text(
        "version: 1\nmetadata:\n  content_hash:\n    linux-64: abc\n  channels:\n"
        "  - url: conda-forge\n    used_env_vars: []\n  platforms:\n  - linux-64\n"
        "  sources:\n  - environment.yml\npackage:\n- name: python\n  version: 3.12.1\n"
        "  manager: conda\n  platform: linux-64\n  dependencies: {}\n"
        "  url: https://conda.anaconda.org/conda-forge/linux-64/python-3.12.1.conda\n"
        "  hash:\n    md5: d7c89558ba9fa0495403155b64376d81\n"
        "  category: main\n  optional: false\n"
    )
    result = scan("--db", str(tiny_osv), str(lock))
    assert result.exit_code == 3, result.output
    assert "nothing to scan" in one_error_line(result)


def test_a_wheel_target_is_checked_against_advisories(tmp_path: Path, tiny_osv: Path) -> None:
    wheel = make_wheel(tmp_path, "evilpkg", "1.0", {"evilpkg/__init__.py": "x = 1\n"})
    result = scan("--db", str(tiny_osv), str(wheel))
    assert result.exit_code == 1, result.output
    refs = {r for f in report_of(result)["findings"] for r in f["references"]}
    assert "MAL-2099-1" in refs
