"""Issue 17, items 1-2: an interpreter that belongs to a scanned environment is never run.

`--python` and `wormsign run` resolve what the job's interpreter will import from by
reading files (pyvenv.cfg, the lib/pythonX.Y layout, the user site, PYTHONPATH, `.pth`
path lines, egg-links), never by starting it: a venv's pyvenv.cfg can point `home` at a
hostile stdlib that every start loads, whatever the flags.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scanner.cli import main
from tests.hostile.canaries import canary_wheel, fired, make_venv, payload

XY = f"{sys.version_info[0]}.{sys.version_info[1]}"
CLEAN_ENV = {"HOME": "/nonexistent-home", "PYTHONPATH": "", "PYTHONNOUSERSITE": ""}


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=env or CLEAN_ENV, catch_exceptions=False)


def findings(report: dict[str, Any]) -> set[tuple[str, str | None, str | None]]:
    return {(f["rule_id"], f["package"], f["path"]) for f in report["findings"]}


def hostile_stdlib(root: Path, markers: Path) -> Path:
    """A `home` whose lib/pythonX.Y holds an os.py landmark and an encodings that fires."""
    fire = f"import _io; _io.open({str(markers / 'hostile-stdlib')!r}, 'w').write('ran')\n"
    lib = root / "lib" / f"python{XY}"
    (lib / "encodings").mkdir(parents=True)
    (lib / "os.py").write_text(fire)
    (lib / "encodings" / "__init__.py").write_text(fire)
    (root / "bin").mkdir()
    return root / "bin"


@pytest.fixture
def hostile_venv(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(venv root, its python, markers): a venv whose pyvenv.cfg home is a hostile stdlib."""
    markers = tmp_path / "markers"
    markers.mkdir()
    wheel = canary_wheel(tmp_path, markers)
    venv = tmp_path / "venv"
    python = make_venv(venv, markers, wheel)
    home = hostile_stdlib(tmp_path / "evil-home", markers)
    cfg = venv / "pyvenv.cfg"
    lines = [ln for ln in cfg.read_text().splitlines() if not ln.startswith("home")]
    cfg.write_text("\n".join([f"home = {home}", *lines]) + "\n")
    return venv, python, markers


def test_hostile_stdlib_is_live(hostile_venv: tuple[Path, Path, Path]) -> None:
    """Control: starting that interpreter, even isolated and without site, runs the stdlib."""
    _venv, python, markers = hostile_venv
    subprocess.run(
        [str(python), "-I", "-S", "-c", "pass"], capture_output=True, timeout=60, check=False
    )
    assert "hostile-stdlib" in fired(markers)


def test_python_and_run_never_start_the_scanned_interpreter(
    hostile_venv: tuple[Path, Path, Path],
    tiny_osv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    venv, python, markers = hostile_venv

    def no_exec(*args: object) -> None:
        raise AssertionError("the gate passed: the command would have run")

    monkeypatch.setattr(os, "execv", no_exec)
    # An empty project as the target, so that no run walks the current directory.
    empty = tmp_path / "empty-project"
    empty.mkdir()
    base = ["--no-cache", "--db", str(tiny_osv), "--format", "json", str(empty)]
    by_env = invoke(["scan", *base, "--env", str(venv)])
    by_python = invoke(["scan", *base, "--python", str(python)])
    out = tmp_path / "run.json"
    by_run = invoke(["run", *base, "-o", str(out), "--", str(python), "-c", "pass"])
    assert fired(markers) == []
    assert by_env.exit_code == 1, by_env.output
    assert by_python.exit_code == 1, by_python.output
    assert by_run.exit_code == 1, by_run.output
    expected = findings(json.loads(by_env.stdout))
    assert any(rule.startswith("WS-") for rule, _p, _f in expected)
    assert findings(json.loads(by_python.stdout)) == expected
    assert findings(json.loads(out.read_text())) == expected


def fake_base_python(root: Path) -> tuple[Path, Path]:
    """A base installation (not a venv) whose `python` is a file that must never run."""
    lib = root / "lib" / f"python{XY}"
    (lib / "site-packages").mkdir(parents=True)
    (lib / "os.py").write_text("")
    (root / "bin").mkdir()
    python = root / "bin" / f"python{XY}"
    python.write_text(f"#!/bin/sh\ntouch {root / 'RAN'}\nexit 1\n")
    python.chmod(0o755)
    return python, lib / "site-packages"


def test_every_sys_path_entry_is_scanned(tmp_path: Path, tiny_osv: Path) -> None:
    """User site, PYTHONPATH, .pth path lines and egg-links: each holds a startup hook."""
    markers = tmp_path / "markers"
    markers.mkdir()
    python, site = fake_base_python(tmp_path / "base")
    home = tmp_path / "home"
    user_site = home / ".local" / "lib" / f"python{XY}" / "site-packages"
    user_site.mkdir(parents=True)
    (user_site / "zz_user.pth").write_text(payload(markers, "user-pth") + "\n")
    on_pythonpath = tmp_path / "pp"
    on_pythonpath.mkdir()
    (on_pythonpath / "sitecustomize.py").write_text(payload(markers, "pp") + "\n")
    by_pth = tmp_path / "added"
    by_pth.mkdir()
    (site / "extra.pth").write_text(f"# a comment\n{by_pth}\n")
    (by_pth / "usercustomize.py").write_text(payload(markers, "pth-dir") + "\n")
    dev = tmp_path / "dev"
    dev.mkdir()
    (site / "devpkg.egg-link").write_text(f"{dev}\n.\n")
    (dev / "sitecustomize.py").write_text(payload(markers, "egg-link") + "\n")
    env = {"HOME": str(home), "PYTHONPATH": str(on_pythonpath), "PYTHONNOUSERSITE": ""}
    args = ["--no-cache", "--db", str(tiny_osv), "--format", "json", "--python", str(python)]
    result = invoke(["scan", *args, str(markers)], env)
    assert not (tmp_path / "base" / "RAN").exists()
    assert result.exit_code == 1, result.output
    paths = {f["path"] for f in json.loads(result.stdout)["findings"]}
    for hook in (
        user_site / "zz_user.pth",
        on_pythonpath / "sitecustomize.py",
        by_pth / "usercustomize.py",
        dev / "sitecustomize.py",
    ):
        assert any(p and p.startswith(str(hook.resolve())) for p in paths), (hook, paths)
    assert fired(markers) == []


def test_a_venv_without_system_site_excludes_the_user_site(tmp_path: Path) -> None:
    from scanner.sources.syspath import resolve_sys_path

    venv = tmp_path / "v"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib" / f"python{XY}" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = /nowhere\nversion = {XY}.1\n")
    (venv / "bin" / "python").write_text("")
    home = tmp_path / "home"
    (home / ".local" / "lib" / f"python{XY}" / "site-packages").mkdir(parents=True)
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
    resolved = resolve_sys_path(venv / "bin" / "python", env)
    assert [e.why for e in resolved.entries] == ["site-packages of the virtualenv"]
    (venv / "pyvenv.cfg").write_text(
        f"home = /nowhere\nversion = {XY}.1\ninclude-system-site-packages = true\n"
    )
    whys = [e.why for e in resolve_sys_path(venv / "bin" / "python", env).entries]
    assert "user site" in whys
    assert "user site" not in [
        e.why
        for e in resolve_sys_path(venv / "bin" / "python", {**env, "PYTHONNOUSERSITE": "1"}).entries
    ]
