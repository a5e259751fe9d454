"""The Markdown step summary: a verdict, counts, findings; nothing a package controls escapes."""

from __future__ import annotations

import re

from scanner.models import Finding, Severity, Skipped
from scanner.reporters.markdown import MAX_ROWS, md_escape, render_markdown
from tests.reporters.conftest import HOSTILE, every_severity, make_report


def table_rows(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def cells(row: str) -> list[str]:
    """Split a GFM table row on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]


FINDINGS_HEADER = "| severity | rule | package | where | message | fix |"


def test_verdict_counts_and_findings() -> None:
    text = render_markdown(make_report(every_severity()))
    assert "❌ blocked" in text
    assert "**BLOCKED**: 2 findings at or above `high`" in text
    counts = {cells(r)[0]: int(cells(r)[1]) for r in table_rows(text, "| severity | findings |")}
    assert counts == {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 1}
    rows = [cells(r) for r in table_rows(text, FINDINGS_HEADER)]
    assert len(rows) == 5
    assert rows[1] == [
        "high",
        "WS-TEST-HIGH",
        "lightning==2.6.2",
        "requirements.txt:4",
        "pinned to a malicious version",
        "upgrade to 2.6.4",
    ]
    assert rows[2][3] == "sub dir/requirements \\#1.txt:2"


def test_passed() -> None:
    text = render_markdown(make_report(every_severity()[2:], fail_on=Severity.CRITICAL))
    assert "✅ passed" in text and "**Passed**: nothing at or above `critical`." in text
    assert "BLOCKED" not in text


def test_empty_report_has_no_findings_section() -> None:
    text = render_markdown(make_report([]))
    assert "### Findings" not in text and "✅ passed" in text


def test_hostile_text_cannot_break_out() -> None:
    hostile = Finding(
        "WS-TEST-HIGH",
        Severity.HIGH,
        HOSTILE,
        package=HOSTILE,
        version="1",
        path=HOSTILE,
        line=3,
        evidence=HOSTILE,
        fix=HOSTILE,
    )
    text = render_markdown(
        make_report([hostile], skipped=(Skipped(HOSTILE, HOSTILE),), notes=(HOSTILE,))
    )
    for bad in ("\r", "\x1b", "\x00", "\u202e", "<img", "\n::", "`code`"):
        assert bad not in text, bad
    assert not re.search(r"(?<!\\)\]\(", text)  # no live link
    assert not re.search(r"(?<!\\)`", text.split("### Findings")[1])  # no code span opens
    rows = table_rows(text, FINDINGS_HEADER)
    assert len(rows) == 1 and len(cells(rows[0])) == 6  # the pipe did not add a column
    skipped = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(skipped) == 2  # one skipped entry, one note: newlines did not add lines


def test_md_escape() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("`x`") == "\\`x\\`"
    assert md_escape("line1\r\nline2\tend") == "line1 line2 end"
    assert md_escape("<b>&") == "&lt;b&gt;&amp;"
    assert md_escape("[t](u)") == "\\[t\\](u)"
    assert md_escape("\x1b[31mred") == "\\[31mred"


def test_long_reports_are_capped() -> None:
    many = [Finding("R", Severity.LOW, f"m{i}", path=f"f{i}") for i in range(MAX_ROWS + 5)]
    text = render_markdown(make_report(many))
    assert len(table_rows(text, FINDINGS_HEADER)) == MAX_ROWS
    assert "and 5 more findings" in text
