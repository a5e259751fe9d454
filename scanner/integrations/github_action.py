"""The GitHub Action's steps (`action.yml`), one subcommand each
(`python -m scanner.integrations.github_action STEP`):

    STEP=prepare   # where the advisory db lives; today's cache key
    STEP=update-db # fill the db unless the cache restored today's
    STEP=scan      # scan, write reports, step summary, annotations
    STEP=gate      # exit with the scan's exit code

Inputs arrive only as environment variables (`WORMSIGN_*`, set from `${{ inputs.* }}`
in the step's `env:`), never spliced into a script. The scan step itself always
succeeds when it produced a verdict, so the SARIF upload can run before `gate` fails
the job; a scan that could not finish still writes its error and fails closed at `gate`.

Everything printed to the log that a package controls is flattened to one line and
escaped, and the text report is printed between `::stop-commands::` markers, so a
hostile name cannot smuggle in a workflow command.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import secrets
import shlex
import sys
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import click

from scanner.models import Finding, Report, Severity
from scanner.reporters import OutputFormat, renderer_for

_INCOMPLETE = 3
_USAGE = 2
MAX_ANNOTATIONS = 50
_FILE_NAMES = {
    OutputFormat.SARIF: "wormsign.sarif",
    OutputFormat.JSON: "wormsign.json",
    OutputFormat.MARKDOWN: "wormsign.md",
    OutputFormat.TEXT: "wormsign.txt",
}


# --- workflow commands and files ---------------------------------------------------------------


def _flatten(text: str) -> str:
    """Control characters (CR, LF, ESC, bidi) become spaces: one line, nothing hidden."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text
    )
    return " ".join(cleaned.split())


def escape_data(text: str) -> str:
    """A workflow command's message: one line, `%` escaped so nothing decodes into a newline."""
    return _flatten(text).replace("%", "%25")


