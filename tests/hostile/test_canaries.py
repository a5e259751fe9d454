"""Never execute scanned code: canaries that leave a marker if anything runs them.

Every scan kind (lock sources, integrity, advisories, heuristics, models,
provenance, metadata, all at once, `--python`, `--env`, direct targets and
`wormsign run`) must leave the markers directory empty. `test_canaries_are_live`
first proves each canary does fire when run the way an installer, an interpreter
or a loader would run it.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from tests.hostile.canaries import World, build_world, fired, payload, source_tree

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One hostile world per module (the venv costs a few seconds)."""
    built = build_world(tmp_path_factory.mktemp("canary-world"))
    yield built
    assert fired(built.markers) == [], "a canary fired during the module's scans"


@pytest.fixture(autouse=True)
def _markers_stay_empty(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "world" in request.fixturenames:
        w: World = request.getfixturevalue("world")
        assert fired(w.markers) == []


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=60, check=False)


def test_canaries_are_live(tmp_path: Path) -> None:
    """Run each canary as its real trigger would; every marker appears."""
    w = build_world(tmp_path)
    clean_env = {"PATH": os.environ.get("PATH", "")}
    # The interpreter runs .pth files and sitecustomize at start.
    _run([str(w.venv_python), "-c", "pass"], tmp_path, clean_env)
    # Importing the package, running its console script module.
    _run([str(w.venv_python), "-c", "import canarypkg"], tmp_path, clean_env)
    # Unpickling: plain pickles, the torch zip's data.pkl, runpy.run_module.
    loader = (
        "import pickle, sys, zipfile\n"
        "for p in sys.argv[1:]:\n"
        "    data = open(p, 'rb').read()\n"
        "    if data[:2] == b'PK':\n"
        "        data = zipfile.ZipFile(p).read('archive/data.pkl')\n"
        "    try:\n"
        "        pickle.loads(data)\n"
        "    except Exception:\n"
        "        pass\n"
    )
    _run([str(w.venv_python), "-c", loader, *map(str, w.models)], tmp_path, clean_env)
    # setup.py (top level and cmdclass) and the in-tree build backend, in a tree like the
    # project's but without its shadowing modules (they break setuptools' own imports).
    tree = source_tree(tmp_path / "tree", w.markers)
    _run(
        [sys.executable, "setup.py", "-q", "install", "--root", str(tmp_path / "root")],
        tree,
        clean_env,
    )
    _run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, '.'); "
            "import canary_backend; canary_backend.build_wheel('.')",
        ],
        w.project,
        clean_env,
    )
    # Python with the project directory on sys.path imports the shadowing modules.
    _run([sys.executable, "-c", "import click"], w.project, clean_env)
    assert set(fired(w.markers)) >= {
        "loose-pth",
        "canarypkg-pth",
        "canarypkg-sitecustomize",
        "canarypkg-import",
        "pickle",
        "torch-zip",
        "legacy-pth",
        "joblib",
        "canarypkg-main",
        "setup-py-toplevel",
        "setup-py-cmdclass",
        "build-backend",
        "shadow-click",
    }


def _db_args(tiny_osv: Path) -> list[str]:
    return ["--db", str(tiny_osv), "--format", "json"]


def _report(out: str) -> dict[str, object]:
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def _rule_ids(out: str) -> set[str]:
    findings = _report(out)["findings"]
    assert isinstance(findings, list)
    return {str(f["rule_id"]) for f in findings}


@pytest.mark.usefixtures("every_check")
def test_lock_sources(world: World, tiny_osv: Path) -> None:
    code, out, err = invoke(
        "scan",
        *_db_args(tiny_osv),
        "--check",
        "lock",
        str(world.project / "requirements.txt"),
        str(world.project / "uv.lock"),
    )
    assert code in (0, 1), err
    _report(out)


