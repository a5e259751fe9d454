"""Fixtures shared by the hostile-input tests."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

import scanner.gate

# Every check the project has, whether or not the gate wires it yet: hostile input must
# be safe for each of them. The gate's own registration wins where it exists.
ALL_CHECKS: dict[str, str] = {
    "integrity": "scanner.checks.integrity.check:check_integrity",
    "heuristics": "scanner.checks.heuristics.content:check_heuristics",
    "models": "scanner.checks.models.check:check_model_files",
}


def available_checks() -> dict[str, str]:
    """The gate's checks plus those above whose module imports."""
    out = dict(scanner.gate.CHECKS)
    for name, spec in ALL_CHECKS.items():
        module = spec.split(":")[0]
        already = any(s.split(":")[0] == module for s in out.values())
        if not already and importlib.util.find_spec(module) is not None:
            out[name] = spec
    return out


@pytest.fixture
def every_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The gate runs every check the project has (in this process)."""
    checks = available_checks()
    monkeypatch.setattr(scanner.gate, "CHECKS", checks)
    yield checks


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """A private cache directory for one test."""
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    return path
