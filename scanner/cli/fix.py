"""`wormsign fix`: upgrade vulnerable pins to the smallest version that clears every
advisory of the package.

`--dry-run` prints the edit per place: the requirements line change, or the command of
the lock's own tool (uv, poetry, pipenv, pdm, conda-lock) or of pip for an environment.
Without it, wormsign applies the requirements-file edits itself (atomically, the rest of
the line untouched) and prints the rest as the commands to run.

A project file that could not be scanned is named on stderr, and the run exits 3 after
printing the rest.

Exit codes: 0 nothing to fix, or everything fixed; 1 something remains (the dry run's
edits, commands to run by hand, hashed entries, pins no release clears); 2 usage or
configuration error; 3 the scan or a write could not be completed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from scanner.cli.common import ExitCode, fail, printable, run_scan, warn
from scanner.fixes.plan import Step, plan, steps_by_place
from scanner.fixes.requirements_edit import LineEdit, PinChange, plan_edits, write_atomically


@click.command()
@click.argument(
    "targets", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[LOCKFILE]..."
)
@click.option("--dry-run", is_flag=True, help="Print the edits; change nothing.")
@click.option(
    "--env",
    "env_paths",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A virtualenv or site-packages directory (prints its pip command; repeatable).",
)
@click.option(
    "--python",
    "pythons",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The environment of this interpreter (resolved from files; never run).",
)
@click.option("--db", "db_path", type=click.Path(path_type=Path), help="OSV database or zip.")
@click.option("--offline/--online", default=None, help="Use the OSV API and PyPI (--online).")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Config file."
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cache directory (databases); default: the user cache.",
)
@click.option("-v", "--verbose", is_flag=True, help="Tracebacks on errors.")
def fix(**params: Any) -> None:
    """Upgrade vulnerable pins to the smallest version that clears every advisory."""
    scan_params = {
        **params,
        "fail_on": None,
        "no_cache": False,
        "jobs": None,
        "wheelhouses": (),
        "attestations_dir": None,
        "checks": ("advisories",),
        "min_release_age": None,
        "as_of": None,
    }
    report = run_scan(scan_params)
    for error in report.errors:
        warn(f"{error.target}: could not be scanned: {error.reason}")
    steps = plan(report)
    if not steps:
        click.echo("nothing to fix: no pinned package is affected by a known advisory")
        sys.exit(int(ExitCode.INCOMPLETE if report.incomplete else ExitCode.CLEAN))
    remaining = 0
    for where, group in steps_by_place(steps):
        click.echo(printable(where))
        edits = [s for s in group if s.is_text_edit]
        results = _requirements(edits, apply=not params["dry_run"]) if edits else {}
        for step in group:
            remaining += _show(step, results.get(id(step)), applied=not params["dry_run"])
    if report.incomplete:
        sys.exit(int(ExitCode.INCOMPLETE))
    if params["dry_run"]:
        sys.exit(int(ExitCode.FINDINGS))
    sys.exit(int(ExitCode.FINDINGS if remaining else ExitCode.CLEAN))


def _requirements(steps: Sequence[Step], *, apply: bool) -> dict[int, LineEdit]:
    lock = steps[0].lockfile
    assert lock is not None
    changes = [
        PinChange(s.upgrade.name, s.upgrade.current, s.upgrade.target or "", s.upgrade.line or 0)
        for s in steps
    ]
    try:
        with open(lock.path, encoding="utf-8", newline="") as fh:
            text = fh.read()
        new_text, results = plan_edits(text, changes)
        if apply and any(r.new is not None for r in results):
            write_atomically(lock.path, new_text)
    except (OSError, UnicodeDecodeError) as err:
        fail(f"{lock.path}: cannot edit: {err}", ExitCode.INCOMPLETE)
    return {id(s): r for s, r in zip(steps, results, strict=True)}


def _show(step: Step, edit: LineEdit | None, *, applied: bool) -> int:
    """Print one step; 1 if it remains to be done after this run, else 0."""
    u = step.upgrade
    count = len(u.advisories)
    clears = f"clears {count} advisor{'y' if count == 1 else 'ies'}"
    place = f"line {u.line}: " if u.line else ""
    if u.target is None:
        click.echo("  " + printable(f"{place}{u.name} {u.current}: {step.note}"))
        return 1
    click.echo("  " + printable(f"{place}{u.name} {u.current} -> {u.target} ({clears})"))
    if edit is not None:
        if edit.refused is not None:
            click.echo("    " + printable(f"not edited: {edit.refused}"))
            return 1
        click.echo(f"    - {printable((edit.old or '').rstrip(chr(10)).rstrip(chr(13)))}")
        click.echo(f"    + {printable((edit.new or '').rstrip(chr(10)).rstrip(chr(13)))}")
        if applied:
            click.echo("    written")
            return 0
        return 1
    if step.command:
        click.echo(f"    {printable(step.command)}")
    if step.note:
        click.echo("    " + printable(f"note: {step.note}"))
    return 1
