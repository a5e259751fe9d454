"""Fuzz the configuration loader (wormsign.toml / [tool.wormsign])."""

from __future__ import annotations

import sys

import _common
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.errors import ConfigError
    from scanner.policy import load_config


def test_one_input(data: bytes) -> None:
    name = "pyproject.toml" if data[:1] == b"p" else "wormsign.toml"
    path = _common.scratch_file(name, data)
    try:
        load_config(path.parent, path)
    except ConfigError as err:
        _common.one_line(err)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
