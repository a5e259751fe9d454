"""What every command shares: the exit codes, the one error line, the scan options, and
writing a report. The only place that turns outcomes into exit codes.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or configuration error,
3 the scan could not be completed (fail closed).
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import stat
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from scanner.checks.freshness.settings import FreshnessSettings
from scanner.errors import ConfigError, ScannerError
from scanner.infra.progress import stderr_progress
from scanner.models import Report, Severity
from scanner.options import ScanOptions
from scanner.reporters import OutputFormat, renderer_for


class ExitCode(enum.IntEnum):
    """The gate's contract with whatever runs it."""

    CLEAN = 0
    FINDINGS = 1
    USAGE = 2
    INCOMPLETE = 3


F = TypeVar("F", bound=Callable[..., Any])


def printable(text: str) -> str:
    """One line with every control character escaped (`\\x1b`, `\\x07`): a file name
    holding terminal escape sequences must not reach a terminal raw."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(text.split()))


def fail(message: str, code: int, verbose: bool = False) -> NoReturn:
    """Print one line to stderr (a traceback too with -v) and exit with `code` (an
    ExitCode, or `run`'s 126/127 for a command that cannot run)."""
    if verbose:
        traceback.print_exc(file=sys.stderr)
    click.echo(f"wormsign: error: {printable(message)}", err=True)
    sys.exit(int(code))


def warn(message: str, kind: str = "warning") -> None:
    """One `wormsign: warning: ...` (or `note`) line on stderr."""
    click.echo(f"wormsign: {kind}: {printable(message)}", err=True)


@contextlib.contextmanager
def exit_on_error(verbose: bool = False) -> Iterator[None]:
    """The one mapping from errors to exit codes: a configuration error exits 2, any
    other ScannerError (bad input, a missing database) or a file the OS refused 3, and a
    bug of ours fails closed (3) on one line too, with a traceback under -v."""
    try:
        yield
    except ConfigError as err:
        fail(err.diagnostics(), ExitCode.USAGE, verbose)
    except ScannerError as err:
        fail(err.diagnostics(), ExitCode.INCOMPLETE, verbose)
    except RecursionError:
        fail("input nested too deeply to scan", ExitCode.INCOMPLETE, verbose)
    except OSError as err:  # a file we were told to read or write, as the OS refused it
        fail(f"{err.filename or 'a file'}: {err.strerror or err}", ExitCode.INCOMPLETE, verbose)
    except click.ClickException:
        raise
    except Exception as err:  # a bug of ours must still fail closed, on one line
        fail(
            f"internal error: {type(err).__name__}: {err} (rerun with -v and report it)",
            ExitCode.INCOMPLETE,
            verbose,
        )


def exit_code(report: Report, *, exit_zero: bool = False) -> ExitCode:
    """The gate's verdict as an exit code: 3 when some input could not be scanned
    (whatever else was found), 1 when blocked (0 with `--exit-zero`), else 0."""
    if report.incomplete:
        return ExitCode.INCOMPLETE
    if report.blocked and not exit_zero:
        return ExitCode.FINDINGS
    return ExitCode.CLEAN


def incomplete_line(report: Report) -> str:
    """The one stderr line of an incomplete scan: the first file that could not be
    scanned and why, and how many more (the report lists them all)."""
    first = report.errors[0]
    more = len(report.errors) - 1
    also = f" (and {more} more: see the report)" if more else ""
    return f"incomplete scan: {first.target}: {first.reason}{also}"


def write_output(text: str, output: Path | None) -> None:
    """Write the report to stdout or, atomically, to a file: never half-written.

    Only a regular file (or a new one) is replaced atomically, keeping its mode; a FIFO
    or a character device (a terminal, /dev/null) the user named is written in place;
    a symbolic link, a read-only file or anything else is refused (OSError).
    """
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        st: os.stat_result | None = os.lstat(output)
    except FileNotFoundError:
        st = None
    if st is not None and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        # As the shell's `>` does: a FIFO waits for its reader, the user named it.
        fd = os.open(output, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        raise OSError(errno.EINVAL, f"is {what}; not replaced", str(output))
    if st is not None and not st.st_mode & 0o222:
        raise OSError(errno.EACCES, "is read-only; not replaced", str(output))
    directory = output.parent if str(output.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scan_options(func: F) -> F:
    """The options `scan` and `run` share."""
    decorators = [
        click.argument(
            "targets", nargs=-1, type=click.Path(exists=True, allow_dash=True, path_type=Path)
        ),
        click.option(
            "--env",
            "env_paths",
            multiple=True,
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="A virtualenv or site-packages directory to scan (repeatable).",
        ),
        click.option(
            "--python",
            "pythons",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Scan the environment of this interpreter (resolved from files; never run).",
        ),
        click.option(
            "--db",
            "db_path",
            type=click.Path(path_type=Path),
            help="OSV database (SQLite) or an OSV export zip.",
        ),
        click.option(
            "--offline/--online",
            default=None,
            help="Use network sources (OSV API, PyPI) with --online (default: "
            "offline, or the config's setting).",
        ),
        click.option(
            "--fail-on",
            type=click.Choice([s.label for s in Severity]),
            default=None,
            help="Lowest severity that blocks (default: high).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice([f.value for f in OutputFormat]),
            default=None,
            help="Report format (default: text).",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the report to this file instead of stdout.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Configuration file (default: wormsign.toml or pyproject.toml "
            "[tool.wormsign], searched upward).",
        ),
        click.option(
            "--no-cache", is_flag=True, help="Re-hash and re-judge everything; ignore the cache."
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Cache directory (hashes, verdicts, databases); default: the user cache.",
        ),
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes for content analysis (default: one per CPU core).",
        ),
        click.option(
            "--wheelhouse",
            "wheelhouses",
            multiple=True,
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Directory holding the locked artifacts, to verify their hashes.",
        ),
        click.option(
            "--attestations",
            "attestations_dir",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Directory of PEP 740 attestations.",
        ),
        click.option(
            "--check", "checks", multiple=True, help="Run only these checks (repeatable)."
        ),
        click.option(
            "--min-release-age",
            metavar="DURATION",
            callback=_duration_option,
            help="Block files uploaded less than this long ago (ISO 8601: P3D, PT12H).",
        ),
        click.option(
            "--as-of",
            metavar="TIME",
            callback=_time_option,
            help="Reference time for release ages and expiry dates (2026-12-02T12:00:00Z; "
            "default: now), for reproducible CI.",
        ),
        click.option(
            "--exclude",
            "exclude",
            multiple=True,
            metavar="GLOB",
            help="Pass over matching paths when walking a project (repeatable; relative to "
            "the walked directory, or a bare name: tests/fixtures, '*.ipynb'). Also the "
            "config's `exclude` list.",
        ),
        click.option(
            "--ignore-vuln",
            "ignore_vulns",
            multiple=True,
            metavar="ID",
            help="Suppress the vulnerability findings of this advisory id or alias "
            "(repeatable; never a malicious-package finding). For a lasting ignore, use "
            "the config's [[ignore]] with a reason and an expiry.",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            help="Text report: the summary line alone, even when blocked.",
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            help="The full findings table even when the gate passes; tracebacks on errors.",
        ),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


def _duration_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from scanner.checks.freshness.duration import parse_duration

    try:
        return parse_duration(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _time_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from scanner.checks.freshness.duration import parse_reference_time

    try:
        return parse_reference_time(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def build_options(params: dict[str, Any]) -> ScanOptions:
    """ScanOptions from the command line."""
    freshness = FreshnessSettings(min_age=params.get("min_release_age"))
    return ScanOptions(
        fail_on=Severity.parse(params["fail_on"]) if params.get("fail_on") else Severity.HIGH,
        online=params["offline"] is False,
        db_path=params["db_path"],
        use_cache=not params["no_cache"],
        cache_dir=params.get("cache_dir"),
        jobs=params.get("jobs"),
        wheelhouses=tuple(params["wheelhouses"]),
        attestations_dir=params["attestations_dir"],
        checks=frozenset(params["checks"]) if params["checks"] else None,
        verbose=params["verbose"],
        progress=sys.stderr.isatty(),
        freshness=freshness,
        as_of=params.get("as_of"),
        exclude=tuple(params.get("exclude") or ()),
        ignore_vulns=tuple(params.get("ignore_vulns") or ()),
    )


def overridden(params: dict[str, Any]) -> frozenset[str]:
    """The ScanOptions fields the command line set explicitly (they win over the config)."""
    given = {
        "fail_on": params.get("fail_on") is not None,
        "online": params.get("offline") is not None,
        "db_path": params.get("db_path") is not None,
        "checks": bool(params.get("checks")),
        "min_release_age": params.get("min_release_age") is not None,
        "cache_dir": params.get("cache_dir") is not None,
        "jobs": params.get("jobs") is not None,
    }
    return frozenset(name for name, set_here in given.items() if set_here)


def run_scan(params: dict[str, Any]) -> Report:
    """Scan as the command line asked; errors become exit codes."""
    from scanner.gate import check

    with exit_on_error(bool(params.get("verbose"))):
        options = build_options(params)
        with stderr_progress(options.progress):
            return check(
                params["targets"],
                env_paths=params["env_paths"],
                pythons=params["pythons"],
                options=options,
                config_path=params.get("config_path"),
                overridden=overridden(params),
            )
    raise AssertionError("unreachable")  # exit_on_error exits on every error


def emit(
    report: Report,
    fmt: str | None,
    output: Path | None,
    *,
    verbose: bool = False,
    quiet: bool = False,
    elapsed: float | None = None,
) -> None:
    """Render the report in the chosen format (text: one summary line on a pass, the
    table too when blocked or with -v; the summary line alone with -q)."""
    chosen = OutputFormat(fmt) if fmt else OutputFormat.TEXT
    if chosen is OutputFormat.TEXT:
        from scanner.reporters.text import render_text

        text = render_text(
            report,
            color=output is None and sys.stdout.isatty(),
            verbose=verbose,
            quiet=quiet,
            elapsed=elapsed,
        )
    else:
        text = renderer_for(chosen)(report)
    try:
        write_output(text, output)
    except OSError as err:
        fail(f"{output}: cannot write the report: {err.strerror or err}", ExitCode.INCOMPLETE)
