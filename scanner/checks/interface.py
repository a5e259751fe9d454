"""The one shape every check has: (Inventory, CheckContext) -> CheckResult.

Checks only judge: they never parse targets (sources do that) and never filter
(policy does that). They must not execute scanned code. Whatever a check has to tell
the gate besides findings (what it could not verify, warnings for humans, how much it
did) travels in its CheckResult, so the gate composes results and knows nothing of any
check's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scanner.models import Finding, Inventory, Skipped
from scanner.options import ScanOptions

FILES_HASHED = "files_hashed"
"""Counter: installed files the check verifies by hash or size (Report.files_hashed)."""
VERDICTS = "verdicts"
"""Counter: contents (distributions, archives, model files) judged by content verdict."""
VERDICTS_REUSED = "verdicts_reused"
"""Counter: those whose verdict came from the verdict store instead of being judged again."""


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may read besides the inventory: the scan's options, typed."""

    options: ScanOptions = field(default_factory=ScanOptions)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything one check has to say about an inventory."""

    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    """Things the check saw but could not verify (always reported)."""
    notes: tuple[str, ...] = ()
    """Warnings for humans that are not findings (an old advisory database ...)."""
    counters: tuple[tuple[str, int], ...] = ()
    """Named amounts of work done, e.g. (FILES_HASHED, 1234)."""

    @classmethod
    def of(
        cls,
        findings: Iterable[Finding],
        *,
        skipped: Iterable[Skipped] = (),
        notes: Iterable[str] = (),
        counters: Iterable[tuple[str, int]] = (),
    ) -> CheckResult:
        """A result from any iterables (a generator of findings, a list of notes)."""
        return cls(
            findings=tuple(findings),
            skipped=tuple(skipped),
            notes=tuple(notes),
            counters=tuple(counters),
        )

    def count(self, name: str) -> int:
        """The counter `name`, 0 when the check did not report it."""
        return sum(value for key, value in self.counters if key == name)


Check = Callable[[Inventory, CheckContext], CheckResult]
