"""Reports for the reporter tests, built from plain findings (no scan needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.models import Finding, Report, Severity, Skipped

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPO.parent / "shared" / "data" / "schemas" / "sarif-schema-2.1.0.json"

# Strings a hostile package could put in a finding: workflow commands, terminal escapes,
# Markdown/HTML injection, bidi overrides, NUL.
HOSTILE = (
    "evil\r\n::error file=x::pwned\n::set-output name=a::b "
    "\x1b[31mred\x1b[0m | `code` <img src=x onerror=alert(1)> [link](http://x) "
    "\u202egnp.exe\x00 100% \\ *bold* _it_"
)


def make_report(
    findings: list[Finding],
    *,
    fail_on: Severity = Severity.HIGH,
    targets: tuple[str, ...] = ("requirements.txt",),
    skipped: tuple[Skipped, ...] = (),
    notes: tuple[str, ...] = (),
) -> Report:
    return Report(
        targets=targets,
        findings=tuple(findings),
        skipped=skipped,
        fail_on=fail_on,
        packages=3,
        files_hashed=7,
        notes=notes,
    )


def every_severity() -> list[Finding]:
    """One finding per severity: with and without path, line, package and references."""
    return [
        Finding(
            "WS-TEST-CRIT",
            Severity.CRITICAL,
            "a file differs from its RECORD hash",
            package="torch",
            version="2.4.0+cu121",
            path="/abs/site-packages/torch/__init__.py",
            evidence="sha256 aaaa != bbbb",
            references=("MAL-2024-1", "https://osv.dev/MAL-2024-1"),
        ),
        Finding(
            "WS-TEST-HIGH",
            Severity.HIGH,
            "pinned to a malicious version",
            package="lightning",
            version="2.6.2",
            path="requirements.txt",
            line=4,
            fix="upgrade to 2.6.4",
            references=("MAL-2026-9",),
        ),
        Finding(
            "WS-LOCK-001",
            Severity.MEDIUM,
            "rich is not pinned",
            package="rich",
            path="sub dir/requirements #1.txt",
            line=2,
            evidence="rich>=13",
        ),
        Finding("WS-TEST-LOW", Severity.LOW, "no hashes", path="poetry.lock"),
        Finding("WS-TEST-INFO", Severity.INFO, "environment-wide note without a path"),
    ]


@pytest.fixture(scope="session")
def sarif_validator() -> Any:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA}")
    from jsonschema import Draft4Validator

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
