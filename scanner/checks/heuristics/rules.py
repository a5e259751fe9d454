"""Load and validate the heuristic rules in `rules/` (one TOML file per rule).

A rule file's stem is its id. Every field is checked when the catalogue loads: an
unknown key, an unknown matcher kind, a signal the Python analyser does not know, a
regex that does not compile, a rule without a matching and a non-matching example —
each is a RuleError naming the file. The metadata every rule shares (id, severity,
taxonomy ...) is read by scanner.catalog, which also holds the rules Python checks
emit; this module takes the catalogue's data rules (a heuristic `[matcher]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from scanner.catalog import (
    HEURISTICS,
    CatalogRule,
    check_matcher_text,
    load_catalog,
    read_rule,
)
from scanner.checks.heuristics.pyast import SIGNALS
from scanner.errors import RuleError
from scanner.infra.toml_fields import reject_unknown, required_str
from scanner.models import Severity

When = Literal["install", "import", "install-or-import", "anywhere"]
Together = Literal["unit", "file"]
DistKind = Literal["wheel", "sdist", "installed"]


@dataclass(frozen=True, slots=True)
class PythonAstMatcher:
    """Signals from `scanner.checks.heuristics.pyast` that must appear together in Python code."""

    all: tuple[str, ...]
    """Every entry must be present; an entry may list alternatives: `"network|dns"`."""
    any: tuple[str, ...] = ()
    """At least `min_any` of these must be present (ignored when empty)."""
    min_any: int = 1
    none: tuple[str, ...] = ()
    """None of these may be present (in the same scope)."""
    when: When = "anywhere"
    """install: setup.py / build hooks; import: what runs when a module is imported."""
    together: Together = "file"
    """unit: all signals inside one function (or the module body); file: anywhere in scope."""
    path_include: tuple[str, ...] = ()
    path_exclude: tuple[str, ...] = ()
    dist: tuple[DistKind, ...] = ()
    """The kinds of distribution the rule looks at (empty: all)."""
    kind: Literal["python-ast"] = "python-ast"


@dataclass(frozen=True, slots=True)
class RegexMatcher:
    """A regular expression over file text, restricted by path globs."""

    pattern: str
    path_include: tuple[str, ...] = ("*",)
    path_exclude: tuple[str, ...] = ()
    ignore_case: bool = False
    only_unparsed_python: bool = False
    """Look only at Python files that `ast` cannot parse (Python 2 code in old sdists)."""
    requires: tuple[str, ...] = ()
    """Substrings of which one must occur before the regex runs (a fast pre-filter;
    compared case-insensitively when `ignore_case`)."""
    max_size: int = 2 << 20
    dist: tuple[DistKind, ...] = ()
    """The kinds of distribution the rule looks at (empty: all)."""
    kind: Literal["regex"] = "regex"

    @property
    def compiled(self) -> re.Pattern[str]:
        """The pattern, compiled (cached by `re`)."""
        return re.compile(
            self.pattern, re.IGNORECASE | re.MULTILINE if self.ignore_case else re.MULTILINE
        )


Layout = Literal[
    "pth-exec",
    "pth-import",
    "startup-module",
    "npm-install-hook",
    "js-runtime-wired",
    "install-runs-unshipped-script",
]
LAYOUTS: tuple[str, ...] = (
    "pth-exec",
    "pth-import",
    "startup-module",
    "npm-install-hook",
    "js-runtime-wired",
    "install-runs-unshipped-script",
)


@dataclass(frozen=True, slots=True)
class FileLayoutMatcher:
    """A file whose presence or place makes it run: .pth lines, startup modules, npm hooks."""

    layout: Layout
    any: tuple[str, ...] = ()
    """For pth-exec: signals of the executed line, at least one of which must be present."""
    dist: tuple[DistKind, ...] = ()
    """The kinds of distribution the rule looks at (empty: all)."""
    kind: Literal["file-layout"] = "file-layout"


BinaryFormat = Literal["elf", "pe", "macho"]
BinaryWhere = Literal["pure-wheel", "disguised", "odd-path", "pure-or-sdist"]


@dataclass(frozen=True, slots=True)
class BinaryMatcher:
    """Native executables where they do not belong."""

    formats: tuple[BinaryFormat, ...]
    where: BinaryWhere
    path_exclude: tuple[str, ...] = ()
    dist: tuple[DistKind, ...] = ()
    """The kinds of distribution the rule looks at (empty: all)."""
    kind: Literal["binary"] = "binary"


MetadataCheck = Literal["console-script-shadow", "startup-entry-point"]


@dataclass(frozen=True, slots=True)
class MetadataMatcher:
    """Entry points: console scripts named like system tools, hooks loaded at start-up."""

    check: MetadataCheck
    names: tuple[str, ...] = ()
    dist: tuple[DistKind, ...] = ()
    """The kinds of distribution the rule looks at (empty: all)."""
    kind: Literal["metadata"] = "metadata"


Matcher = PythonAstMatcher | RegexMatcher | FileLayoutMatcher | BinaryMatcher | MetadataMatcher
MATCHER_KINDS: dict[str, type[Matcher]] = {
    "python-ast": PythonAstMatcher,
    "regex": RegexMatcher,
    "file-layout": FileLayoutMatcher,
    "binary": BinaryMatcher,
    "metadata": MetadataMatcher,
}


@dataclass(frozen=True, slots=True)
class RuleExample:
    """A rule's own example: files of a small distribution, and whether the rule fires."""

    expect: Literal["match", "no-match"]
    files: tuple[tuple[str, bytes], ...]
    dist: Literal["wheel", "sdist", "installed"] = "wheel"
    pure: bool = True
    """For wheels: a pure-Python (`py3-none-any`) wheel."""
    entry_points: str | None = None
    """entry_points.txt text of the example distribution."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """One heuristic rule, as written in rules/<category>/<id>.toml."""

    id: str
    title: str
    severity: Severity
    identifies: str
    description: str
    references: tuple[str, ...]
    matcher: Matcher
    tests: tuple[RuleExample, ...]
    path: Path
    category: str


_TEST_KEYS = {"expect", "code", "path", "files", "dist", "pure", "entry_points", "note"}


def _str_tuple(value: object, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"`{key}` must be a list of strings", path=where)
    return tuple(value)


def _choice(value: object, key: str, choices: Iterable[str], where: str) -> str:
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise RuleError(f"`{key}` must be one of {', '.join(options)} (got {value!r})", path=where)
    return value


def _signals(value: object, key: str, where: str) -> tuple[str, ...]:
    names = _str_tuple(value, key, where)
    unknown = [n for group in names for n in group.split("|") if n not in SIGNALS]
    if unknown:
        raise RuleError(
            f"`matcher.{key}` names unknown signals: {', '.join(unknown)}",
            path=where,
            hint="see SIGNALS in scanner/pyast.py",
        )
    return names


def parse_matcher(raw: object, where: str) -> Matcher:
    """Validate a `[matcher]` table and build its typed matcher."""
    if not isinstance(raw, dict):
        raise RuleError("`[matcher]` table is missing", path=where)
    kind = _choice(raw.get("kind"), "matcher.kind", MATCHER_KINDS, where)
    cls = MATCHER_KINDS[kind]
    allowed = set(cls.__dataclass_fields__)
    reject_unknown(raw, allowed, where, label=f"field(s) for a {kind} matcher")
    dist = _str_tuple(raw.get("dist"), "matcher.dist", where)
    for kind_name in dist:
        _choice(kind_name, "matcher.dist", ("wheel", "sdist", "installed"), where)
    if cls is PythonAstMatcher:
        all_ = _signals(raw.get("all"), "all", where)
        any_ = _signals(raw.get("any"), "any", where)
        if not all_ and not any_:
            raise RuleError("a python-ast matcher needs `all` or `any` signals", path=where)
        min_any = raw.get("min_any", 1)
        if not isinstance(min_any, int) or min_any < 1 or (any_ and min_any > len(any_)):
            raise RuleError("`matcher.min_any` must be between 1 and len(any)", path=where)
        return PythonAstMatcher(
            all=all_,
            any=any_,
            min_any=min_any,
            none=_signals(raw.get("none"), "none", where),
            when=_choice(
                raw.get("when", "anywhere"),
                "matcher.when",  # type: ignore[arg-type]
                ("install", "import", "install-or-import", "anywhere"),
                where,
            ),
            together=_choice(
                raw.get("together", "file"),  # type: ignore[arg-type]
                "matcher.together",
                ("unit", "file"),
                where,
            ),
            path_include=_str_tuple(raw.get("path_include"), "path_include", where),
            path_exclude=_str_tuple(raw.get("path_exclude"), "path_exclude", where),
            dist=dist,  # type: ignore[arg-type]
        )
    if cls is RegexMatcher:
        pattern = required_str(raw, "pattern", where)
        try:
            re.compile(pattern)
        except re.error as err:
            raise RuleError(f"`matcher.pattern` does not compile: {err}", path=where) from err
        for key in ("ignore_case", "only_unparsed_python"):
            if not isinstance(raw.get(key, False), bool):
                raise RuleError(f"`matcher.{key}` must be true or false", path=where)
        max_size = raw.get("max_size", 2 << 20)
        if not isinstance(max_size, int) or max_size <= 0:
            raise RuleError("`matcher.max_size` must be a positive integer", path=where)
        return RegexMatcher(
            pattern=pattern,
            path_include=_str_tuple(raw.get("path_include", ["*"]), "path_include", where),
            path_exclude=_str_tuple(raw.get("path_exclude"), "path_exclude", where),
            ignore_case=bool(raw.get("ignore_case", False)),
            only_unparsed_python=bool(raw.get("only_unparsed_python", False)),
            requires=_str_tuple(raw.get("requires"), "requires", where),
            max_size=max_size,
            dist=dist,  # type: ignore[arg-type]
        )
    if cls is FileLayoutMatcher:
        return FileLayoutMatcher(
            layout=_choice(
                raw.get("layout"),
                "matcher.layout",
                LAYOUTS,  # type: ignore[arg-type]
                where,
            ),
            any=_signals(raw.get("any"), "any", where),
            dist=dist,  # type: ignore[arg-type]
        )
    if cls is BinaryMatcher:
        formats = _str_tuple(raw.get("formats"), "formats", where)
        if not formats:
            raise RuleError("`matcher.formats` must name elf, pe and/or macho", path=where)
        for f in formats:
            _choice(f, "matcher.formats", ("elf", "pe", "macho"), where)
        return BinaryMatcher(
            formats=formats,  # type: ignore[arg-type]
            where=_choice(
                raw.get("where"),
                "matcher.where",  # type: ignore[arg-type]
                ("pure-wheel", "disguised", "odd-path", "pure-or-sdist"),
                where,
            ),
            path_exclude=_str_tuple(raw.get("path_exclude"), "path_exclude", where),
            dist=dist,  # type: ignore[arg-type]
        )
    return MetadataMatcher(
        check=_choice(
            raw.get("check"),
            "matcher.check",  # type: ignore[arg-type]
            ("console-script-shadow", "startup-entry-point"),
            where,
        ),
        names=_str_tuple(raw.get("names"), "names", where),
        dist=dist,  # type: ignore[arg-type]
    )


def _file_bytes(value: object, key: str, where: str) -> bytes:
    """An example file: a string, or a table {hex = "..."} / {text = "...", repeat = N}."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict):
        if set(value) - {"hex", "text", "repeat", "prefix_hex"}:
            raise RuleError(f"example file {key!r} has unknown keys", path=where)
        out = b""
        try:
            if "prefix_hex" in value:
                out += bytes.fromhex(str(value["prefix_hex"]))
            if "hex" in value:
                out += bytes.fromhex(str(value["hex"]))
        except ValueError as err:
            raise RuleError(f"example file {key!r} has bad hex", path=where) from err
        if "text" in value:
            repeat = value.get("repeat", 1)
            if not isinstance(repeat, int) or not 0 < repeat <= 100_000:
                raise RuleError(f"example file {key!r}: bad repeat", path=where)
            out += str(value["text"]).encode("utf-8") * repeat
        return out
    raise RuleError(f"example file {key!r} must be a string or a table", path=where)


