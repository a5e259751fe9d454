"""Shared by the fuzz harnesses: the contract every parser must keep.

A harness feeds bytes to one parser family. The only outcomes allowed are a result or
the typed error (a ScannerError subclass, or ValueError where a helper documents it),
whose message is one line. Anything else escapes, and atheris records it as a crash;
an input that runs longer than libFuzzer's -timeout is recorded as a hang.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# One scratch directory per fuzzing process (inputs are written to files there).
SCRATCH = Path(tempfile.mkdtemp(prefix="wormsign-fuzz-"))


def scratch_file(name: str, data: bytes) -> Path:
    """Write `data` to a fresh file called `name` in the scratch directory."""
    path = SCRATCH / name
    path.write_bytes(data)
    return path


def fresh_dir() -> Path:
    """An empty directory in the scratch space (the previous one is removed)."""
    path = SCRATCH / "dir"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def one_line(err: Exception) -> None:
    """A typed error must describe itself on one line."""
    text = err.diagnostics() if hasattr(err, "diagnostics") else str(err)
    if "\n" in text or "\r" in text:
        raise AssertionError(f"multi-line error message: {text!r}")


def drain(
    func: Callable[..., Iterable[object]], *args: object, allowed: tuple[type[Exception], ...]
) -> None:
    """Run a generator function to the end; an `allowed` error must be one line."""
    try:
        for _ in func(*args):
            pass
    except allowed as err:
        one_line(err)


def cleanup() -> None:
    """Remove the scratch directory (atexit)."""
    shutil.rmtree(SCRATCH, ignore_errors=True)


import atexit  # noqa: E402  -- registered once, after SCRATCH exists

atexit.register(cleanup)
os.environ.setdefault("XDG_CACHE_HOME", str(SCRATCH / "cache"))