def test_each_check_over_the_project(
    world: World,
    tiny_osv: Path,
    cache_dir: Path,
    every_check: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The project walk (venv, wheels, sdist, models, locks) once per check."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_dir))
    seen: dict[str, int] = {}
    for name in sorted(every_check):
        code, out, err = invoke("scan", *_db_args(tiny_osv), "--check", name, str(world.project))
        assert code in (0, 1), f"{name}: {err}"
        _report(out)
        seen[name] = code
        assert fired(world.markers) == [], f"check {name} ran a canary"
    # The scans judged the canaries, not just survived them.
    assert seen.get("advisories") == 1  # evilpkg==1.0 is known malicious


@pytest.mark.usefixtures("every_check")
def test_all_checks_over_environment_via_python(world: World, tiny_osv: Path) -> None:
    """`--python venv/bin/python`: the interpreter runs, but without site (no .pth)."""
    code, out, err = invoke(
        "scan",
        *_db_args(tiny_osv),
        "--python",
        str(world.venv_python),
        str(world.project / "requirements.txt"),
    )
    assert code == 1, err
    assert any(rid.startswith("WS-ADV") for rid in _rule_ids(out))


@pytest.mark.usefixtures("every_check")
def test_all_checks_over_environment_via_env(world: World, tiny_osv: Path) -> None:
    # A target is named: with none, scan would also walk the current directory.
    code, out, err = invoke(
        "scan",
        *_db_args(tiny_osv),
        "--env",
        str(world.venv),
        str(world.project / "requirements.txt"),
    )
    assert code == 1, err
    _report(out)


@pytest.mark.usefixtures("every_check")
def test_distributions_and_models_as_targets(world: World, tiny_osv: Path) -> None:
    code, out, err = invoke(
        "scan",
        *_db_args(tiny_osv),
        str(world.wheel),
        str(world.evil_wheel),
        str(world.sdist),
        *map(str, world.models),
    )
    assert code == 1, err
    ids = _rule_ids(out)
    assert ids, "the canaries went unnoticed"


@pytest.mark.usefixtures("every_check")
def test_models_are_judged_not_loaded(
    world: World, tiny_osv: Path, every_check: dict[str, str]
) -> None:
    if "models" not in every_check:
        pytest.skip("no model check in this build")
    code, out, err = invoke(
        "scan", *_db_args(tiny_osv), "--check", "models", *map(str, world.models)
    )
    assert code == 1, err
    findings = _report(out)["findings"]
    assert isinstance(findings, list)
    flagged = {Path(str(f["path"]).split("!")[0]).name for f in findings}
    assert {m.name for m in world.models} <= flagged


@pytest.mark.usefixtures("every_check")
def test_provenance_offline(world: World, tiny_osv: Path) -> None:
    code, out, err = invoke(
        "scan",
        *_db_args(tiny_osv),
        "--check",
        "provenance",
        str(world.wheel),
        str(world.sdist),
        str(world.project / "requirements.txt"),
    )
    assert code in (0, 1, 3), err
    if code == 3:
        assert len(err.strip().splitlines()) == 1
    else:
        _report(out)


@pytest.mark.usefixtures("every_check")
def test_run_blocked_never_runs_the_command(world: World, tiny_osv: Path) -> None:
    """`wormsign run` scans the venv's interpreter; blocked, so neither it nor COMMAND runs."""
    command = [str(world.venv_python), "-c", payload(world.markers, "run-command")]
    code, _out, err = invoke("run", "--db", str(tiny_osv), str(world.project), "--", *command)
    assert code == 1, err
    assert "blocked" in err
    assert not (world.markers / "run-command").exists()


def test_real_subprocess_from_inside_the_project(
    world: World, tiny_osv: Path, cache_dir: Path
) -> None:
    """`python -m scanner` started in the hostile checkout: its cwd shadows no module.

    The project holds click.py, rich.py, packaging.py and platformdirs.py; Python puts
    the current directory first on sys.path for `-m`, so the program must not keep it.
    """
    env = {
        "PATH": os.environ.get("PATH", ""),
        "XDG_CACHE_HOME": str(cache_dir),
        "PYTHONPATH": str(REPO),
    }
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
            "--python",
            str(world.venv_python),
            ".",
        ],
        cwd=world.project,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr.decode()
    assert json.loads(proc.stdout)["summary"]["blocked"] is True
    assert fired(world.markers) == []


def test_pickle_payloads_really_are_payloads(world: World) -> None:
    """Sanity for the hand-built opcodes: they parse as pickles (without running them)."""
    import pickletools

    for model in world.models:
        data = model.read_bytes()
        if data[:2] == b"PK":
            continue
        ops = [op.name for op, _arg, _pos in pickletools.genops(data)]
        assert "REDUCE" in ops and ops[-1] == "STOP"
    assert pickle.HIGHEST_PROTOCOL >= 4
