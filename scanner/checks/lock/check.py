"""Lock entries that cannot be verified: the gate cannot vouch for what a lock leaves open.

Rule ids:
- WS-LOCK-001  an entry that is not pinned to one version (medium)
- WS-LOCK-002  an entry installed from a URL, path, VCS or editable source (low)
- WS-LOCK-003  a lock file in which no entry carries a hash (low)
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.checks.interface import CheckContext, CheckResult
from scanner.models import Finding, Inventory, PinKind, Severity

# A pin needs no hash from formats that never record one (a plain requirements file without
# --hash); they get WS-LOCK-003 once per file instead of one finding per line.


def check_lock_hygiene(inventory: Inventory, context: CheckContext) -> CheckResult:
    """Findings for unpinned, unverifiable and hash-less lock entries."""
    del context  # no settings
    return CheckResult.of(_lock_findings(inventory))


def _lock_findings(inventory: Inventory) -> Iterator[Finding]:
    for lockfile in inventory.lockfiles:
        for pkg in lockfile.packages:
            if pkg.kind is PinKind.UNPINNED:
                yield Finding(
                    rule_id="WS-LOCK-001",
                    severity=Severity.MEDIUM,
                    package=pkg.name,
                    path=str(pkg.lockfile),
                    line=pkg.line,
                    message=f"{pkg.name} is not pinned to one version, so what gets installed "
                    "can change under the gate",
                    evidence=pkg.requirement,
                    fix="pin it with == and --hash (pip-compile --generate-hashes, uv lock)",
                )
            elif pkg.kind is not PinKind.PINNED and pkg.kind is not PinKind.VIRTUAL:
                yield Finding(
                    rule_id="WS-LOCK-002",
                    severity=Severity.LOW,
                    package=pkg.name,
                    path=str(pkg.lockfile),
                    line=pkg.line,
                    message=f"{pkg.name} comes from a {pkg.kind.value} source that no index "
                    "version or hash pins",
                    evidence=pkg.source_url or pkg.requirement,
                )
        pinned = [p for p in lockfile.packages if p.kind is PinKind.PINNED]
        if pinned and not any(p.hashes for p in pinned):
            yield Finding(
                rule_id="WS-LOCK-003",
                severity=Severity.LOW,
                path=str(lockfile.path),
                message=f"no entry of this {lockfile.format} file carries a hash, so the bytes "
                "installed cannot be verified",
                fix="generate hashes (pip-compile --generate-hashes, uv pip compile "
                "--generate-hashes)",
            )