def escape_property(text: str) -> str:
    """A workflow command property value (`file=`, `title=`): `:` and `,` escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(kind: str, message: str, **properties: str | int | None) -> str:
    """`::error file=a,line=3,title=t::message`, every part escaped."""
    props = ",".join(
        f"{k}={escape_property(str(v))}"
        for k, v in properties.items()
        if v is not None and str(v) != ""
    )
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}"


def append_file(path: str | None, text: str) -> None:
    """Append to a GitHub file command target (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def set_outputs(env: Mapping[str, str], **outputs: str | int | bool) -> None:
    """Step outputs, each in the heredoc form with a random delimiter (no value can end it)."""
    chunks = []
    for name, value in outputs.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        chunks.append(f"{name}<<{delimiter}\n{_flatten(text)}\n{delimiter}\n")
    append_file(env.get("GITHUB_OUTPUT"), "".join(chunks))


@contextlib.contextmanager
def commands_stopped(out: TextIO | None = None) -> Iterator[None]:
    """Between these markers the runner ignores workflow commands in the log."""
    stream = out or sys.stdout
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", file=stream, flush=True)
    try:
        yield
    finally:
        print(f"::{token}::", file=stream, flush=True)


def _truthy(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanInputs:
    """The action's inputs that the scan step reads."""

    targets: tuple[str, ...]
    fail_on: str
    formats: tuple[OutputFormat, ...]
    output_dir: Path
    config: str | None
    online: bool
    min_release_age: str | None
    """An ISO 8601 duration for `--min-release-age`; None leaves it to the config."""
    summary: bool
    annotations: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ScanInputs:
        """Parse WORMSIGN_* variables; raise click.UsageError naming a bad input."""
        try:
            targets = tuple(shlex.split(env.get("WORMSIGN_TARGETS", "") or "."))
        except ValueError as err:
            raise click.UsageError(f"input targets: {err}") from None
        fail_on = (env.get("WORMSIGN_FAIL_ON") or "high").strip().lower()
        try:
            Severity.parse(fail_on)
        except ValueError as err:
            raise click.UsageError(f"input fail-on: {err}") from None
        formats: list[OutputFormat] = []
        for word in (env.get("WORMSIGN_FORMATS") or "sarif,markdown").replace(",", " ").split():
            try:
                fmt = OutputFormat(word.strip().lower())
            except ValueError:
                known = ", ".join(f.value for f in OutputFormat)
                raise click.UsageError(
                    f"input formats: unknown format {word!r} (known: {known})"
                ) from None
            if fmt not in formats:
                formats.append(fmt)
        if _truthy(env.get("WORMSIGN_UPLOAD_SARIF"), True) and OutputFormat.SARIF not in formats:
            formats.append(OutputFormat.SARIF)
        min_release_age = (env.get("WORMSIGN_MIN_RELEASE_AGE") or "").strip() or None
        if min_release_age is not None:
            from scanner.checks.freshness.duration import parse_duration

            try:
                parse_duration(min_release_age)
            except ValueError as err:
                raise click.UsageError(f"input min-release-age: {err}") from None
        return cls(
            targets=targets or (".",),
            fail_on=fail_on,
            formats=tuple(formats),
            output_dir=Path(env.get("WORMSIGN_OUTPUT_DIR") or "wormsign-reports"),
            config=(env.get("WORMSIGN_CONFIG") or "").strip() or None,
            online=_truthy(env.get("WORMSIGN_ONLINE"), False),
            min_release_age=min_release_age,
            summary=_truthy(env.get("WORMSIGN_SUMMARY"), True),
            annotations=_truthy(env.get("WORMSIGN_ANNOTATIONS"), True),
        )

    def scan_argv(self) -> list[str]:
        """The `wormsign scan` command line these inputs mean (the action is that command)."""
        argv = ["--fail-on", self.fail_on, "--online" if self.online else "--offline"]
        if self.config:
            argv += ["--config", self.config]
        if self.min_release_age:
            argv += ["--min-release-age", self.min_release_age]
        return [*argv, "--", *self.targets]


# --- steps -------------------------------------------------------------------------------------


def step_prepare(env: Mapping[str, str]) -> int:
    """Outputs: db-dir (what actions/cache saves) and db-key (one per UTC day)."""
    from scanner.checks.advisories.database import default_db_path

    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    set_outputs(
        env,
        **{
            "db-dir": str(default_db_path().parent),
            "db-key": f"wormsign-osv-v1-{env.get('RUNNER_OS', 'any')}-{today}",
            "db-restore-prefix": f"wormsign-osv-v1-{env.get('RUNNER_OS', 'any')}-",
        },
    )
    return 0


def step_update_db(env: Mapping[str, str]) -> int:
    """Import the OSV export unless the cache restored today's database."""
    from scanner.checks.advisories.database import default_db_path, update_database
    from scanner.errors import ScannerError

    db = default_db_path()
    if _truthy(env.get("WORMSIGN_CACHE_HIT"), False) and db.is_file():
        print(f"wormsign: using today's cached advisory database {escape_data(str(db))}")
        return 0
    source = (env.get("WORMSIGN_DATABASE") or "").strip() or None
    try:
        summary = update_database(source)
    except ScannerError as err:
        print(
            workflow_command(
                "error", f"wormsign: advisory database: {err.diagnostics()}", title="wormsign"
            )
        )
        return _INCOMPLETE
    print(
        f"wormsign: imported {summary.records} advisories into "
        f"{escape_data(str(summary.path))} in {summary.seconds:.1f} s"
    )
    return 0


def _relative(path: str) -> str | None:
    """A path GitHub can annotate: relative to the workspace, or None if outside it."""
    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path.cwd().resolve()) if p.is_absolute() else p
    except (ValueError, OSError):
        return None
    text = rel.as_posix()
    return None if text.startswith("..") else text


def annotation_lines(report: Report) -> list[str]:
    """::error for findings that block, ::warning for the rest at medium or above."""
    out: list[str] = []
    blocking = [f for f in report.findings if f.severity >= report.fail_on]
    warning = [
        f for f in report.findings if f.severity < report.fail_on and f.severity >= Severity.MEDIUM
    ]
    for kind, findings in (("error", blocking), ("warning", warning)):
        out.extend(_annotation(kind, f) for f in findings[:MAX_ANNOTATIONS])
        if len(findings) > MAX_ANNOTATIONS:
            out.append(
                workflow_command(
                    kind,
                    f"wormsign: {len(findings) - MAX_ANNOTATIONS} more; see the report",
                    title="wormsign",
                )
            )
    return out


def _annotation(kind: str, f: Finding) -> str:
    file = _relative(f.path) if f.path else None
    where = "" if file or not f.path else f" ({f.path})"
    pkg = (
        f" {f.package}=={f.version}"
        if f.package and f.version
        else (f" {f.package}" if f.package else "")
    )
    message = f"{f.severity.label}{pkg}: {f.message}{where}" + (f" Fix: {f.fix}" if f.fix else "")
    return workflow_command(
        kind, message, file=file, line=f.line if file else None, title=f"wormsign {f.rule_id}"
    )


def _scan(inputs: ScanInputs) -> tuple[Report | None, int, str]:
    """Run `wormsign scan` in-process: (report, exit code, error message)."""
    from scanner.cli.common import exit_code, run_scan
    from scanner.cli.scan import scan

    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            ctx = scan.make_context("scan", inputs.scan_argv())
            report = run_scan(ctx.params)
    except click.ClickException as err:
        return None, _USAGE, err.format_message()
    except SystemExit as stop:  # run_scan's fail(): the message is on (captured) stderr
        code = stop.code if isinstance(stop.code, int) else _INCOMPLETE
        return None, code or _INCOMPLETE, errors.getvalue().strip() or "scan failed"
    return report, int(exit_code(report)), ""


def step_scan(env: Mapping[str, str]) -> int:
    """Scan the workspace; write reports, the step summary, annotations and outputs."""
    if env.get("GITHUB_WORKSPACE"):
        os.chdir(env["GITHUB_WORKSPACE"])
    try:
        inputs = ScanInputs.from_env(env)
    except click.UsageError as err:
        return _scan_failed(env, _USAGE, err.format_message())
    report, code, error = _scan(inputs)
    if report is None:
        return _scan_failed(env, code, error)
    inputs.output_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for fmt in inputs.formats:
        path = inputs.output_dir / _FILE_NAMES[fmt]
        path.write_text(renderer_for(fmt)(report), encoding="utf-8")
        files[f"{fmt.value}-file"] = str(path)
    from scanner.reporters.text import render_text

    with commands_stopped():
        print(render_text(report, color=False), end="", flush=True)
    if inputs.annotations:
        for line in annotation_lines(report):
            print(line)
    if inputs.summary:
        from scanner.reporters.markdown import render_markdown

        append_file(env.get("GITHUB_STEP_SUMMARY"), render_markdown(report))
    outputs: dict[str, str | int | bool] = {
        "exit-code": code,
        "blocked": report.blocked,
        "findings": len(report.findings),
        **files,
    }
    set_outputs(env, **outputs)
    return 0


def _scan_failed(env: Mapping[str, str], code: int, message: str) -> int:
    what = "configuration error" if code == _USAGE else "scan incomplete"
    print(workflow_command("error", f"wormsign: {what}: {message}", title="wormsign"))
    append_file(
        env.get("GITHUB_STEP_SUMMARY"),
        f"## wormsign ❌ {what}\n\n{_md_line(message)}\n\nThe job must not start (exit {code}).\n",
    )
    set_outputs(env, **{"exit-code": code, "blocked": True, "findings": 0})
    return 0


def _md_line(text: str) -> str:
    from scanner.reporters.markdown import md_escape

    return md_escape(text)


def step_gate(env: Mapping[str, str]) -> int:
    """Fail the job with the scan's exit code; a missing or odd code fails closed (3)."""
    raw = (env.get("WORMSIGN_EXIT_CODE") or "").strip()
    code = int(raw) if raw.isdigit() else _INCOMPLETE
    if not raw.isdigit():
        print(
            workflow_command(
                "error", "wormsign: the scan step left no verdict; failing closed", title="wormsign"
            )
        )
    meaning = {
        0: "passed",
        1: "blocked by findings",
        2: "configuration error",
        3: "scan incomplete",
    }.get(code, "failed")
    print(f"wormsign: {meaning} (exit {code})")
    return code


STEPS = {"prepare": step_prepare, "update-db": step_update_db, "scan": step_scan, "gate": step_gate}


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one step; the exit code is the step's."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in STEPS:
        usage = f"python -m scanner.integrations.github_action {{{','.join(STEPS)}}}"
        print(f"usage: {usage}", file=sys.stderr)
        return _USAGE
    return STEPS[args[0]](os.environ if env is None else env)


if __name__ == "__main__":
    sys.exit(main())
