"""Installed environments read as data: dist-info, egg-info, loose files, interpreters."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.errors import SourceError
from scanner.sources.environment import (
    collect_environment,
    environment_prefix,
    find_site_packages,
    interpreter_paths,
    parse_entry_points,
    parse_record,
    site_packages_of_interpreter,
)
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An environment with two real installed wheels, one egg-info and loose files."""
    sp = make_site_packages(tmp_path / "env")
    wheel = make_wheel(
        tmp_path,
        "Demo.Pkg",
        "1.2.3",
        {
            "demo_pkg/__init__.py": "VALUE = 1\n",
            "demo_pkg/data/table.csv": "a,b\n",
            "demo_helper.py": "X = 2\n",
            "Demo_Pkg-1.2.3.data/scripts/demo": "#!python\nprint('hi')\n",
        },
        dist_info_files={
            "entry_points.txt": "[console_scripts]\nDemo = demo_pkg:main\n\n"
            "[pytest11]\nplug = demo_pkg.plugin\n",
        },
    )
    install_wheel(wheel, sp)
    install_wheel(make_wheel(tmp_path, "other", "0.1", {"other/__init__.py": ""}), sp)
    egg = sp / "legacy-2.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 2.0\n\nbody\n")
    (egg / "installed-files.txt").write_text("../legacy/__init__.py\nPKG-INFO\n")
    (egg / "top_level.txt").write_text("legacy\n")
    (sp / "legacy").mkdir()
    (sp / "legacy" / "__init__.py").write_text("")
    (sp / "evil.pth").write_text("import os\n")
    (sp / "sitecustomize.py").write_text("")
    (sp / "stray").mkdir()
    (sp / "__pycache__").mkdir()
    return sp


def test_reads_dist_info_metadata_record_and_entry_points(site: Path) -> None:
    env = collect_environment(site)
    by_name = {d.name: d for d in env.distributions}
    assert set(by_name) == {"demo-pkg", "other", "legacy"}
    demo = by_name["demo-pkg"]
    assert demo.version == "1.2.3"
    assert demo.summary == "test package Demo.Pkg"
    assert demo.installer == "pip"
    assert demo.metadata_kind == "dist-info"
    assert demo.top_level == ("demo_helper.py", "demo_pkg")
    assert demo.record is not None and demo.record_error is None
    entry = next(e for e in demo.record if e.path == "demo_pkg/__init__.py")
    assert entry.size == len("VALUE = 1\n")
    assert entry.sha256 == hashlib.sha256(b"VALUE = 1\n").hexdigest()
    assert any(e.path == "../../../bin/demo" for e in demo.record)
    groups = {(e.group, e.name, e.value) for e in demo.entry_points}
    assert ("console_scripts", "Demo", "demo_pkg:main") in groups
    assert ("pytest11", "plug", "demo_pkg.plugin") in groups
    assert env.python_version == "3.11"


def test_reads_egg_info(site: Path) -> None:
    legacy = next(d for d in collect_environment(site).distributions if d.name == "legacy")
    assert legacy.metadata_kind == "egg-info"
    assert legacy.version == "2.0"
    assert legacy.top_level == ("legacy",)
    assert legacy.record is not None
    assert [e.path for e in legacy.record] == [
        "legacy/__init__.py",
        "legacy-2.0-py3.11.egg-info/PKG-INFO",
    ]


def test_loose_files_are_those_no_distribution_owns(site: Path) -> None:
    env = collect_environment(site)
    assert sorted(p.name for p in env.loose_files) == ["evil.pth", "sitecustomize.py", "stray"]


def test_malformed_record_is_reported_not_raised(site: Path, tmp_path: Path) -> None:
    record = next(site.glob("other-*.dist-info")) / "RECORD"
    record.write_text("other/__init__.py,sha256=notbase64!!,0\n")
    other = next(d for d in collect_environment(site).distributions if d.name == "other")
    assert other.record is None
    assert other.record_error is not None and "RECORD is malformed" in other.record_error
    # its top-level names come from nowhere now, so `other/` becomes loose
    record.unlink()
    other = next(d for d in collect_environment(site).distributions if d.name == "other")
    assert other.record is None and other.record_error == "RECORD is missing"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a.py,sha256=abc,1,extra\n", "4 fields"),
        ("a.py,md5=abc,1\n", "'md5'"),
        ("a.py,sha256=" + "A" * 43 + ",big\n", "not a number"),
        ("a.py,abc,1\n", "without an algorithm"),
        (",sha256=,1\n", "empty path"),
        ("a.py,sha256=" + "A" * 40 + ",1\n", "43 base64url"),
    ],
)
def test_parse_record_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_record(text)


