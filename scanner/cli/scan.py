"""`wormsign scan`: scan targets, render the report, exit by the gate's contract."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from scanner.cli.common import (
    ExitCode,
    emit,
    exit_code,
    fail,
    incomplete_line,
    run_scan,
    scan_options,
)


@click.command()
@scan_options
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Report, don't fail: exit 0 even when findings block (errors still exit 2 or 3).",
)
def scan(**params: Any) -> None:
    """Scan lock files, environments, distributions and model files; exit 1 if blocked,
    3 if some input could not be scanned (the rest is still reported)."""
    started = time.monotonic()
    report = run_scan(params)
    elapsed = time.monotonic() - started
    emit(
        report,
        params["fmt"],
        params["output"],
        verbose=params["verbose"],
        quiet=params["quiet"],
        elapsed=elapsed,
    )
    code = exit_code(report, exit_zero=params["exit_zero"])
    if code is ExitCode.INCOMPLETE:
        fail(incomplete_line(report), code)
    sys.exit(int(code))