def _default_example_path(matcher: Matcher) -> str:
    if isinstance(matcher, PythonAstMatcher) and matcher.when == "install":
        return "setup.py"
    if isinstance(matcher, PythonAstMatcher | RegexMatcher) and matcher.path_include:
        first = matcher.path_include[0]
        if "*" not in first and "?" not in first:
            return first
        if first.startswith("*") and "/" not in first and first != "*":
            return "pkg/mod" + first[1:]
    return "pkg/__init__.py"


def parse_example(raw: object, matcher: Matcher, where: str) -> RuleExample:
    """Validate one `[[tests]]` entry."""
    if not isinstance(raw, dict):
        raise RuleError("each [[tests]] entry must be a table", path=where)
    reject_unknown(raw, _TEST_KEYS, where, label="[[tests]] field(s)")
    expect = _choice(raw.get("expect"), "tests.expect", ("match", "no-match"), where)
    files: list[tuple[str, bytes]] = []
    if "code" in raw:
        path = raw.get("path", _default_example_path(matcher))
        if not isinstance(path, str):
            raise RuleError("`tests.path` must be a string", path=where)
        files.append((path, _file_bytes(raw["code"], path, where)))
    layout = raw.get("files", {})
    if not isinstance(layout, dict):
        raise RuleError("`tests.files` must be a table of path = content", path=where)
    files.extend((str(k), _file_bytes(v, str(k), where)) for k, v in layout.items())
    if not files and "entry_points" not in raw:
        raise RuleError("a [[tests]] entry needs `code`, `files` or `entry_points`", path=where)
    dist = _choice(raw.get("dist", "wheel"), "tests.dist", ("wheel", "sdist", "installed"), where)
    pure = raw.get("pure", True)
    entry_points = raw.get("entry_points")
    note = raw.get("note", "")
    if (
        not isinstance(pure, bool)
        or not isinstance(note, str)
        or not (entry_points is None or isinstance(entry_points, str))
    ):
        raise RuleError("`tests.pure` must be a bool, `note` / `entry_points` strings", path=where)
    # expect and dist are validated above
    return RuleExample(
        expect=expect,  # type: ignore[arg-type]
        files=tuple(files),
        dist=dist,  # type: ignore[arg-type]
        pure=pure,
        entry_points=entry_points,
        note=note,
    )


