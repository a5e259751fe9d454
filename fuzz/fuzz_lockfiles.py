"""Fuzz every lock-file parser, and format sniffing, through scanner.sources.lockfiles.

The first input byte picks the format (or sniffing); the rest is the file.
"""

from __future__ import annotations

import sys

import _common
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.errors import SourceError
    from scanner.sources.lockfiles import PARSERS, parse_lockfile

FORMATS: list[str | None] = [None, *sorted(PARSERS)]
NAMES = {
    None: "target.lock",
    "requirements": "requirements.txt",
    "poetry": "poetry.lock",
    "uv": "uv.lock",
    "pipfile": "Pipfile.lock",
    "pylock": "pylock.toml",
    "pdm": "pdm.lock",
    "conda-lock": "conda-lock.yml",
}


def test_one_input(data: bytes) -> None:
    if not data:
        return
    fmt = FORMATS[data[0] % len(FORMATS)]
    path = _common.scratch_file(NAMES[fmt], data[1:])
    try:
        parse_lockfile(path, fmt)
    except SourceError as err:
        _common.one_line(err)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
