"""Which Python a command will run, found without running it.

`wormsign run -- COMMAND` scans the environment of the interpreter COMMAND uses:
`python`/`python3.11` found on PATH; a script's shebang (`#!/venv/bin/python`,
`#!/usr/bin/env python3`, `#!/usr/bin/env -S python3 -u`); console scripts such as
`torchrun` and `accelerate`, whose shebang pip writes, including pip's `/bin/sh`
trampoline for interpreter paths too long or odd for a shebang line. Only the first
bytes of the file are read; nothing is executed.

Symlinks are not resolved: a virtualenv's `bin/python` is a symlink to the base
interpreter, and resolving it would scan the wrong environment.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# python, python3, python3.11, python3.13t, pypy3, pypy3.10 (a version suffix at most).
_PYTHON_NAME = re.compile(r"^(python|pypy)(\d+(\.\d+)?t?)?$")
_HEAD_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Interpreter:
    """The Python a command will run, and how we know."""

    path: Path
    how: str
    """A few words for the report: "on PATH", "shebang of /venv/bin/torchrun" ..."""


def is_python_name(name: str) -> bool:
    """`python3.11` yes, `python-config` or `ipython` no."""
    return _PYTHON_NAME.match(name) is not None


def find_executable(name: str, path: str | None = None) -> Path | None:
    """The file `execvp` would run for `name` (a bare name is looked up on PATH)."""
    found = shutil.which(name, path=path)
    return Path(os.path.abspath(found)) if found else None


def _interpreter_from_words(words: list[str], path_env: str | None) -> Path | None:
    """The Python named by a shebang's words (`/usr/bin/env -S python3 -u` -> python3)."""
    if not words:
        return None
    program = words[0]
    if Path(program).name == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if not rest or not is_python_name(Path(rest[0]).name):
            return None
        return find_executable(rest[0], path_env)
    if is_python_name(Path(program).name):
        return Path(program) if os.path.isabs(program) else find_executable(program, path_env)
    return None


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(_HEAD_BYTES)
    except OSError:
        return b""


def interpreter_of_script(script: Path, path_env: str | None = None) -> Path | None:
    """The Python a script's shebang names, or None (a binary, a shell script, no shebang)."""
    head = _read_head(script)
    if not head.startswith(b"#!"):
        return None
    lines = head.decode("utf-8", errors="replace").splitlines()
    try:
        words = shlex.split(lines[0][2:].strip())
    except ValueError:
        return None
    if words and Path(words[0]).name in ("sh", "bash") and len(lines) > 1:
        # pip's trampoline:  #!/bin/sh  /  '''exec' "/long path/bin/python" "$0" "$@"
        tramp = lines[1].strip()
        if tramp.startswith("'''exec' "):
            try:
                target = shlex.split(tramp[len("'''exec' ") :])
            except ValueError:
                return None
            return _interpreter_from_words(target[:1], path_env)
        return None
    return _interpreter_from_words(words, path_env)


def interpreter_for(command: Sequence[str], path_env: str | None = None) -> Interpreter | None:
    """The interpreter `command` will use, or None if it cannot be told without running it."""
    if not command:
        return None
    exe = find_executable(command[0], path_env)
    if exe is None:
        return None
    if is_python_name(exe.name):
        return Interpreter(
            exe, f"{command[0]} on PATH" if os.sep not in command[0] else f"{command[0]}"
        )
    python = interpreter_of_script(exe, path_env)
    if python is None:
        return None
    return Interpreter(python, f"shebang of {exe}")
