"""How a distribution's modules are wired together at import: which functions of which
files a package's `__init__.py` calls when it is imported.

A payload split across modules (the secret read in one, the endpoint built in another,
the send in a third, `__init__` calling them in turn) shows no rule's combination in any
one file. Following the calls that `__init__`'s import-time code makes into sibling
modules (one level, resolved by path, never by importing anything) gives each wired
function its place among the code that runs on import, and gives the rules one more
place to look: the import-time code of an `__init__` together with the code it calls.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

MAX_GROUP = 16
"""Most files followed from one `__init__.py` (bounded cost on big packages)."""


@dataclass(frozen=True, slots=True)
class Wiring:
    """Functions called into, by file, and the file groups that run together on import."""

    entry_names: dict[str, frozenset[str]]
    """path -> names of its functions that another module's import-time code calls."""
    groups: dict[str, tuple[str, ...]]
    """`__init__.py` path -> the files whose wired functions it calls on import."""


def resolve(paths: set[str], importer: str, dotted: str) -> tuple[str, str] | None:
    """The file and function that a dotted name called from `importer` designates
    (`_net.send` or `pkg._net.send`), looked up next to the importer, then from the
    distribution's roots; None when no shipped file matches."""
    parts = dotted.split(".")
    if len(parts) < 2:
        return None
    func = parts[-1]
    mod = parts[:-1]
    here = posixpath.dirname(importer)
    bases = [here]
    # absolute imports: from the distribution's root (and an sdist's src/ layout)
    bases += ["", "src"]
    for base in bases:
        rel = "/".join(mod)
        for cand in (f"{rel}.py", f"{rel}/__init__.py"):
            path = posixpath.join(base, cand) if base else cand
            if path in paths and path != importer:
                return path, func
    return None


def wire(paths: Iterable[str], calls_by_init: dict[str, frozenset[str]]) -> Wiring:
    """Resolve each `__init__.py`'s import-time calls of imported names to files."""
    known = set(paths)
    entry: dict[str, set[str]] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for init, calls in calls_by_init.items():
        members: list[str] = []
        for dotted in sorted(calls):
            found = resolve(known, init, dotted)
            if found is None:
                continue
            path, func = found
            entry.setdefault(path, set()).add(func)
            if path not in members and len(members) < MAX_GROUP:
                members.append(path)
        if members:
            groups[init] = tuple(members)
    return Wiring({k: frozenset(v) for k, v in entry.items()}, groups)
