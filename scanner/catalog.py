"""The rule catalogue: every rule id any check can emit, one file per id, one schema.

`rules/<category>/<ID>.toml` holds one rule. Every file has the same metadata:

    id, title, severity, identifies (the taxonomy: threat.category.detail),
    description, references, precision (optional), [matcher], [[tests]]

The `[matcher]` says who applies the rule:
- a heuristic matcher (`python-ast`, `regex`, `file-layout`, `binary`, `metadata`) is
  data the heuristics engine runs (scanner.checks.heuristics.rules validates it, and
  the rule must carry a `match` and a `no-match` example);
- `kind = "check"` names a Python check (`check = "integrity"`, ...) whose code emits
  the id; `uses` lists the data files under rules/ it reads. Its `[[tests]]`, where the
  check can be driven by data (lock text, a package name, a model file), are run by that
  check's tests; otherwise the rule has none.

`wormsign rules list/show`, `rules list --format json`, RULES.md and the SARIF
`rules[]` all read this catalogue. tests/test_catalog.py reads scanner/ with `ast` and
fails when the code can emit an id that is not here, or this lists one nothing emits.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from scanner.errors import RuleError
from scanner.infra.resources import rules_dir
from scanner.infra.toml_fields import reject_unknown, required_str, str_list
from scanner.models import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ID_RE = re.compile(r"^WS-[A-Z0-9]+-(?:\d{3}|[A-Z]+)$")
"""`WS-DROP-001`; a few ids of Python checks end in a word (`WS-ADV-VULN`, `WS-PROV-OK`)."""
TAXONOMY_RE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+){2,}$")

HEURISTIC_KINDS = ("python-ast", "regex", "file-layout", "binary", "metadata")
"""Matcher kinds the heuristics engine runs (scanner.checks.heuristics.rules)."""
CHECK_KIND = "check"
CHECKS = ("advisories", "freshness", "integrity", "lock", "metadata", "models", "provenance")
"""Checks whose Python code emits fixed rule ids (scanner/checks/<name>/)."""
HEURISTICS = "heuristics"

Precision = Literal["very-high", "high", "medium", "low"]
PRECISIONS: tuple[Precision, ...] = ("very-high", "high", "medium", "low")
DEFAULT_PRECISION: Mapping[str, Precision] = MappingProxyType(
    {
        # a fact about bytes, a version in a record, a signature: not a guess
        "advisories": "very-high",
        "integrity": "very-high",
        "lock": "very-high",
        "provenance": "very-high",
        "models": "high",
        # an upload time is a fact; that young means unvetted is a policy's judgement
        "freshness": "high",
        # judgements about names and code: wrong sometimes, by design of a heuristic
        "metadata": "medium",
        HEURISTICS: "medium",
    }
)

_KEYS = frozenset(
    {
        "id",
        "title",
        "severity",
        "identifies",
        "description",
        "references",
        "precision",
        "matcher",
        "tests",
    }
)
_CHECK_MATCHER_KEYS = frozenset({"kind", "check", "uses"})


@dataclass(frozen=True, slots=True)
class CatalogRule:
    """One rule of the catalogue: what every reporter and `wormsign rules` shows."""

    id: str
    title: str
    severity: Severity
    """The rule's severity; a check may raise or lower it per finding (see description)."""
    identifies: str
    """The taxonomy: `threat.<category>.<detail>`."""
    description: str
    references: tuple[str, ...]
    precision: Precision
    engine: str
    """`heuristics` for data rules, else the Python check that emits the id."""
    matcher: Mapping[str, object]
    """The `[matcher]` table as written (heuristics validates its own kinds); read-only."""
    examples: tuple[Mapping[str, object], ...]
    """The `[[tests]]` tables as written, read-only; the engine's tests run them."""
    path: Path

    @property
    def category(self) -> str:
        """The directory under rules/ the rule lives in."""
        return self.path.parent.name

    @property
    def file(self) -> str:
        """`rules/<category>/<id>.toml`, as shown to users."""
        return f"rules/{self.category}/{self.path.name}"

    @property
    def uses(self) -> tuple[str, ...]:
        """Data files under rules/ a Python check reads for this rule."""
        raw = self.matcher.get("uses", ())
        return tuple(str(u) for u in raw) if isinstance(raw, list | tuple) else ()

    @property
    def help_uri(self) -> str | None:
        """The first web reference, if any."""
        return next((r for r in self.references if r.startswith(("https://", "http://"))), None)

    def example_counts(self) -> tuple[int, int]:
        """(match, no-match) examples."""
        matches = sum(1 for t in self.examples if t.get("expect") == "match")
        return matches, len(self.examples) - matches


