"""What the analysis of one Python file yields: hits (signal, line, unit) and the units
that run at import time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Hit:
    """One place where a signal was seen."""

    signal: str
    line: int
    evidence: str
    unit: str
    """The function (qualified name) or `<module>` whose body holds the hit."""


@dataclass(slots=True)
class Analysis:
    """Signals of one Python file, by unit, with the units that run at import time."""

    hits: list[Hit] = field(default_factory=list)
    import_time_units: set[str] = field(default_factory=lambda: {"<module>"})
    parsed: bool = True
    error: str | None = None
    imported_calls: frozenset[str] = frozenset()
    """Imported names (resolved: `pkg._net.send`, `_net.send`) that import-time code calls:
    how a package's `__init__` wires the functions of its other modules together."""
    _by_unit: dict[bool, dict[str, list[Hit]]] = field(default_factory=dict)
    _by_unit_size: int = -1
    _signal_set: frozenset[str] | None = None

    def signals(self, *, import_time: bool = False) -> set[str]:
        """Every signal seen (only in import-time units when asked)."""
        return {h.signal for h in self.select(import_time=import_time)}

    def select(self, *, import_time: bool = False) -> Iterator[Hit]:
        """Hits, optionally only those in units that run at import time."""
        for hit in self.hits:
            if not import_time or hit.unit in self.import_time_units:
                yield hit

    def by_unit(self, *, import_time: bool = False) -> dict[str, list[Hit]]:
        """Hits grouped by the unit (function or module body) that holds them (computed
        once: every python-ast rule asks for it)."""
        cached = self._by_unit.get(import_time)
        if cached is not None and self._by_unit_size == len(self.hits):
            return cached
        out: dict[str, list[Hit]] = {}
        for hit in self.select(import_time=import_time):
            out.setdefault(hit.unit, []).append(hit)
        if self._by_unit_size != len(self.hits):
            self._by_unit.clear()
            self._by_unit_size = len(self.hits)
        self._by_unit[import_time] = out
        return out

    def signal_set(self) -> frozenset[str]:
        """Every signal of the file, anywhere (a rule that needs one absent here cannot
        match, whatever the grouping)."""
        if self._signal_set is None or self._by_unit_size != len(self.hits):
            self._signal_set = frozenset(h.signal for h in self.hits)
        return self._signal_set