def test_parse_record_accepts_hashless_rows_and_blank_lines() -> None:
    entries = parse_record("x/RECORD,,\n\nx/a.pyc,,\n")
    assert [(e.path, e.sha256, e.size) for e in entries] == [
        ("x/RECORD", None, None),
        ("x/a.pyc", None, None),
    ]


def test_entry_points_are_parsed_tolerantly() -> None:
    text = "stray = line\n[console_scripts]\nA = a:main\nbroken line\n[gui_scripts]\nB=b:run\n"
    eps = parse_entry_points(text)
    assert {(e.group, e.name) for e in eps} == {("console_scripts", "A"), ("gui_scripts", "B")}
    assert parse_entry_points("%(x)s = y\n[g]\nn = %(home)s\n")[0].value == "%(home)s"


def test_metadata_without_name_falls_back_to_directory(tmp_path: Path) -> None:
    sp = tmp_path / "site-packages"
    (sp / "Foo_Bar-3.0.dist-info").mkdir(parents=True)
    dist = collect_environment(sp).distributions[0]
    assert (dist.name, dist.version, dist.record_error) == ("foo-bar", "3.0", "RECORD is missing")


def test_missing_and_unreadable_directories_raise_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        collect_environment(tmp_path / "nope")
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    with pytest.raises(SourceError) as info:
        collect_environment(loop)
    assert str(loop) in info.value.diagnostics()
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0)
        try:
            with pytest.raises(SourceError, match="cannot list"):
                collect_environment(locked)
        finally:
            locked.chmod(0o755)


def test_symlinked_metadata_is_not_followed(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("Name: x\nVersion: 1\n")
    metadata = next(site.glob("other-*.dist-info")) / "METADATA"
    metadata.unlink()
    metadata.symlink_to(outside)
    with pytest.raises(SourceError, match="symbolic link"):
        collect_environment(site)


def test_symlinked_dist_info_directory_is_loose_not_read(site: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "ghost-1.0.dist-info"
    elsewhere.mkdir(parents=True)
    (elsewhere / "METADATA").write_text("Name: ghost\nVersion: 1.0\n")
    (site / "ghost-1.0.dist-info").symlink_to(elsewhere)
    env = collect_environment(site)
    assert "ghost" not in {d.name for d in env.distributions}
    assert site / "ghost-1.0.dist-info" in env.loose_files


def test_find_site_packages_layouts(site: Path, tmp_path: Path) -> None:
    venv_root = site.parents[2]
    assert find_site_packages(venv_root) == [site.resolve()]
    assert find_site_packages(site) == [site.resolve()]
    windows = tmp_path / "winenv"
    (windows / "Lib" / "site-packages").mkdir(parents=True)
    assert find_site_packages(windows) == [(windows / "Lib" / "site-packages").resolve()]
    with pytest.raises(SourceError, match="no site-packages"):
        find_site_packages(tmp_path / "winenv" / "Lib")
    assert environment_prefix(site) == site.parents[2]


def test_lib64_symlink_is_listed_once(site: Path) -> None:
    root = site.parents[2]
    (root / "lib64").symlink_to(root / "lib")
    assert find_site_packages(root) == [site.resolve()]


@pytest.fixture(scope="module")
def real_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    return root


def test_interpreter_probe_finds_the_venv_site_packages(real_venv: Path) -> None:
    python = real_venv / "bin" / "python"
    paths, version = interpreter_paths(python)
    expected = real_venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    assert paths == [expected / "site-packages"]
    assert version == ".".join(str(n) for n in sys.version_info[:3])


def test_interpreter_probe_does_not_run_pth_files(real_venv: Path, tmp_path: Path) -> None:
    python = real_venv / "bin" / "python"
    site = site_packages_of_interpreter(python)[0]
    marker = tmp_path / "MARKER"
    evil = site / "evil.pth"
    evil.write_text(f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')\n")
    try:
        # The canary is live: a normal start of this interpreter does run it.
        subprocess.run([str(python), "-c", "pass"], check=True, env={})
        assert marker.exists(), "canary .pth did not run under a normal start"
        marker.unlink()
        assert site_packages_of_interpreter(python) == [site]
        assert not marker.exists()
    finally:
        evil.unlink()


def test_interpreter_is_never_started(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        site_packages_of_interpreter(tmp_path / "python")
    marker = tmp_path / "MARKER"
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /nowhere\nversion = 3.11.2\n")
    fake = venv / "bin" / "python"
    fake.write_text(f'#!/bin/sh\ntouch {marker}\necho \'{{"paths": [], "version": "9"}}\'\n')
    fake.chmod(0o755)
    paths, version = interpreter_paths(fake)
    assert paths == [(venv / "lib" / "python3.11" / "site-packages").resolve()]
    assert version == "3.11.2"
    assert not marker.exists()
