"""`wormsign run [scan options] -- COMMAND [ARGS ...]`: scan, then exec COMMAND only if it passes.

The report goes to stderr (or --output) so COMMAND's stdout stays its own. On a pass
the process *becomes* COMMAND (`os.execv`): its exit code and signals reach the
caller unchanged, and no wrapper sits between a scheduler and the job. Blocked -> 1
and incomplete -> 3 without running anything; COMMAND not found -> 127 and not
executable -> 126, as env(1) does.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
import time
from pathlib import Path
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
from scanner.infra.progress import stderr_progress
from scanner.launcher import Interpreter, find_executable, interpreter_for
from scanner.models import Report
from scanner.reporters import OutputFormat, renderer_for

COMMAND_NOT_FOUND = 127
COMMAND_NOT_EXECUTABLE = 126
_COMMAND_KEY = "wormsign.command"


class _SplitAtDoubleDash(click.Command):
    """Everything after the first `--` is the command to run, never a scan target."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[_COMMAND_KEY] = args[cut + 1 :]
            args = args[:cut]
        else:
            ctx.meta[_COMMAND_KEY] = []
            try:
                return super().parse_args(ctx, list(args))  # click consumes its list
            except click.UsageError as err:
                hint = _double_dash_hint(args, _value_options(self))
                if hint is None:
                    raise
                raise click.UsageError(f"{err.format_message()}\n{hint}", ctx) from None
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "-- COMMAND [ARGS]..."]


def _value_options(command: click.Command) -> frozenset[str]:
    """The option names of `command` that take a value (`--db PATH`, not `--offline`)."""
    return frozenset(
        name
        for p in command.params
        if isinstance(p, click.Option) and not p.is_flag
        for name in p.opts
    )


def _double_dash_hint(args: list[str], value_options: frozenset[str]) -> str | None:
    """When `run` was given a command without `--` (`wormsign run python -c ...`): the
    same line with the `--` in place, from the first word that is neither an option, an
    option's value nor an existing path."""
    for i, arg in enumerate(args):
        if arg.startswith("-") or os.path.exists(arg):
            continue
        if i > 0 and args[i - 1] in value_options:
            continue
        fixed = shlex.join(["wormsign", "run", *args[:i], "--", *args[i:]])
        return f"Put the command to run after `--`: {fixed}"
    return None


def _emit_to_stderr(
    report: Report,
    fmt: str | None,
    output: Path | None,
    verbose: bool,
    elapsed: float,
    quiet: bool = False,
) -> None:
    """The report to --output if given, else to stderr (COMMAND owns stdout). Text is one
    summary line on a pass, the table too when blocked or with -v."""
    if output is not None:
        emit(report, fmt, output, verbose=verbose, quiet=quiet, elapsed=elapsed)
        return
    chosen = OutputFormat(fmt) if fmt else OutputFormat.TEXT
    if chosen is OutputFormat.TEXT:
        from scanner.reporters.text import render_text

        text = render_text(
            report, color=sys.stderr.isatty(), verbose=verbose, quiet=quiet, elapsed=elapsed
        )
    else:
        text = renderer_for(chosen)(report)
    click.echo(text, nl=False, err=True)


def _with_interpreter(
    params: dict[str, Any], command: list[str]
) -> tuple[dict[str, Any], Interpreter | None, str | None]:
    """Scan COMMAND's interpreter's environment unless --python/--env chose environments."""
    if params["pythons"] or params["env_paths"]:
        return params, None, None
    interpreter = interpreter_for(command)
    if interpreter is None:
        note = (
            f"cannot tell which Python {command[0]!r} runs without running it; its "
            "environment was not scanned (name it with --python or --env)"
        )
        return params, None, note
    # The current directory too, as a scan with no target would: naming the interpreter
    # here must not narrow the scan to it.
    targets = params["targets"] or (Path.cwd(),)
    return dict(params, targets=targets, pythons=(interpreter.path,)), interpreter, None


def run_command(**params: Any) -> None:
    """Scan, then run COMMAND only if the gate passes (exit 1 if blocked, 3 if incomplete).

    With no TARGETS, scans the current directory and the environment of the Python that
    COMMAND will use (python on PATH, or the shebang of a script such as torchrun).
    """
    command: list[str] = click.get_current_context().meta[_COMMAND_KEY]
    if not command:
        raise click.UsageError(
            "name the command to run after --: "
            "wormsign run [OPTIONS] [TARGETS]... -- COMMAND [ARGS]..."
        )
    executable = find_executable(command[0])
    if executable is None:
        if os.sep in command[0] and os.path.exists(command[0]):
            # A path that names a file which cannot be executed: env(1) says 126.
            fail(f"{command[0]}: cannot run: not an executable file", COMMAND_NOT_EXECUTABLE)
        fail(f"{command[0]}: command not found", COMMAND_NOT_FOUND)
    params, interpreter, note = _with_interpreter(params, command)
    started = time.monotonic()
    with stderr_progress(sys.stderr.isatty()):
        report = run_scan(params)
    elapsed = time.monotonic() - started
    if interpreter is not None:
        note = f"scanned the environment of {interpreter.path} ({interpreter.how})"
    if note is not None:
        report = dataclasses.replace(report, notes=(*report.notes, note))
    _emit_to_stderr(
        report, params["fmt"], params["output"], params["verbose"], elapsed, params["quiet"]
    )
    code = exit_code(report)
    if code is ExitCode.INCOMPLETE:
        fail(f"{incomplete_line(report)}; not running {command[0]}", code)
    if code is ExitCode.FINDINGS:
        fail(f"blocked: not running {command[0]}", code)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        # The file found above, not a second PATH search: what runs is what was resolved.
        os.execv(executable, command)
    except OSError as err:
        fail(f"{command[0]}: cannot run: {err.strerror or err}", COMMAND_NOT_EXECUTABLE)


# Built without decorator syntax so the command has a declared type: cli.py imports it
# while cli.py itself is still loading (see its last lines), and mypy needs the type.
run: click.Command = click.command(cls=_SplitAtDoubleDash, name="run")(scan_options(run_command))
