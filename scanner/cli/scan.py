"""`wormsign scan`: scan targets, render the report, exit by the gate's contract."""

from __future__ import annotations

import sys
from typing import Any

import click

from scanner.cli.common import ExitCode, emit, run_scan, scan_options


@click.command()
@scan_options
def scan(**params: Any) -> None:
    """Scan lock files, environments, distributions and model files; exit 1 if blocked."""
    report = run_scan(params)
    emit(report, params["fmt"], params["output"])
    sys.exit(int(ExitCode.FINDINGS if report.blocked else ExitCode.CLEAN))
