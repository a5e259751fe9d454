"""Fuzz the one safe archive reader: open, list and read every member of zips and tars,
and run the wheel-RECORD and heuristic checks over them. Only ArchiveError may escape."""

from __future__ import annotations

import sys

import _common
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.checks.heuristics.check import scan_distribution_file
    from scanner.checks.integrity.check import check_sdist_members, check_wheel_record
    from scanner.errors import ArchiveError, SourceError
    from scanner.infra.archive import Limits, SafeArchive

LIMITS = Limits(max_members=2000, max_member_size=16 << 20, max_total_size=64 << 20)


def test_one_input(data: bytes) -> None:
    wheel = data[:1] == b"P"
    path = _common.scratch_file("fuzz-1.0-py3-none-any.whl" if wheel else "fuzz-1.0.tar.gz", data)
    try:
        with SafeArchive(path, LIMITS) as archive:
            for member in archive.files():
                archive.read(member.name, limit=1 << 16)
                for _chunk in archive.iter_chunks(member.name):
                    pass
    except ArchiveError as err:
        _common.one_line(err)
        return
    for run in (check_wheel_record if wheel else check_sdist_members, scan_distribution_file):
        _common.drain(run, path, allowed=(SourceError,))


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
