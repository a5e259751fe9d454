"""`wormsign scan`: scan targets, render the report, exit by the gate's contract."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from scanner.cli.common import ExitCode, emit, run_scan, scan_options


@click.command()
@scan_options
def scan(**params: Any) -> None:
    """Scan lock files, environments, distributions and model files; exit 1 if blocked."""
    started = time.monotonic()
    report = run_scan(params)
    elapsed = time.monotonic() - started
    emit(report, params["fmt"], params["output"], verbose=params["verbose"], elapsed=elapsed)
    sys.exit(int(ExitCode.FINDINGS if report.blocked else ExitCode.CLEAN))
