"""The behaviour catalogue: sources, sinks and triggers as data (`rules/behaviour/*.toml`).

A rule names a combination of signals (a source reaching a sink under a trigger); the
catalogue says which roads lead to each signal. A new road to a known sink (another
HTTP client, another credential helper, another way to run code at interpreter exit) is
one catalogue entry, not a new rule. Every entry carries a `match` and a `no_match`
example that the suite analyses (`tests/rules/test_behaviour_catalogue.py`).

An entry gives one or more *roads*, each turned into the signals it names:
- `calls`: resolved qualified names (`http.client.HTTPConnection`; a trailing `*`
  matches a prefix, a leading `*.` a suffix), like the built-in call table;
- `methods`: method names called on any receiver (`.get_credentials()`), for objects
  whose type the analyser cannot know;
- `attributes`: resolved dotted names read anywhere (`mmap.PROT_EXEC`);
- `strings`: a regular expression over every (folded) string constant;
- `callbacks`: calls that run a function handed to them later (`atexit.register(f)`):
  the function counts as running wherever the call runs;
- `hooks`: function names that a host program calls when it loads the module (pytest
  plugin hooks, PEP 517 backend hooks): their bodies count as running at load.
`tokens` lists substrings for the capability pre-filter (`pyast.may_have_capability`)
when the road can complete a rule in a file that mentions no other capability.
Conditions narrow `calls` and `methods`: `first_arg` (a regex the folded first argument
must match), `keyword` (a keyword argument that must be present), `literal_arg` (the
first argument must be a constant or a decoded literal).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from scanner.errors import RuleError
from scanner.infra.resources import rules_dir
from scanner.infra.toml_fields import reject_unknown, str_list

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Role = Literal["source", "sink", "trigger"]
ROLES: tuple[Role, ...] = ("source", "sink", "trigger")
_SIGNAL_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_KEYS = {
    "id",
    "signals",
    "note",
    "calls",
    "methods",
    "attributes",
    "strings",
    "case_sensitive",
    "callbacks",
    "hooks",
    "first_arg",
    "keyword",
    "literal_arg",
    "tokens",
    "match",
    "no_match",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One road (or a few of the same kind) to the signals it names."""

    id: str
    role: Role
    signals: tuple[str, ...]
    note: str
    match: str
    """Python source in which the entry's signals are seen."""
    no_match: str
    """Python source, close to `match`, in which they are not."""
    calls: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    strings: str | None = None
    case_sensitive: bool = False
    callbacks: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()
    first_arg: str | None = None
    keyword: str | None = None
    literal_arg: bool = False
    tokens: tuple[str, ...] = ()
    """Substrings of which a file must hold one for this road to complete a rule where
    the built-in capability tokens would not see it (the pre-filter skips other files)."""
    path: str = ""

    @property
    def conditional(self) -> bool:
        """Whether the calls and methods fire only when their arguments agree."""
        return self.first_arg is not None or self.keyword is not None or self.literal_arg


def _strs(raw: object, key: str, where: str) -> tuple[str, ...]:
    return str_list(raw, key, where, what="a list of non-empty strings")


