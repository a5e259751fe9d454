"""The terminal report: a rich table and a summary line."""

from __future__ import annotations

import io
import os

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scanner.models import Report, Severity

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def safe_text(text: str) -> str:
    """Printable text: control characters (terminal escapes, newlines) shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _where(path: str | None, line: int | None) -> str:
    if path is None:
        return ""
    return f"{path}:{line}" if line else path


def summary_line(report: Report, elapsed: float | None = None, detailed: bool = True) -> str:
    """The one line every text report ends with: verdict, counts by severity, verdicts
    reused from the cache, time."""
    counts = ", ".join(f"{n} {sev}" for sev, n in report.counts().items() if n)
    verdict = "BLOCKED" if report.blocked else "passed"
    line = (
        f"wormsign: {verdict} (fail-on {report.fail_on.label}): {report.packages} packages, "
        f"{report.files_hashed} files hashed, "
        f"{len(report.findings)} findings{' (' + counts + ')' if counts else ''}, "
        f"{len(report.skipped)} skipped"
        f"{f', {len(report.suppressed)} suppressed' if report.suppressed else ''}"
    )
    if report.verdicts:
        line += f", reused {report.verdicts_reused} of {report.verdicts} verdicts"
    if elapsed is not None:
        line += f" in {elapsed:.1f} s"
    if not detailed and (report.findings or report.skipped or report.notes):
        line += " (-v for details)"
    return line


def render_text(
    report: Report,
    *,
    color: bool | None = None,
    width: int = 120,
    verbose: bool = True,
    elapsed: float | None = None,
) -> str:
    """The report as text for a terminal (colour only when asked and NO_COLOR is unset).

    Quiet on success: with `verbose` False a passing report is its summary line alone;
    the table, skipped entries and notes appear when the gate blocks or with `verbose`.
    The summary line is never wrapped, whatever the width."""
    if color is None:
        color = False
    if os.environ.get("NO_COLOR"):
        color = False
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        width=width,
        highlight=False,
        soft_wrap=False,
    )
    detailed = verbose or report.blocked
    if report.findings and detailed:
        table = Table(show_lines=False, expand=False)
        for col in ("severity", "rule", "package", "where", "message"):
            table.add_column(col, overflow="fold")
        for f in report.findings:
            pkg = f"{f.package}=={f.version}" if f.package and f.version else (f.package or "")
            msg = f.message + (f" (fix: {f.fix})" if f.fix else "")
            table.add_row(
                f"[{_STYLE[f.severity]}]{f.severity.label}[/]",
                escape(f.rule_id),
                escape(safe_text(pkg)),
                escape(safe_text(_where(f.path, f.line))),
                escape(safe_text(msg)),
            )
        console.print(table)
    for s in report.skipped if detailed else ():
        console.print(f"skipped: {escape(safe_text(s.target))}: {escape(safe_text(s.reason))}")
    for note in report.notes if detailed else ():
        console.print(f"note: {escape(safe_text(note))}")
    console.print(escape(summary_line(report, elapsed, detailed)), soft_wrap=True)
    return buf.getvalue()
