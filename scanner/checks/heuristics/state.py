"""The analyser's state while it walks one module: what it has learnt so far (aliases,
folded constants, assignments, the call graph, files written and processes started) and
where it is (the unit stack). The analyser is one class built in layers, each in its own
module: `_State` (here) < `names._Names` < `folding._Folder` < `flow._Flow` <
`detectors._Detectors` < `visitor._Analyzer`."""

from __future__ import annotations

import ast
from collections.abc import Callable

from scanner.checks.heuristics.results import Analysis, Hit
from scanner.checks.heuristics.values import Value, _DecoderWrapper


class _State(ast.NodeVisitor):
    """What the analyser knows, and where it is, while it walks one module."""

    def __init__(
        self,
        result: Analysis,
        depth: int,
        line_offset: int,
        unit_prefix: str,
        analyse_source: Callable[[str, int, int, str, Analysis], None],
    ) -> None:
        self.result = result
        self.depth = depth
        self.line_offset = line_offset
        self.unit_prefix = unit_prefix
        self.analyse_source = analyse_source
        self.aliases: dict[str, str] = {}
        self.consts: dict[str, Value] = {}
        self.assigned: dict[str, ast.AST] = {}
        self.unit_stack: list[str] = [unit_prefix + "<module>"]
        self.class_stack: list[str] = []
        self.calls_from: dict[str, set[str]] = {}
        self.defined: dict[str, str] = {}
        self.hook_units: set[str] = set()
        self.decoder_wrappers: dict[str, _DecoderWrapper] = {}
        """Local functions that return a decoder applied to their argument (`def b64d(s):
        return base64.b64decode(s).decode()`, methods, lambdas), by the names they are
        called by."""
        self.decoder_units: set[str] = set()
        self._fold_locals: dict[str, ast.AST] = {}
        self.entry_names: frozenset[str] = frozenset()
        self.written: list[tuple[str, str]] = []
        """(unit, key) for each file the code opens for writing: the path's source text
        and, when it folds, its value."""
        self.spawned: list[tuple[str, ast.AST, str]] = []
        """(unit, node, command text) for each child process or startfile."""
        self.module_names: set[str] = set()
        self.download_units: set[str] = set()
        """Functions that run a command-line download to a file (curl -O, wget -O)."""
        # one level of calls for `run-written`: which parameters a function writes to
        # or runs, whether it returns a path it wrote, and the calls that pass them on
        self.params: list[tuple[str, list[str]]] = []
        self.writes_param: dict[str, set[int]] = {}
        self.spawns_param: dict[str, set[int]] = {}
        self.returns_written: set[str] = set()
        self.call_sites: list[tuple[str, ast.Call, str]] = []
        """Functions another file runs at install time (`from helper import f` in setup.py)."""
        self._seen: set[tuple[str, int, str]] = set()

    @property
    def unit(self) -> str:
        return self.unit_stack[-1]

    def hit(self, signal: str, node: ast.AST | None, evidence: str) -> None:
        line = getattr(node, "lineno", 0) + self.line_offset if node is not None else 0
        key = (signal, line, self.unit)
        if key in self._seen:
            return
        self._seen.add(key)
        self.result.hits.append(Hit(signal, line, evidence[:200], self.unit))

    def fold(self, node: ast.AST | None, budget: int = 200) -> Value:
        """The constant value of an expression, or UNKNOWN (defined by `folding._Folder`)."""
        raise NotImplementedError