def _opt_str(raw: object, key: str, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise RuleError(f"`{key}` must be a non-empty string", path=where)
    return raw


def _entry(raw: object, role: Role, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise RuleError("each [[entry]] must be a table", path=where)
    reject_unknown(raw, _KEYS, where, label="[[entry]] field(s)", show_known=True)
    ident = _opt_str(raw.get("id"), "id", where) or ""
    here = f"{where} ({ident or '?'})"
    signals = _strs(raw.get("signals"), "signals", here)
    if not ident or not signals or not all(_SIGNAL_RE.match(s) for s in signals):
        raise RuleError("an entry needs an `id` and lower-case `signals`", path=here)
    for key in ("note", "match", "no_match"):
        if not isinstance(raw.get(key), str) or not str(raw.get(key)).strip():
            raise RuleError(f"an entry needs `{key}`", path=here)
    strings = _opt_str(raw.get("strings"), "strings", here)
    first_arg = _opt_str(raw.get("first_arg"), "first_arg", here)
    for rx in (strings, first_arg):
        if rx is not None:
            try:
                re.compile(rx)
            except re.error as err:
                raise RuleError(f"bad regex {rx!r}: {err}", path=here) from None
    entry = Entry(
        id=ident,
        role=role,
        signals=signals,
        note=str(raw["note"]).strip(),
        match=str(raw["match"]),
        no_match=str(raw["no_match"]),
        calls=_strs(raw.get("calls"), "calls", here),
        methods=_strs(raw.get("methods"), "methods", here),
        attributes=_strs(raw.get("attributes"), "attributes", here),
        strings=strings,
        case_sensitive=bool(raw.get("case_sensitive", False)),
        callbacks=_strs(raw.get("callbacks"), "callbacks", here),
        hooks=_strs(raw.get("hooks"), "hooks", here),
        first_arg=first_arg,
        keyword=_opt_str(raw.get("keyword"), "keyword", here),
        literal_arg=bool(raw.get("literal_arg", False)),
        tokens=_strs(raw.get("tokens"), "tokens", here),
        path=where,
    )
    roads = (
        entry.calls,
        entry.methods,
        entry.attributes,
        entry.strings,
        entry.callbacks,
        entry.hooks,
    )
    if not any(roads):
        raise RuleError("an entry needs at least one road (calls, methods, strings...)", path=here)
    if entry.conditional and not (entry.calls or entry.methods):
        raise RuleError("argument conditions need `calls` or `methods`", path=here)
    return entry


def load_catalogue(directory: Path | None = None) -> tuple[Entry, ...]:
    """Every entry of `<rules>/behaviour/{sources,sinks,triggers}.toml`."""
    root = (directory if directory is not None else rules_dir()) / "behaviour"
    out: list[Entry] = []
    seen: set[str] = set()
    for role in ROLES:
        path = root / f"{role}s.toml"
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise RuleError(f"not valid TOML: {err}", path=str(path)) from None
        unknown = sorted(set(data) - {"entry"})
        if unknown:
            raise RuleError(f"unknown top-level key(s): {', '.join(unknown)}", path=str(path))
        entries = data.get("entry", [])
        if not isinstance(entries, list):
            raise RuleError("`entry` must be an array of tables", path=str(path))
        for raw in entries:
            entry = _entry(raw, role, str(path))
            if entry.id in seen:
                raise RuleError(f"duplicate entry id {entry.id}", path=str(path))
            seen.add(entry.id)
            out.append(entry)
    return tuple(out)


@lru_cache(maxsize=1)
def catalogue() -> tuple[Entry, ...]:
    """The shipped catalogue (loaded once)."""
    return load_catalogue()


def _roads(entry: Entry) -> str:
    """The roads of one entry, in one Markdown cell."""
    parts: list[str] = []
    for label, names in (
        ("calls", entry.calls),
        ("methods", entry.methods),
        ("attributes", entry.attributes),
        ("callbacks", entry.callbacks),
        ("hooks", entry.hooks),
    ):
        if names:
            parts.append(f"{label}: " + ", ".join(f"`{n}`" for n in names))
    if entry.strings is not None:
        parts.append("strings matching a pattern")
    conditions = [
        c
        for c, on in (
            ("a constant first argument", entry.literal_arg),
            ("a first argument matching a pattern", entry.first_arg is not None),
            (f"the `{entry.keyword}` keyword", entry.keyword is not None),
        )
        if on
    ]
    if conditions:
        parts.append("only with " + " and ".join(conditions))
    return "; ".join(parts).replace("|", "\\|")


def render_catalogue_markdown(entries: tuple[Entry, ...]) -> str:
    """The behaviour catalogue as a RULES.md section: one table per role."""
    lines = [
        "",
        "## Behaviour catalogue",
        "",
        "Sources, sinks and triggers (`rules/behaviour/*.toml`) give the signals that the",
        "`python-ast` rules above combine: a new road to a known signal is one entry here, not",
        "a new rule. Every entry carries a `match` and a `no_match` example that the suite runs.",
    ]
    for role in ROLES:
        lines += [
            "",
            f"### {role.capitalize()}s",
            "",
            "| entry | signals | roads | what it is |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{e.id}` | {', '.join(f'`{s}`' for s in e.signals)} | {_roads(e)} "
            f"| {e.note.replace('|', chr(92) + '|')} |"
            for e in entries
            if e.role == role
        ]
    return "\n".join(lines) + "\n"
