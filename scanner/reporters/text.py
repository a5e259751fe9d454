"""The terminal report: one row per package, fitted to the terminal, and a summary line.

A row is a short block: the worst severity, the package and the one upgrade that clears
its advisories, then the advisory ids, the places (relative to the scanned directory or
the site-packages they lie in) and each other finding on its own line. Lines are wrapped
between words at the terminal's width (`COLUMNS`, else the terminal, else 100), never
inside a word: a path or an id is always whole and can be copied. Only a single word
longer than the whole width (a very long path) can make a line longer than the width.
The summary line is never wrapped, so `| tail -1` gives it whole.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.models import ADVISORY_RULES, Finding, Report, Severity

DEFAULT_WIDTH = 100
"""When neither COLUMNS nor a terminal says (a CI log)."""
MIN_WIDTH = 40
INDENT = 10
"""Where a row's details start: under the package, past the severity."""
MAX_PLACES = 3
MAX_IDS = 8
"""Advisory ids shown per package; the JSON and SARIF reports list every one."""

_ANSI = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_RESET = "\x1b[0m"
_SITE_DIRS = frozenset({"site-packages", "dist-packages"})


def safe_text(text: str) -> str:
    """Printable text: control characters (terminal escapes, newlines) shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def terminal_width() -> int:
    """The width to render at: COLUMNS, else the terminal's, else DEFAULT_WIDTH."""
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def summary_line(report: Report, elapsed: float | None = None, detailed: bool = True) -> str:
    """The one line every text report ends with: verdict, counts by severity, verdicts
    reused from the cache, time."""
    counts = ", ".join(f"{n} {sev}" for sev, n in report.counts().items() if n)
    verdict = "INCOMPLETE" if report.incomplete else ("BLOCKED" if report.blocked else "passed")
    line = (
        f"wormsign: {verdict} (fail-on {report.fail_on.label}): {report.packages} packages, "
        f"{report.files_hashed} files hashed, "
        f"{len(report.findings)} findings{' (' + counts + ')' if counts else ''}, "
        f"{len(report.skipped)} skipped"
        f"{f', {len(report.suppressed)} suppressed' if report.suppressed else ''}"
        f"{f', {len(report.errors)} could not be scanned' if report.errors else ''}"
    )
    if report.verdicts:
        line += f", reused {report.verdicts_reused} of {report.verdicts} verdicts"
    if elapsed is not None:
        line += f" in {elapsed:.1f} s"
    if not detailed and (report.findings or report.skipped or report.notes or report.errors):
        line += " (-v for details)"
    return safe_text(line)


class Places:
    """Shows a finding's path relative to the site-packages it lies in, else to the
    working directory, else to the scanned directory holding it; else as it is."""

    def __init__(self, report: Report, cwd: Path | None = None) -> None:
        self.cwd = cwd if cwd is not None else Path.cwd()
        roots = [env.site_packages for env in report.inventory.environments]
        for target in report.targets:
            if target not in ("-", ""):
                t = Path(os.path.abspath(target))
                roots.append(t if t.is_dir() else t.parent)
        # The deepest root first: a file is shown relative to the nearest one.
        self.roots = sorted(set(roots), key=lambda p: len(p.parts), reverse=True)

    def show(self, path: str | None, line: int | None = None) -> str:
        """The place to print (`path:line`), never empty for a finding with a path."""
        if not path:
            return ""
        shown = self._relative(path)
        return safe_text(f"{shown}:{line}" if line else shown)

    def _relative(self, path: str) -> str:
        p = Path(path)
        if not p.is_absolute():
            return path
        p = Path(os.path.normpath(p))
        for i in range(len(p.parts) - 2, 0, -1):
            if p.parts[i] in _SITE_DIRS:
                return Path(*p.parts[i + 1 :]).as_posix()
        for root in (self.cwd, *self.roots):
            # Never relative to `/`: `etc/x` would read as a path under the project.
            if root != Path(root.anchor) and p != root and p.is_relative_to(root):
                return p.relative_to(root).as_posix()
        return path


