"""Which places a scan reads: DESIGN.md's "with no target of any kind, scan looks at the
current directory and the running interpreter's environment; with only --env/--python,
it scans just those"."""

from __future__ import annotations

import sys
import venv
from pathlib import Path

import pytest

from scanner.gate import check
from scanner.options import ScanOptions
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root holding its own .venv (one distribution) and a lock file."""
    root = tmp_path / "proj"
    root.mkdir()
    site = make_site_packages(root / ".venv")
    install_wheel(make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "X = 1\n"}), site)
    (root / "requirements.txt").write_text("click==8.1.7\n", encoding="utf-8")
    return root


@pytest.fixture
def small_python(tmp_path: Path) -> Path:
    """An interpreter whose environment is empty (a venv without pip): quick to scan."""
    venv.create(tmp_path / "small", with_pip=False, symlinks=True)
    return tmp_path / "small" / "bin" / "python"


def _options() -> ScanOptions:
    return ScanOptions(checks=frozenset({"integrity"}))


def test_env_only_scans_just_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    report = check(env_paths=[project / ".venv"], options=_options())
    assert report.targets == (str(project / ".venv"),)
    # the venv's files are counted once: the working directory (which holds it) is not walked
    alone = check([project / ".venv"], options=_options())
    assert report.files_hashed == alone.files_hashed > 0
    assert report.packages == 1  # the lock file in the working directory was not read


def test_python_only_scans_just_that_interpreter(
    project: Path, small_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    report = check(pythons=[small_python], options=_options())
    assert report.targets == (str(small_python),)
    assert report.packages == 0


def test_no_target_scans_the_directory_and_the_running_interpreter(
    project: Path, small_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "executable", str(small_python))
    report = check(options=_options())
    assert report.targets == (str(project), str(small_python))
    assert report.packages == 2  # the lock's click and the project's .venv's demo


def test_a_target_and_an_env_scan_both(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "requirements.txt").write_text("rich==13.0\n", encoding="utf-8")
    report = check([other], env_paths=[project / ".venv"], options=_options())
    assert report.targets == (str(other), str(project / ".venv"))
    assert report.packages == 2
