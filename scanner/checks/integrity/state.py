"""What the integrity passes share: the run's state, the artifacts at hand and the
constants more than one pass reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from scanner.infra.dist_names import parse_dist_filename
from scanner.infra.hash_cache import HashCache
from scanner.infra.hashing import FileHash
from scanner.models import Environment, Finding, InstalledDistribution, Inventory, RecordEntry
from scanner.options import ScanOptions

CODE_SUFFIXES = frozenset({".py", ".pyc", ".pyo", ".pyw", ".pth", ".so", ".pyd", ".dylib", ".dll"})
_TOLERATED_METADATA = frozenset(
    {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD", "RECORD.jws", "RECORD.p7s"}
)
_HASHLESS_OK = (".pyc", ".pyo", "/RECORD", "/RECORD.jws", "/RECORD.p7s")
_MAX_EXAMPLES = 5


@dataclass
class _EnvState:
    """What one environment's pass learned, for the lock comparisons after it."""

    env: Environment
    hashes: dict[str, FileHash | OSError]
    record_paths: list[tuple[InstalledDistribution, dict[str, RecordEntry]]]
    """Each distribution with a RECORD and its entries by absolute path (a list: hashing a
    distribution would hash its whole RECORD)."""


@dataclass(frozen=True, slots=True)
class _Artifact:
    """A distribution file at hand with the sha256 of its bytes."""

    path: Path
    sha256: str
    name: str | None
    version: str | None
    kind: str


def _is_code(path: str, mode: int | None) -> bool:
    suffix = os.path.splitext(path)[1].lower()
    return suffix in CODE_SUFFIXES or (mode is not None and bool(mode & 0o111))


def _parse_artifact_name(filename: str) -> tuple[str | None, str | None, str]:
    kind = "wheel" if filename.endswith(".whl") else "sdist"
    parsed = parse_dist_filename(filename)
    return (parsed[0], parsed[1], kind) if parsed is not None else (None, None, kind)


@dataclass
class RunState:
    """One integrity run: what it reads, and what its passes find and count."""

    inventory: Inventory
    options: ScanOptions
    cache: HashCache | None
    findings: list[Finding] = field(default_factory=list)
    files_hashed: int = 0
    env_states: list[_EnvState] = field(default_factory=list)
