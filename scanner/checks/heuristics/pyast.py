"""Static analysis of Python source: what the code can do and what it is after.

Nothing here imports, compiles to bytecode or runs the code it reads. The source is
parsed with `ast`, names are resolved through the module's imports, constant
expressions are folded (string concatenation, `"".join`, `chr`, `bytes.fromhex`,
base64 / zlib / lzma / bz2 / hex / rot13 decodes), and literal payloads that would be
handed to `exec` are decoded in memory (bounded) and analysed in turn.

The result is a set of *signals* (a closed vocabulary, `SIGNALS`), each with the line
where it was seen and whether that place runs when the module is imported (module
level, or a function that module-level code calls) or only when some function is
called. Rules (`rules/*.toml`, kind `python-ast`) combine signals; a capability alone
(network, subprocess) is never enough for a blocking rule.

This module holds the entry points (`analyse`, `may_have_capability`, `parses`,
`parse_tolerant`, `iter_strings`) and re-exports the vocabulary; the analyser itself is
built in layers: `vocabulary` (signals), `values` (folded values, bounded decoders),
`state`, `names` (name resolution), `folding` (constant folding), `flow` (data flow),
`detectors` (calls, strings, spawns, execs to signals), `visitor` (the walk), `parsing`.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import re
from collections.abc import Iterable, Iterator

from scanner.checks.heuristics.detectors import MAX_DEPTH
from scanner.checks.heuristics.literals import literal_regex_bytes
from scanner.checks.heuristics.parsing import (
    MAX_REPAIR_SOURCE,
    MAX_REPAIRS,
    _parse,
    parse_tolerant,
    parses,
)
from scanner.checks.heuristics.results import Analysis, Hit
from scanner.checks.heuristics.values import MAX_FOLD, UNKNOWN, Value
from scanner.checks.heuristics.visitor import _Analyzer
from scanner.checks.heuristics.vocabulary import (
    CALL_SIGNALS,
    CATALOGUE_TOKENS,
    DECODED_INTENTS,
    DECODER_NAMES,
    SIGNALS,
    STRING_SIGNALS,
    STRUCTURAL_SIGNALS,
    call_signals,
    string_signals,
)

__all__ = [
    "CALL_SIGNALS",
    "CAPABILITY_TOKENS",
    "DECODED_INTENTS",
    "DECODER_NAMES",
    "MAX_DEPTH",
    "MAX_FOLD",
    "MAX_REPAIRS",
    "MAX_REPAIR_SOURCE",
    "MAX_SOURCE",
    "SIGNALS",
    "STRING_SIGNALS",
    "STRUCTURAL_SIGNALS",
    "UNKNOWN",
    "Analysis",
    "Hit",
    "Value",
    "analyse",
    "call_signals",
    "iter_strings",
    "may_have_capability",
    "parse_tolerant",
    "parses",
    "string_signals",
]

MAX_SOURCE = 8 << 20
"""Source larger than this is not parsed (text rules still see it)."""


CAPABILITY_TOKENS = (
    b"exec",
    b"eval",
    b"compile",
    b"__import__",
    b"__builtins__",
    b"builtins",
    b"import_module",
    b"marshal",
    b"subprocess",
    b"system",
    b"popen",
    b"Popen",
    b"spawn",
    b"startfile",
    b"pty",
    b"requests",
    b"urlopen",
    b"urlretrieve",
    b"urllib",
    b"http.client",
    b"httplib",
    b"httpx",
    b"aiohttp",
    b"socket",
    b"pycurl",
    b"ftplib",
    b"smtplib",
    b"telnetlib",
    b"paramiko",
    b"dns",
    b"ctypes",
    b"winreg",
    b"CryptUnprotectData",
    b"pip.main",
    b"pip._internal",
    b"webhook",
    b"telegram",
    b"crontab",
    b"systemd",
    b"LaunchAgents",
    b"CurrentVersion",
    b"schtasks",
    b".bashrc",
    b"autostart",
    b"getattr",
    b"globals()[",
    *CATALOGUE_TOKENS,
)


_AMBIGUOUS = {
    b"exec": rb"(?<![.\w])exec(?:file|[lv]p?e?)?\b",
    b"eval": rb"(?<![.\w])eval\s*\(",
    b"compile": rb"(?<![.\w])compile\s*\(",
    # the word "system" in prose is not a call: `os.system(`, `system(` after
    # an import, the name in quotes (getattr), or an alias of os.system
    b"system": rb"\bsystem\s*\(|[\"']system[\"']|import[^\n]*\bsystem\b"
    rb"|=\s*os\.system\b",
    b"pty": rb"\bpty\b",
    b"getattr": rb"getattr\s*\(\s*(?:os|subprocess|builtins|__builtins__|socket|base64"
    rb"|zlib|marshal|importlib|__import__\([^)]*\))\s*,",
    b"dns": rb"\bdns\b",
    # a literal key is plain code; a computed one may spell "__builtins__"
    b"globals()[": rb"globals\(\)\s*\[\s*(?![\"'])",
    b"spawn": rb"\bspawn[lv]|\.spawn\(",
}


_AMBIGUOUS_FAST = {
    # the same tests, each spelled to begin with a literal so that `re` jumps between
    # occurrences of it instead of trying a look-behind at every byte (30x faster on
    # large files): `(?<![.\w])exec` is `exec(?<![.\w]exec)`, `\bpty` is `pty(?<!\wpty)`,
    # an alternation is its branches tried in turn (test_prefilter checks they agree)
    b"exec": (rb"exec(?<![.\w]exec)(?:file|[lv]p?e?)?\b",),
    b"eval": (rb"eval(?<![.\w]eval)\s*\(",),
    b"compile": (rb"compile(?<![.\w]compile)\s*\(",),
    b"system": (
        rb"system(?<!\wsystem)\s*\(",
        rb"system(?<=[\"']system)[\"']",
        rb"import[^\n]*\bsystem\b",
        rb"=\s*os\.system\b",
    ),
    b"pty": (rb"pty(?<!\wpty)\b",),
    b"getattr": (_AMBIGUOUS[b"getattr"],),
    b"dns": (rb"dns(?<!\wdns)\b",),
    b"globals()[": (_AMBIGUOUS[b"globals()["],),
    b"spawn": (rb"spawn(?<!\wspawn)[lv]", rb"\.spawn\("),
}


_AMBIGUOUS_RE = {k: tuple(re.compile(p) for p in v) for k, v in _AMBIGUOUS_FAST.items()}
"""Source without any of these tokens cannot produce a signal that a rule needs (every
python-ast rule requires a capability: exec, a process, the network, native calls,
or an autostart location), so it is not parsed at all: a large speed-up on big wheels.
Substring tests run at memchr speed; the few tokens that are also common words are
confirmed with a regex only when the substring is present."""


_PLAIN_TOKENS = literal_regex_bytes(t for t in CAPABILITY_TOKENS if t not in _AMBIGUOUS_RE)
"""The tokens that need no confirmation, found in one pass (a trie-shaped regex) instead
of one substring search each."""


def may_have_capability(source: bytes) -> bool:
    """True when the source mentions anything a python-ast rule could need."""
    if _PLAIN_TOKENS.search(source) is not None:
        return True
    for token, tests in _AMBIGUOUS_RE.items():
        if token in source and any(rx.search(source) is not None for rx in tests):
            return True
    return False


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Hold the cycle collector off while one file is parsed and walked. A tree is
    hundreds of thousands of objects and holds no cycles; the collector would traverse
    it again and again as it grows (a third of the cost of `ast.parse` on an ML stack).
    Whatever cycles the walk leaves are collected once it is over."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def analyse(
    source: str | bytes, *, setup_like: bool = False, entry_names: frozenset[str] = frozenset()
) -> Analysis:
    """Analyse one Python file. Source that does not parse gives `parsed=False`, no hits.

    `setup_like`: the file runs at install time (setup.py, a build hook), so functions
    that install-command classes define count as running, like module-level code.
    `entry_names`: functions of this file that another one calls when it runs (what
    setup.py imports from a helper module), counted as running like module-level code.
    """
    with _no_cycle_collection():
        return _analyse(source, setup_like=setup_like, entry_names=entry_names)


def _analyse(source: str | bytes, *, setup_like: bool, entry_names: frozenset[str]) -> Analysis:
    result = Analysis()
    if isinstance(source, bytes):
        source = source.decode("utf-8", "replace")
    # a UTF-8 byte-order mark is legal at the start of a file; ast.parse refuses it in str
    source = source.removeprefix("\ufeff")
    if len(source) > MAX_SOURCE:
        result.parsed = False
        result.error = "too large to parse"
        return result
    nested: dict[str, set[str]] = {}

    def analyse_source(text: str, depth: int, line_offset: int, unit: str, into: Analysis) -> None:
        try:
            tree = _parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        visitor = _Analyzer(into, depth, line_offset, unit + ">", analyse_source)
        visitor.unit_stack = [unit]
        visitor.hit("decoded-source", None, f"nested source analysed at depth {depth}")
        try:
            visitor.visit(tree)
            visitor.finish()
        except RecursionError:
            into.error = "too deeply nested"
        # what the decoded module-level code calls runs wherever the exec ran
        nested.setdefault(unit, set()).update(visitor.import_time_units(False))

    try:
        tree = _parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        try:
            tree, repaired = parse_tolerant(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result.parsed = False
            result.error = f"does not parse: {type(err).__name__}"
            return result
        result.error = f"parsed after rewriting {repaired} line(s)"
    visitor = _Analyzer(result, 0, 0, "", analyse_source)
    visitor.entry_names = entry_names
    try:
        visitor.visit(tree)
        visitor.finish()
    except RecursionError:
        result.error = "too deeply nested"
    units = visitor.import_time_units(setup_like)
    todo = list(units)
    while todo:
        for extra in nested.get(todo.pop(), ()):
            if extra not in units:
                units.add(extra)
                todo.append(extra)
    result.import_time_units = units
    called: set[str] = set()
    for unit in units:
        for callee in visitor.calls_from.get(unit, ()):
            head, _, rest = callee.partition(".")
            if head in visitor.aliases and head not in visitor.defined:
                called.add(visitor.aliases[head] + ("." + rest if rest else ""))
    result.imported_calls = frozenset(called)
    return result


def iter_strings(tree: ast.AST) -> Iterable[str]:
    """Every string constant of a tree (for text rules that want only literals)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