def rule_from_catalog(entry: CatalogRule) -> Rule:
    """Validate a catalogue entry's heuristic matcher and examples into a Rule."""
    where = str(entry.path)
    if entry.engine != HEURISTICS:
        raise RuleError(f"{entry.id} is applied by the {entry.engine} check, not by heuristics")
    matcher = parse_matcher(dict(entry.matcher), where)
    tests = tuple(parse_example(dict(t), matcher, where) for t in entry.examples)
    return Rule(
        id=entry.id,
        title=entry.title,
        severity=entry.severity,
        identifies=entry.identifies,
        description=entry.description,
        references=entry.references,
        matcher=matcher,
        tests=tests,
        path=entry.path,
        category=entry.category,
    )


def load_rule(path: Path) -> Rule:
    """Read and validate one heuristic rule file."""
    return rule_from_catalog(read_rule(path))


def load_rules(directory: Path | None = None) -> tuple[Rule, ...]:
    """Every heuristic rule of the catalogue under `directory` (default: `rules_dir()`),
    sorted by id; the rules Python checks apply are left to them."""
    return tuple(rule_from_catalog(e) for e in load_catalog(directory) if e.engine == HEURISTICS)


@lru_cache(maxsize=1)
def default_rules() -> tuple[Rule, ...]:
    """The shipped catalogue, loaded once per process."""
    return load_rules()


