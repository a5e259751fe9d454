"""`wormsign run -- COMMAND`: the command runs only if the gate passes, and becomes the process.

Also the pieces under it (which Python a command uses, read without running it) and the
Lightning callback, which must stop a Trainer on a blocking target.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from scanner.gate import GateBlocked
from scanner.integrations.lightning import WormsignCallback
from scanner.launcher import interpreter_for, interpreter_of_script, is_python_name
from scanner.models import Severity
from scanner.options import ScanOptions
from tests.helpers.wheels import install_wheel, make_wheel

REPO = Path(__file__).resolve().parents[1]
H = "c" * 64
SIDE_EFFECT = "open('ran', 'w').write('yes')"
DB = ""  # the one-record OSV database (conftest's tiny_osv): `evilpkg==1.0` is malicious


@pytest.fixture(autouse=True)
def _db(tiny_osv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.DB", str(tiny_osv))


@pytest.fixture(scope="module")
def job_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, empty virtualenv: the environment the launched job will use."""
    root = tmp_path_factory.mktemp("jobenv") / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    # The job's environment holds what the project locks (click 8.1.7), so the
    # environment-vs-lock check has nothing to say about a clean project.
    site = next(root.glob("lib/python3*/site-packages"))
    wheel = make_wheel(
        tmp_path_factory.mktemp("wheels"),
        "click",
        "8.1.7",
        {"click/__init__.py": "__version__ = '8.1.7'\n"},
    )
    install_wheel(wheel, site, prefix=root)
    return root


def project(tmp_path: Path, requirements: str) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text(requirements)
    return proj


CLEAN = f"click==8.1.7 --hash=sha256:{H}\n"
LOOSE = f"click==8.1.7 --hash=sha256:{H}\nrich>=13\n"  # WS-LOCK-001, medium


def wormsign_run(
    cwd: Path, job_venv: Path, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        NO_COLOR="1",
        PATH=f"{job_venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    argv = [sys.executable, "-m", "scanner", "run", "--db", DB, *args]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_clean_project_runs_the_command(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, CLEAN)
    out = wormsign_run(
        proj,
        job_venv,
        "--fail-on",
        "medium",
        "--output",
        "report.json",
        "--format",
        "json",
        "--",
        "python",
        "-c",
        SIDE_EFFECT,
    )
    assert out.returncode == 0, out.stderr
    assert (proj / "ran").read_text() == "yes"
    report = json.loads((proj / "report.json").read_text())
    # The job's interpreter was found on PATH and its environment scanned.
    assert str(job_venv / "bin" / "python") in report["targets"]
    assert any("scanned the environment of" in n for n in report["notes"])


def test_blocked_project_does_not_run_the_command(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, LOOSE)
    out = wormsign_run(proj, job_venv, "--fail-on", "medium", "--", "python", "-c", SIDE_EFFECT)
    assert out.returncode == 1
    assert not (proj / "ran").exists()
    assert "WS-LOCK-001" in out.stderr and "BLOCKED" in out.stderr
    assert "not running python" in out.stderr
    assert out.stdout == ""  # the report is on stderr; stdout belongs to the command


def test_known_malicious_pin_does_not_run(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, f"evilpkg==1.0 --hash=sha256:{H}\n")
    out = wormsign_run(proj, job_venv, "--", "python", "-c", SIDE_EFFECT)  # default fail-on
    assert out.returncode == 1
    assert not (proj / "ran").exists()
    assert "WS-ADV-MAL" in out.stderr


def test_below_fail_on_runs(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, LOOSE)
    out = wormsign_run(proj, job_venv, "--", "python", "-c", SIDE_EFFECT)
    assert out.returncode == 0, out.stderr
    assert (proj / "ran").exists()


def test_incomplete_scan_does_not_run(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, CLEAN)
    (proj / "pylock.toml").write_text("lock-version = \n[[packages]\n")  # not TOML
    out = wormsign_run(proj, job_venv, "--", "python", "-c", SIDE_EFFECT)
    assert out.returncode == 3, out.stderr
    assert not (proj / "ran").exists()
    assert "pylock.toml" in out.stderr and "Traceback" not in out.stderr


def test_exit_code_passes_through(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, CLEAN)
    out = wormsign_run(proj, job_venv, "--", "python", "-c", "raise SystemExit(7)")
    assert out.returncode == 7, out.stderr


def test_command_replaces_the_process_and_signals_pass_through(
    tmp_path: Path, job_venv: Path
) -> None:
    proj = project(tmp_path, CLEAN)
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        PATH=f"{job_venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    code = "import os; print(os.getpid(), flush=True); os.kill(os.getpid(), 15)"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "run", "--db", DB, "--", "python", "-c", code],
        cwd=proj,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=60)
    assert int(out.strip()) == proc.pid, err  # exec: the job is the process we started
    assert proc.returncode == -signal.SIGTERM


