"""Fuzz the pickle walker: any bytes give a PickleScan, never an exception."""

from __future__ import annotations

import io
import sys

import _common  # noqa: F401  -- puts the repository on sys.path
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.checks.models.pickle_scan import scan_pickle_bytes, scan_pickles


def test_one_input(data: bytes) -> None:
    scan_pickle_bytes(data)
    scan_pickles(io.BytesIO(data), max_pickles=4)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
