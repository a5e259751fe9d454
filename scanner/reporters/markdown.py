"""Markdown for a CI step summary (`$GITHUB_STEP_SUMMARY`).

Everything in a finding may come from the scanned input (package names, paths,
matched text), so every such string is flattened to one line and escaped: it can
neither break the table, open a code span, inject HTML or a link, nor hide text
behind control or bidi characters.
"""

from __future__ import annotations

import unicodedata

from scanner import __version__
from scanner.models import Finding, Report

# GitHub caps a step summary at 1 MiB; a report of thousands of rows helps no reader.
MAX_ROWS = 300

# Markdown punctuation that could start emphasis, a link, a code span or a table cell.
_MD_SPECIAL = set("\\`*_[]|~!#")
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def one_line(text: str) -> str:
    """Control and format characters (CR, LF, ESC, bidi overrides) become spaces."""
    out = []
    for c in text:
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")
        elif unicodedata.category(c) == "Cs":  # a non-UTF-8 byte of a file name
            out.append("\ufffd")
        else:
            out.append(c)
    return " ".join("".join(out).split())


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell or list item."""
    out = []
    for c in one_line(text):
        if c in _HTML:
            out.append(_HTML[c])
        elif c in _MD_SPECIAL:
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def _where(f: Finding) -> str:
    if f.path is None:
        return ""
    return f"{f.path}:{f.line}" if f.line else f.path


def _package(f: Finding) -> str:
    if f.package and f.version:
        return f"{f.package}=={f.version}"
    return f.package or ""


def _findings_table(findings: tuple[Finding, ...]) -> list[str]:
    lines = ["| severity | rule | package | where | message | fix |", "|---|---|---|---|---|---|"]
    for f in findings[:MAX_ROWS]:
        cells = (f.severity.label, f.rule_id, _package(f), _where(f), f.message, f.fix or "")
        lines.append("| " + " | ".join(md_escape(c) for c in cells) + " |")
    if len(findings) > MAX_ROWS:
        lines.append("")
        lines.append(
            f"… and {len(findings) - MAX_ROWS} more findings (see the JSON or SARIF report)."
        )
    return lines


def render_markdown(report: Report) -> str:
    """The report as a GitHub step summary."""
    blocking = sum(1 for f in report.findings if f.severity >= report.fail_on)
    if report.blocked:
        verdict = (
            f"**BLOCKED**: {blocking} finding{'s' if blocking != 1 else ''} at or above "
            f"`{report.fail_on.label}`; the job must not start."
        )
    else:
        verdict = f"**Passed**: nothing at or above `{report.fail_on.label}`."
    heading = "❌ blocked" if report.blocked else "✅ passed"
    if report.incomplete:
        n = len(report.errors)
        verdict = (
            f"**INCOMPLETE**: {n} file{'s' if n != 1 else ''} could not be scanned; "
            f"the job must not start. {verdict}"
        )
        heading = "❌ incomplete"
    lines = [
        f"## wormsign {heading}",
        "",
        verdict,
        "",
        f"{report.packages} packages, {report.files_hashed} files hashed, "
        f"{len(report.findings)} findings, {len(report.skipped)} skipped"
        f"{f', {len(report.suppressed)} suppressed by policy' if report.suppressed else ''} "
        f"(wormsign {__version__}).",
        "",
        "| severity | findings |",
        "|---|---:|",
    ]
    lines += [f"| {sev} | {n} |" for sev, n in report.counts().items()]
    if report.findings:
        lines += ["", "### Findings", ""]
        lines += _findings_table(report.findings)
    if report.errors:
        lines += [
            "",
            f"### Could not be scanned ({len(report.errors)}): the scan is incomplete",
            "",
        ]
        lines += [f"- {md_escape(s.target)}: {md_escape(s.reason)}" for s in report.errors]
    if report.skipped:
        lines += ["", f"### Skipped ({len(report.skipped)})", ""]
        lines += [
            f"- {md_escape(s.target)}: {md_escape(s.reason)}" for s in report.skipped[:MAX_ROWS]
        ]
        if len(report.skipped) > MAX_ROWS:
            lines.append(f"- … and {len(report.skipped) - MAX_ROWS} more")
    if report.suppressed:
        lines += ["", f"### Suppressed by policy ({len(report.suppressed)})", ""]
        lines += [
            f"- {md_escape(s.finding.rule_id)} {md_escape(_package(s.finding))}: "
            f"{md_escape(s.reason)} ({md_escape(s.entry)})"
            for s in report.suppressed[:MAX_ROWS]
        ]
        if len(report.suppressed) > MAX_ROWS:
            lines.append(f"- … and {len(report.suppressed) - MAX_ROWS} more")
    if report.notes:
        lines += ["", "### Notes", ""]
        lines += [f"- {md_escape(n)}" for n in report.notes]
    return "\n".join(lines) + "\n"
