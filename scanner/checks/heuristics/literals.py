"""Literals a regular expression cannot match without: a cheap gate before the regex.

`required_literals(pattern)` reads the pattern's parse tree (`re._parser`, the parser
`re.compile` itself uses) and returns a set of strings such that every match of the
pattern contains at least one of them, or None when it finds no such set. Lowercased:
a string whose lowercased form contains none of them cannot match, whatever the case
flags (for ASCII text: a non-ASCII character may match an ASCII letter under IGNORECASE,
as the Kelvin sign K matches "k"). `literal_regex` finds any of a set of literals fast.

`anchored(pattern)` says whether the pattern can only match at the start of the text
(it begins with `^` outside any alternation): `re` then tries one position only, so it
needs no gate.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
else:  # pragma: no cover
    import sre_constants as _c
    import sre_parse as _p


def _required(seq: Any) -> set[str] | None:
    """A set of literals, one of which every match of the sequence contains."""
    candidates: list[set[str]] = []
    run = ""
    for op, av in seq:
        if op is _c.LITERAL:
            run += chr(av)
            continue
        if run:
            candidates.append({run})
        run = ""
        found: set[str] | None = None
        if op is _c.SUBPATTERN:
            found = _required(av[3])
        elif op is _c.BRANCH:
            branches = [_required(b) for b in av[1]]
            if all(b for b in branches):
                found = set().union(*(b for b in branches if b))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
            found = _required(av[2])
        # anything else (a class, `.`, an anchor, a look-around, an optional part)
        # consumes no fixed text: it only ends the current run of literals
        if found:
            candidates.append(found)
    if run:
        candidates.append({run})
    # a non-ASCII literal may match ASCII text under IGNORECASE (the Kelvin sign K
    # matches "k"): such a set says nothing about ASCII text, so it is not used
    usable = [c for c in candidates if all(x.isascii() for x in c)]
    if not usable:
        return None
    # the most selective: the set whose shortest literal is longest
    return max(usable, key=lambda c: (min(len(x) for x in c), -len(c)))


def required_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Lowercased literals one of which every match contains; None if none are known."""
    found = _required(_p.parse(pattern, flags))
    return frozenset(x.lower() for x in found) if found else None


def anchored(pattern: str, flags: int = 0) -> bool:
    """Whether the pattern begins with `^` (and MULTILINE is off): one position to try."""
    if flags & re.MULTILINE:
        return False
    tree = _p.parse(pattern, flags)
    if tree.state.flags & re.MULTILINE:
        return False
    return len(tree) > 0 and tree[0] == (_c.AT, _c.AT_BEGINNING)


def literal_regex_bytes(literals: Iterable[bytes]) -> re.Pattern[bytes]:
    """`literal_regex` over bytes (each literal read as Latin-1, which maps bytes 1:1)."""
    text = literal_regex(lit.decode("latin-1") for lit in literals).pattern
    return re.compile(text.encode("latin-1"))


def literal_regex(literals: Iterable[str]) -> re.Pattern[str]:
    """A regex that finds any of the literals, shaped as a trie (`a(?:b|c)` rather than
    `ab|ac`): `re` tries alternatives one by one at every position, so a flat alternation
    of hundreds of literals costs ten times more."""
    trie: dict[str, Any] = {}
    for word in literals:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a shorter literal ends here: finding it is enough
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return re.compile(emit(trie) if trie else "(?!)")
