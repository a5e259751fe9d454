"""wormsign's own wheel passes its own gate: signatures are data, not indicators."""

from __future__ import annotations

from pathlib import Path

from scanner.checks.heuristics.check import scan_distribution_file
from scanner.models import Severity
from tests.helpers.wheels import make_wheel

REPO = Path(__file__).resolve().parents[1]


def test_own_wheel_has_no_blocking_heuristic_finding(tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    for path in sorted((REPO / "scanner").rglob("*.py")):
        files[path.relative_to(REPO).as_posix()] = path.read_bytes()
    for path in sorted((REPO / "rules").rglob("*")):
        if path.is_file():
            files["scanner/_rules/" + path.relative_to(REPO / "rules").as_posix()] = (
                path.read_bytes()
            )
    wheel = make_wheel(tmp_path, "wormsign", "0.1.0", files)
    blocking = [f for f in scan_distribution_file(wheel) if f.severity >= Severity.HIGH]
    assert blocking == [], "\n".join(
        f"{f.rule_id} {f.path}:{f.line} {f.evidence}" for f in blocking
    )
