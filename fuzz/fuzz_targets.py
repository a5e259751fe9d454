"""Fuzz how a target reaches the sources: a regular file, `-` (stdin), a FIFO, a device,
and symbolic links inside, outside, dangling and looping, alone and inside a project.

The first byte picks the input kind and the lock-file name, the rest is the content.
Only SourceError (one line) may escape; a FIFO or /dev/zero must never block or grow
memory (libFuzzer's -timeout and -rss_limit_mb catch both).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import _common
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.errors import SourceError
    from scanner.sources.discover import collect_target

NAMES = ("requirements.txt", "uv.lock", "poetry.lock", "model.pt", "demo-1.0-py3-none-any.whl")
KINDS = ("file", "stdin", "fifo", "dev-zero", "link-inside", "link-outside", "dangling", "loop")


def _place(project: Path, name: str, kind: str, data: bytes) -> Path:
    """Put the input at `project/name` as `kind`; return the path to scan."""
    path = project / name
    if kind == "file":
        path.write_bytes(data)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "link-inside":
        (project / "real").mkdir()
        (project / "real" / name).write_bytes(data)
        path.symlink_to(Path("real") / name)
    elif kind == "link-outside":
        outside = _common.scratch_file(f"outside-{name}", data)
        path.symlink_to(outside)
    elif kind == "dangling":
        path.symlink_to(project / "nowhere")
    elif kind == "loop":
        path.symlink_to(path)
    return path


def test_one_input(data: bytes) -> None:
    if not data:
        return
    kind = KINDS[data[0] % len(KINDS)]
    name = NAMES[(data[0] // len(KINDS)) % len(NAMES)]
    project = _common.fresh_dir()
    saved = sys.stdin
    try:
        if kind == "stdin":
            sys.stdin = io.TextIOWrapper(io.BytesIO(data[1:]))
            targets = [Path("-")]
        else:
            targets = [_place(project, name, kind, data[1:]), project]
        for target in targets:
            _collect(target)
    finally:
        sys.stdin = saved


def _collect(target: Path) -> None:
    try:
        collect_target(target)
    except SourceError as err:
        _common.one_line(err)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
