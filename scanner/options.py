"""Options every check may read. Built by the CLI or by `scanner.gate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scanner.models import Severity


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What the user asked for, independent of how they asked (CLI, config, API)."""

    fail_on: Severity = Severity.HIGH
    online: bool = False
    """Use network sources (OSV API, PyPI JSON, integrity API). Off by default."""
    db_path: Path | None = None
    """OSV database (SQLite) or an OSV export zip; None = the default cache location."""
    use_cache: bool = True
    """Use the hash cache; `--no-cache` turns it off."""
    cache_dir: Path | None = None
    """Override the user cache directory (tests use a temporary one)."""
    wheelhouses: tuple[Path, ...] = ()
    """Directories with the locked artifacts, to verify against lock hashes."""
    attestations_dir: Path | None = None
    checks: frozenset[str] | None = None
    """Names of the checks to run; None = all."""
    verbose: bool = False
    progress: bool = False
    """Show a progress bar on stderr (the CLI sets it when stderr is a TTY)."""
    extra: dict[str, object] = field(default_factory=dict, hash=False, compare=False)
    """Per-check settings from config (provenance policy, allowlists ...)."""
