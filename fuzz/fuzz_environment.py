"""Fuzz installed-environment metadata: RECORD, METADATA, entry points, .pth, and the
integrity and heuristics checks over the environment they make up."""

from __future__ import annotations

import sys

import _common
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.checks.heuristics.content import check_heuristics
    from scanner.checks.integrity.check import check_integrity
    from scanner.checks.interface import CheckContext
    from scanner.errors import ScannerError, SourceError
    from scanner.models import Inventory
    from scanner.options import ScanOptions
    from scanner.sources.environment import (
        collect_environment,
        parse_entry_points,
        parse_record,
    )

OPTIONS = ScanOptions(use_cache=False)
DIRS = ["demo-1.0.dist-info", "demo-1.0.egg-info", "x.dist-info", "-.dist-info"]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    dirname = DIRS[fdp.ConsumeIntInRange(0, len(DIRS) - 1)]
    metadata = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400))
    record = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400))
    entry_points = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300))
    pth = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        parse_record(record.decode("utf-8", "replace"))
    except ValueError as err:  # parse_record's documented error; the caller adds the path
        _common.one_line(err)
    parse_entry_points(entry_points.decode("utf-8", "replace"))
    site = _common.fresh_dir() / "site-packages"
    meta = site / dirname
    meta.mkdir(parents=True)
    (meta / ("PKG-INFO" if dirname.endswith(".egg-info") else "METADATA")).write_bytes(metadata)
    (meta / "RECORD").write_bytes(record)
    (meta / "entry_points.txt").write_bytes(entry_points)
    (site / "evil.pth").write_bytes(pth)
    (site / "demo").mkdir()
    (site / "demo" / "__init__.py").write_bytes(pth[:200])
    try:
        env = collect_environment(site)
    except SourceError as err:
        _common.one_line(err)
        return
    inventory = Inventory(environments=(env,))
    for check in (check_integrity, check_heuristics):
        _common.drain(
            lambda i, o, check=check: check(i, CheckContext(o)).findings,
            inventory,
            OPTIONS,
            allowed=(ScannerError,),
        )


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