def _engine(matcher: object, root: Path | None, where: str) -> str:
    if not isinstance(matcher, dict):
        raise RuleError("`[matcher]` table is missing", path=where)
    kind = matcher.get("kind")
    if kind in HEURISTIC_KINDS:
        return HEURISTICS
    if kind != CHECK_KIND:
        kinds = ", ".join((*HEURISTIC_KINDS, CHECK_KIND))
        raise RuleError(f"`matcher.kind` must be one of {kinds} (got {kind!r})", path=where)
    reject_unknown(matcher, _CHECK_MATCHER_KEYS, where, label="field(s) for a check matcher")
    check = matcher.get("check")
    if check not in CHECKS:
        raise RuleError(
            f"`matcher.check` must be one of {', '.join(CHECKS)} (got {check!r})", path=where
        )
    for used in str_list(matcher.get("uses"), "matcher.uses", where):
        if root is not None and not (root / used).is_file():
            raise RuleError(f"`matcher.uses` names {used}, which is not under rules/", path=where)
    return str(check)


def _examples(raw: object, engine: str, where: str) -> tuple[Mapping[str, object], ...]:
    if raw is None and engine != HEURISTICS:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise RuleError("rule needs [[tests]] examples", path=where)
    for table in raw:
        if table.get("expect") not in ("match", "no-match"):
            raise RuleError("`tests.expect` must be match or no-match", path=where)
    expects = {t["expect"] for t in raw}
    if expects != {"match", "no-match"}:
        raise RuleError("rule needs at least one `match` and one `no-match` example", path=where)
    return tuple(raw)


def read_toml(path: Path) -> dict[str, Any]:
    """A rule file's TOML, or a RuleError naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise RuleError(f"cannot read rule: {err}", path=str(path)) from err
    except tomllib.TOMLDecodeError as err:
        raise RuleError(f"not valid TOML: {err}", path=str(path)) from err


def parse_rule(data: Mapping[str, object], path: Path, root: Path | None = None) -> CatalogRule:
    """Validate the metadata every rule shares; `root` (the rules dir) checks `uses`."""
    where = str(path)
    reject_unknown(data, _KEYS, where)
    rule_id = required_str(data, "id", where)
    if not ID_RE.match(rule_id):
        raise RuleError(f"id {rule_id!r} must look like WS-ABC-001", path=where)
    if path.stem != rule_id:
        raise RuleError(f"file name must be {rule_id}.toml", path=where)
    try:
        severity = Severity.parse(required_str(data, "severity", where))
    except ValueError as err:
        raise RuleError(str(err), path=where) from err
    identifies = required_str(data, "identifies", where)
    if not TAXONOMY_RE.match(identifies):
        raise RuleError(
            f"`identifies` {identifies!r} must be a dotted taxonomy (threat.category.detail)",
            path=where,
        )
    matcher = data.get("matcher")
    engine = _engine(matcher, root, where)
    precision = data.get("precision", DEFAULT_PRECISION[engine])
    if precision not in PRECISIONS:
        raise RuleError(f"`precision` must be one of {', '.join(PRECISIONS)}", path=where)
    return CatalogRule(
        id=rule_id,
        title=required_str(data, "title", where).strip(),
        severity=severity,
        identifies=identifies,
        description=required_str(data, "description", where).strip(),
        references=str_list(data.get("references"), "references", where),
        precision=precision,
        engine=engine,
        matcher=matcher,  # type: ignore[arg-type]
        examples=_examples(data.get("tests"), engine, where),
        path=path,
    )


def read_rule(path: Path, root: Path | None = None) -> CatalogRule:
    """Read and validate one rule file's shared metadata."""
    return parse_rule(read_toml(path), path, root)


