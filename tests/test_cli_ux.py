"""The habits users bring from other tools (issue 20): hints for common mistakes, the
flags they reach for, one broken file that does not hide the rest of a project."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main

H = "c" * 64


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
