"""`wormsign db update` and `wormsign db status`: a thin layer over
scanner.checks.advisories.database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NoReturn

import click

from scanner.checks.advisories.database import (
    DEFAULT_SOURCE_URL,
    STALE_AFTER_DAYS,
    AdvisoryDatabase,
    default_db_path,
    update_database,
)
from scanner.cli.common import ExitCode, fail, printable, warn
from scanner.errors import ScannerError


def _fail(err: ScannerError) -> NoReturn:
    fail(err.diagnostics(), ExitCode.INCOMPLETE)


@click.group()
def db() -> None:
    """The offline OSV advisory database."""


@db.command()
@click.option(
    "--source",
    default=None,
    metavar="URL|PATH",
    help=f"OSV PyPI export: an http(s) URL, a zip, or a directory of OSV JSON "
    f"(default: {DEFAULT_SOURCE_URL}).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file to write (default: the user cache directory).",
)
@click.option(
    "--timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Network timeout in seconds for a download.",
)
def update(source: str | None, db_path: Path | None, timeout: float) -> None:
    """Fetch or read an OSV export and swap it in atomically."""
    try:
        summary = update_database(source, db_path, timeout=timeout)
    except ScannerError as err:
        _fail(err)
    except (OSError, sqlite3.Error) as err:  # an unwritable cache directory, a full disk
        where = getattr(err, "filename", None) or (db_path or "the database directory")
        _fail(ScannerError(f"cannot write the database: {err}", path=str(where)))
    click.echo(
        printable(
            f"imported {summary.records} records from {summary.source} into {summary.path} "
            f"in {summary.seconds:.1f} s"
        )
    )
    if summary.notes:
        warn(
            f"{len(summary.notes)} entries could not be imported "
            "(`wormsign db status -v` lists them)"
        )


@db.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file (default: the user cache directory).",
)
@click.option("-v", "--verbose", is_flag=True, help="List the problems recorded at import.")
def status(db_path: Path | None, verbose: bool) -> None:
    """Where the database is, how many records it holds, and how old it is."""
    try:
        path = db_path or default_db_path()
        with AdvisoryDatabase(path) as database:
            st = database.status()
            notes = database.import_notes() if verbose else ()
    except ScannerError as err:
        _fail(err)
    except (OSError, sqlite3.Error) as err:
        _fail(ScannerError(f"cannot read the database: {err}", path=str(db_path or "")))
    age = f"{st.age_days:.1f} days" if st.age_days is not None else "unknown"
    click.echo(printable(f"path:            {st.path}"))
    click.echo(printable(f"source:          {st.source or 'unknown'}"))
    click.echo(f"imported at:     {st.imported_at or 'unknown'}")
    click.echo(
        f"records:         {st.records} ({st.malicious} malicious, "
        f"{st.withdrawn} withdrawn) for {st.packages} packages"
    )
    click.echo(f"newest modified: {st.newest_modified or 'none'}")
    click.echo(f"age:             {age}")
    if st.future_modified:
        warn(
            f"{st.future_modified} records have a `modified` date in the "
            "future (ignored for the age)",
            "note",
        )
    if st.import_notes:
        warn(f"{st.import_notes} entries could not be imported", "note")
    for note in notes:
        click.echo(f"  {printable(note)}", err=True)
    if st.stale:
        warn(
            f"the advisory database is older than {STALE_AFTER_DAYS} days; run `wormsign db update`"
        )
