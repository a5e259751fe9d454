"""Where the shipped data lives: the rule catalogue and its lists."""

from __future__ import annotations

from pathlib import Path

from scanner.errors import RuleError


def rules_dir() -> Path:
    """The rules directory: `<repo>/rules` in a checkout, `scanner/_rules` when installed."""
    package_dir = Path(__file__).resolve().parents[1]
    for candidate in (package_dir / "_rules", package_dir.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise RuleError(
        "no rules directory found",
        path=str(package_dir / "_rules"),
        hint="reinstall wormsign; the wheel ships scanner/_rules",
    )
