"""A check is a function from the inventory (and options) to findings.

Checks only judge: they never parse targets (sources do that) and never filter
(policy does that). They must not execute scanned code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scanner.models import Finding, Inventory
from scanner.options import ScanOptions

Check = Callable[[Inventory, ScanOptions], Iterable[Finding]]