def _matcher_summary(m: Matcher) -> str:
    if isinstance(m, PythonAstMatcher):
        parts = [f"when={m.when}", f"together={m.together}"]
        if m.all:
            parts.append("all=" + ", ".join(m.all))
        if m.any:
            parts.append(f"any(≥{m.min_any})=" + ", ".join(m.any))
        if m.none:
            parts.append("none=" + ", ".join(m.none))
        return "; ".join(parts)
    if isinstance(m, RegexMatcher):
        return f"/{m.pattern}/ in {', '.join(m.path_include)}"
    if isinstance(m, FileLayoutMatcher):
        return m.layout + (f" with any of {', '.join(m.any)}" if m.any else "")
    if isinstance(m, BinaryMatcher):
        return f"{'/'.join(m.formats)} at {m.where}"
    return m.check + (f": {', '.join(m.names)}" if m.names else "")


def matcher_summary(matcher: Matcher) -> str:
    """One line that says what a matcher looks for (for `rules show` and RULES.md)."""
    return f"{matcher.kind}: {_matcher_summary(matcher)}"


def catalog_matcher_text(entry: CatalogRule) -> str:
    """What any catalogue rule's matcher looks for, in one line (RULES.md, `rules show`)."""
    if entry.engine != HEURISTICS:
        return check_matcher_text(entry)
    return matcher_summary(parse_matcher(dict(entry.matcher), str(entry.path)))