def rule_files(root: Path) -> Iterator[Path]:
    """Every rule file under `root`: `WS-*.toml` (lists and allowlists live beside them)."""
    return iter(sorted(root.rglob("WS-*.toml")))


def load_catalog(directory: Path | None = None) -> tuple[CatalogRule, ...]:
    """Every rule under `directory` (default: `rules_dir()`), sorted by id; ids unique."""
    root = directory if directory is not None else rules_dir()
    if not root.is_dir():
        raise RuleError("rules directory does not exist", path=str(root))
    rules = [read_rule(p, root) for p in rule_files(root)]
    seen: dict[str, Path] = {}
    for rule in rules:
        if rule.id in seen:
            raise RuleError(
                f"duplicate rule id {rule.id} (also in {seen[rule.id]})", path=str(rule.path)
            )
        seen[rule.id] = rule.path
    return tuple(sorted(rules, key=lambda r: r.id))


@lru_cache(maxsize=1)
def default_catalog() -> Mapping[str, CatalogRule]:
    """The shipped catalogue by id, loaded once per process."""
    return MappingProxyType({r.id: r for r in load_catalog()})


# -- how the catalogue is shown ------------------------------------------------------------

MatcherText = Callable[[CatalogRule], str]
"""What a rule's matcher looks for, in one line (heuristic matchers need their engine)."""


def check_matcher_text(rule: CatalogRule) -> str:
    """One line for a Python check's rule: the module that emits it and the data it reads."""
    text = f"check: scanner/checks/{rule.engine}"
    if rule.uses:
        text += " reading " + ", ".join(f"rules/{u}" for u in rule.uses)
    return text


def one_line(text: str) -> str:
    """A description's paragraphs joined into one line."""
    return " ".join(text.split())


def rule_json(rule: CatalogRule, matcher_text: MatcherText) -> dict[str, object]:
    """One rule as plain data (`wormsign rules list --format json`)."""
    matches, no_matches = rule.example_counts()
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity.label,
        "identifies": rule.identifies,
        "category": rule.category,
        "engine": rule.engine,
        "precision": rule.precision,
        "description": one_line(rule.description),
        "references": list(rule.references),
        "matcher": matcher_text(rule),
        "file": rule.file,
        "examples": {"match": matches, "no-match": no_matches},
    }


def render_markdown(rules: Iterable[CatalogRule], matcher_text: MatcherText) -> str:
    """RULES.md: a table of every rule, then a section per rule."""
    rules = tuple(rules)
    lines = [
        "# wormsign rules",
        "",
        "Generated by `python scripts/gen_rules_md.py` from `rules/`; do not edit by hand.",
        "Every rule id a check can emit is here: data rules the heuristics engine runs, and",
        "the ids the Python checks (advisories, integrity, lock, metadata, models,",
        "provenance) emit. Severity `high` and `critical` block the gate by default.",
        "",
        "| id | severity | title | engine | identifies |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| [{r.id}](#{r.id.lower()}) | {r.severity.label} | {r.title} | {r.engine} "
        f"| `{r.identifies}` |"
        for r in rules
    ]
    for r in rules:
        lines += [
            "",
            f"## {r.id}",
            "",
            f"**{r.title}** — {r.severity.label}, `{r.identifies}`, `{r.file}`",
            "",
            one_line(r.description),
            "",
            f"Matcher: {matcher_text(r)}",
            "",
        ]
        matches, no_matches = r.example_counts()
        if r.examples:
            lines.append(f"Examples: {matches} that match, {no_matches} that do not.")
        else:
            lines.append("Examples: none (the check's own tests cover it).")
        if r.references:
            lines += ["", "References:", *[f"- {ref}" for ref in r.references]]
    return "\n".join(lines) + "\n"
