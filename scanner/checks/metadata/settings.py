"""The metadata check's settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanner.infra.pypi import DEFAULT_PYPI_URL


@dataclass(frozen=True, slots=True)
class MetadataSettings:
    """Where the public index's JSON API is, and an override of the shipped name lists."""

    pypi_url: str = DEFAULT_PYPI_URL
    """Base of the PyPI JSON API (tests, mirrors)."""
    rules_dir: Path | None = None
    """A rules directory holding `typosquat/*.txt`; None = the shipped one."""