@dataclass(frozen=True, slots=True)
class Row:
    """One package's findings (or one finding that names no package)."""

    severity: Severity
    title: str
    """`transformers 4.51.3`, or the place of a finding without a package."""
    upgrade: str | None
    """The one version that clears every advisory of the package."""
    advisories: tuple[tuple[str, tuple[str, ...]], ...]
    """Per advisory rule (WS-ADV-MAL first), the advisory ids."""
    places: tuple[str, ...]
    """Where the advisories were found (a lock file line, a dist-info); `line N` when
    they all lie in `file`."""
    file: str | None
    """The one file every finding of the row lies in, shown as the rows' heading."""
    others: tuple[str, ...]
    """Every other finding, one line each: `RULE place: message (fix: ...)`."""
    unfixed: bool = False
    """Some advisory of the package has no fixed release."""


def advisory_id(f: Finding) -> str:
    """The advisory's own id (PYSEC-, GHSA-, MAL-), else the rule id."""
    return f.references[0] if f.references and "://" not in f.references[0] else f.rule_id


def _ids(findings: Iterable[Finding]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(safe_text(advisory_id(f)) for f in findings))


def group_rows(report: Report, places: Places) -> list[Row]:
    """One row per package (name and version), most severe first, in the report's order
    otherwise; findings naming no package are a row each."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for f in sorted(report.findings, key=Finding.sort_key):
        if f.package:
            key: tuple[str, ...] = ("pkg", f.package, f.version or "")
        else:
            key = ("one", str(len(groups)))
        groups.setdefault(key, []).append(f)
    rows = [_row(findings, places) for findings in groups.values()]
    rows.sort(key=lambda r: -int(r.severity))  # stable: keeps the findings' order
    return rows


def _row(findings: Sequence[Finding], places: Places) -> Row:
    first = findings[0]
    if not first.package and first.path:
        # About a file as a whole (a lock file without hashes): under that file's heading.
        fix = f" (fix: {first.fix})" if first.fix else ""
        return Row(
            severity=first.severity,
            title=safe_text(first.rule_id + (f" line {first.line}" if first.line else "")),
            upgrade=None,
            advisories=(),
            places=(),
            file=places.show(first.path),
            others=(safe_text(f"{first.message}{fix}"),),
        )
    advisories = [f for f in findings if f.rule_id in ADVISORY_RULES]
    if first.package:
        title = safe_text(f"{first.package} {first.version}" if first.version else first.package)
    else:
        title = places.show(first.path, first.line) or safe_text(first.rule_id)
    upgrades = [f.fix_version for f in advisories if f.fix_version]
    files = {places.show(f.path) for f in findings}
    # A heading only for a file whose lines the findings name (a lock file); an installed
    # package's findings keep their places inline.
    file = files.pop() if len(files) == 1 and any(f.line for f in findings) else None
    others = []
    for f in findings:
        if f.rule_id in ADVISORY_RULES:
            continue
        where = places.show(f.path, f.line)
        if file is not None:
            where = f"line {f.line}" if f.line else ""
        where = "" if where in (title, "") else f" {where}"
        fix = f" (fix: {f.fix})" if f.fix else ""
        others.append(safe_text(f"{f.rule_id}{where}: {f.message}{fix}"))
    return Row(
        severity=max(f.severity for f in findings),
        title=title,
        upgrade=safe_text(upgrades[0]) if upgrades else None,
        advisories=tuple(
            (rule, ids)
            for rule in sorted(ADVISORY_RULES, key=lambda r: r != "WS-ADV-MAL")
            if (ids := _ids(f for f in advisories if f.rule_id == rule))
        ),
        places=tuple(
            dict.fromkeys(
                (f"line {f.line}" if f.line else "") if file else places.show(f.path, f.line)
                for f in advisories
                if f.path
            )
        )
        if not file or any(f.line for f in advisories)
        else (),
        file=file,
        others=tuple(others),
        unfixed=bool(advisories) and not upgrades,
    )


def wrap(text: str, width: int, first: str = "", indent: int = INDENT) -> list[str]:
    """`text` wrapped between words to `width`, the first line after `first`, the rest
    indented; a word is never cut, and one longer than the indented room starts its
    own unindented line."""
    pad = " " * indent
    lines = textwrap.wrap(
        text,
        width=width,
        initial_indent=first or pad,
        subsequent_indent=pad,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]
    return [ln.strip() if len(ln) > width and ln.startswith(pad) else ln for ln in lines]


def render_row(row: Row, width: int, color: bool = False, all_ids: bool = False) -> list[str]:
    """One row's lines, each at most `width` long (whole words only); at most MAX_IDS
    advisory ids per rule unless `all_ids`."""
    label = row.severity.label
    head = row.title
    shown = [p for p in row.places[:MAX_PLACES] if p]
    more = len(row.places) - len(shown)
    where = ", ".join(shown) + (f" and {more} more" if more else "")
    if row.file is not None and shown:
        head += f" ({where})"
    if row.upgrade:
        head += f"  upgrade to {row.upgrade}"
    elif any(rule == "WS-ADV-MAL" for rule, _ in row.advisories):
        head += "  malicious: remove it"
    elif row.unfixed:
        head += "  no fixed release"
    lines = wrap(head, width, first=f"{label:<{INDENT - 2}}  ")
    if color:
        lines[0] = _ANSI[row.severity] + label + _RESET + lines[0][len(label) :]
    for rule, ids in row.advisories:
        n = len(ids)
        what = "malicious" if rule == "WS-ADV-MAL" else ("advisory" if n == 1 else "advisories")
        cap = len(ids) if all_ids else MAX_IDS
        listed = " ".join(ids[:cap]) + (f" and {n - cap} more" if n > cap else "")
        lines += wrap(f"{n} {what} ({rule}): {listed}", width)
    if row.file is None and shown:
        lines += wrap(f"at {where}", width)
    for other in row.others:
        lines += wrap(other, width)
    return lines


def _wrapped(prefix: str, texts: Iterable[str], width: int) -> list[str]:
    out: list[str] = []
    for text in texts:
        out += wrap(safe_text(text), width, first=prefix, indent=len(prefix))
    return out


def render_text(
    report: Report,
    *,
    color: bool | None = None,
    width: int | None = None,
    verbose: bool = True,
    quiet: bool = False,
    elapsed: float | None = None,
) -> str:
    """The report as text for a terminal (colour only when asked and NO_COLOR is unset).

    `width` defaults to the terminal's (COLUMNS). Quiet on success: with `verbose` False
    a passing report is its summary line alone; the rows, errors, skipped entries and
    notes appear when the gate blocks or with `verbose`; `quiet` prints the summary line
    alone in every case."""
    color = bool(color) and not os.environ.get("NO_COLOR")
    width = max(MIN_WIDTH, width if width is not None else terminal_width())
    detailed = (verbose or report.blocked or report.incomplete) and not quiet
    lines: list[str] = []
    if detailed:
        places = Places(report)
        rows = group_rows(report, places)
        # Under a heading per file (a lock file, a site-packages entry), most severe first.
        by_file: dict[str | None, list[Row]] = {}
        for row in rows:
            by_file.setdefault(row.file, []).append(row)
        for file, file_rows in by_file.items():
            if lines:
                lines.append("")
            if file is not None:
                lines += wrap(file, width, indent=0)
            for row in file_rows:
                lines += render_row(row, width, color, all_ids=verbose)
        lines += _wrapped("skipped: ", (f"{s.target}: {s.reason}" for s in report.skipped), width)
        lines += _wrapped(
            "error: ", (f"{places.show(s.target)}: {s.reason}" for s in report.errors), width
        )
        lines += _wrapped("note: ", report.notes, width)
    lines.append(summary_line(report, elapsed, detailed or quiet))
    return "\n".join(lines) + "\n"