def test_console_script_shebang_selects_the_environment(tmp_path: Path, job_venv: Path) -> None:
    """Like torchrun: a script in the venv's bin whose shebang names the venv's python."""
    proj = project(tmp_path, CLEAN)
    script = job_venv / "bin" / "fake-torchrun"
    script.write_text(f"#!{job_venv / 'bin' / 'python'}\n{SIDE_EFFECT}\n")
    script.chmod(0o755)
    out = wormsign_run(
        proj, job_venv, "--output", "r.json", "--format", "json", "--", "fake-torchrun"
    )
    assert out.returncode == 0, out.stderr
    assert (proj / "ran").exists()
    notes = json.loads((proj / "r.json").read_text())["notes"]
    assert any(f"shebang of {script}" in n for n in notes)


def test_usage_errors(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, CLEAN)
    assert wormsign_run(proj, job_venv).returncode == 2  # no command
    missing = wormsign_run(proj, job_venv, "--", "no-such-command-wormsign")
    assert missing.returncode == 127 and "command not found" in missing.stderr


def test_arguments_after_dashes_are_not_targets(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, CLEAN)
    (proj / "sub").mkdir()
    (proj / "sub" / "requirements.txt").write_text(LOOSE)
    # "sub" after -- is the command's argument, not a scan target: the scan stays clean.
    out = wormsign_run(
        proj,
        job_venv,
        "requirements.txt",
        "--fail-on",
        "medium",
        "--",
        "python",
        "-c",
        "import sys; open(sys.argv[1] + '/ran', 'w')",
        "sub",
    )
    assert out.returncode == 0, out.stderr
    assert (proj / "sub" / "ran").exists()


# --- which Python a command uses -------------------------------------------------------------


def write_script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_python_names() -> None:
    for name in ("python", "python3", "python3.11", "python3.13t", "pypy3"):
        assert is_python_name(name), name
    for name in ("ipython", "python-config", "python3-config", "pythonw.exe", "torchrun"):
        assert not is_python_name(name), name


def test_shebang_forms(tmp_path: Path, job_venv: Path) -> None:
    py = job_venv / "bin" / "python"
    bindir = str(job_venv / "bin")
    direct = write_script(tmp_path / "a", f"#!{py}\nimport sys\n")
    env = write_script(tmp_path / "b", "#!/usr/bin/env python3\n")
    env_s = write_script(tmp_path / "c", "#!/usr/bin/env -S python3 -u\n")
    spaces = tmp_path / "dir with space" / "bin"
    spaces.mkdir(parents=True)
    (spaces / "python").symlink_to(py)
    tramp = write_script(
        tmp_path / "d", f"#!/bin/sh\n'''exec' \"{spaces / 'python'}\" \"$0\" \"$@\"\n' '''\n"
    )
    shell = write_script(tmp_path / "e", "#!/bin/bash\necho hi\n")
    binary = tmp_path / "f"
    binary.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 64)
    assert interpreter_of_script(direct) == py
    assert interpreter_of_script(env, bindir) == job_venv / "bin" / "python3"
    assert interpreter_of_script(env_s, bindir) == job_venv / "bin" / "python3"
    assert interpreter_of_script(tramp) == spaces / "python"
    assert interpreter_of_script(shell) is None
    assert interpreter_of_script(binary) is None


def test_interpreter_for_keeps_venv_symlinks(job_venv: Path) -> None:
    found = interpreter_for(["python", "train.py"], str(job_venv / "bin"))
    assert found is not None
    assert found.path == job_venv / "bin" / "python"  # not resolved to the base interpreter
    assert interpreter_for(["no-such-command-wormsign"], str(job_venv / "bin")) is None
    assert interpreter_for([]) is None


# --- the Lightning callback -------------------------------------------------------------------


def test_callback_blocks_a_trainer(tmp_path: Path) -> None:
    proj = project(tmp_path, LOOSE)
    callback = WormsignCallback(
        [proj / "requirements.txt"],
        pythons=(),
        options=ScanOptions(fail_on=Severity.MEDIUM, db_path=Path(DB)),
    )
    with pytest.raises(GateBlocked) as caught:
        callback.setup(trainer=None, pl_module=None, stage="fit")
    assert [f.rule_id for f in caught.value.findings] == ["WS-LOCK-001"]


def test_callback_passes_a_clean_target_once(tmp_path: Path, job_venv: Path) -> None:
    proj = project(tmp_path, CLEAN)
    callback = WormsignCallback(
        [proj / "requirements.txt"],
        pythons=[job_venv / "bin" / "python"],
        options=ScanOptions(fail_on=Severity.MEDIUM, db_path=Path(DB)),
    )
    callback.setup(None, None, "fit")
    assert callback.report is not None and not callback.report.blocked
    first = callback.report
    callback.setup(None, None, "validate")
    assert callback.report is first  # one scan per process, not one per stage


def test_callback_subclasses_lightning_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import types

    import scanner.integrations.lightning as integration

    class Callback:
        pass

    fake = types.ModuleType("lightning.pytorch.callbacks")
    fake.Callback = Callback  # type: ignore[attr-defined]
    for name in ("lightning", "lightning.pytorch"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "lightning.pytorch.callbacks", fake)
    try:
        reloaded = importlib.reload(integration)
        assert issubclass(reloaded.WormsignCallback, Callback)
    finally:
        monkeypatch.undo()
        importlib.reload(integration)
    assert not issubclass(integration.WormsignCallback, Callback)
