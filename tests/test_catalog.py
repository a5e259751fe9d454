"""The rule catalogue holds every id the code can emit, and only those.

The ids a Python check emits are read from scanner/ with `ast`: every string constant
that is a whole rule id (docstrings aside: they describe, they do not emit). An id built
at run time (an f-string, a concatenation) cannot be read that way, so any string that
starts an id without being one fails the test until the place is listed in BUILT_IDS
with the ids it can build.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.catalog import (
    CHECKS,
    HEURISTICS,
    ID_RE,
    CatalogRule,
    load_catalog,
    read_rule,
)
from scanner.checks.heuristics.rules import default_rules
from scanner.checks.interface import CheckContext
from scanner.checks.lock.check import check_lock_hygiene
from scanner.errors import RuleError
from scanner.models import Inventory
from scanner.options import ScanOptions
from scanner.sources.lockfiles import parse_lockfile

REPO = Path(__file__).resolve().parents[1]
SCANNER = REPO / "scanner"
CATALOG = load_catalog(REPO / "rules")
BY_ID = {r.id: r for r in CATALOG}

ANY_ID = re.compile(r"WS-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
"""Looser than ID_RE on purpose: a malformed id in the code must be seen, then refused."""
ID_START = re.compile(r"(?:^|[^A-Za-z0-9])WS-(?:[A-Za-z0-9]+-?)?$")
"""A literal part that ends where a run-time part of an id would follow: "WS-", "WS-ADV-"."""

BUILT_IDS: dict[tuple[str, int], frozenset[str]] = {}
"""(module, line) of every place that builds an id at run time -> the ids it can build."""


def _docstrings(tree: ast.AST) -> set[int]:
    """id() of every docstring node, module, class and function alike."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ) and (
            node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        ):
            found.add(id(node.body[0].value))
    # attribute docstrings: a bare string right after an assignment
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Expr) and isinstance(child.value, ast.Constant):
                found.add(id(child.value))
    return found


def _module(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def emitted_ids() -> dict[str, set[str]]:
    """Every id the code can emit -> the modules that hold it."""
    out: dict[str, set[str]] = {}
    for path in sorted(SCANNER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docs = _docstrings(tree)
        module = _module(path)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and ANY_ID.fullmatch(node.value)
            ):
                out.setdefault(node.value, set()).add(module)
        for (built_in, _line), ids in BUILT_IDS.items():
            if built_in == module:
                for rule_id in ids:
                    out.setdefault(rule_id, set()).add(module)
    return out


def _built_sites(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Places where a string that starts an id is joined with something computed."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for left, right in itertools.pairwise(parts):
                if (
                    isinstance(left, ast.Constant)
                    and isinstance(left.value, str)
                    and ID_START.search(left.value)
                    and isinstance(right, ast.FormattedValue)
                ):
                    yield node.lineno, ast.unparse(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            left = node.left
            if (
                isinstance(left, ast.Constant)
                and isinstance(left.value, str)
                and (ID_START.search(left.value) or "WS-%" in left.value)
            ):
                yield node.lineno, ast.unparse(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and re.search(r"WS-[A-Za-z0-9-]*\{", node.func.value.value)
        ):
            yield node.lineno, ast.unparse(node)


EMITTED = emitted_ids()


def test_the_collector_sees_ids_of_every_check() -> None:
    # A collector that found nothing would pass the tests below: show it finds each kind.
    for rule_id in ("WS-INT-001", "WS-ADV-VULN", "WS-PROV-OK", "WS-PICKLE-003", "WS-LOCK-002"):
        assert rule_id in EMITTED, rule_id
    assert "WS-META-TYPO" not in EMITTED  # named only in a docstring


def test_the_collector_flags_ids_built_at_run_time() -> None:
    code = (
        'a = f"WS-ADV-{kind}"\n'
        'b = "WS-" + name\n'
        'c = "WS-%s-001" % x\n'
        'd = "WS-{}-001".format(x)\n'
        'e = f"id {x!r} must look like WS-ABC-001"\n'
    )
    assert [line for line, _ in _built_sites(ast.parse(code))] == [1, 2, 3, 4]


def test_ids_built_at_run_time_are_listed() -> None:
    unlisted = []
    for path in sorted(SCANNER.rglob("*.py")):
        module = _module(path)
        for line, text in _built_sites(ast.parse(path.read_text(encoding="utf-8"))):
            if (module, line) not in BUILT_IDS:
                unlisted.append(f"{module}:{line}: {text}")
    assert not unlisted, "list these in BUILT_IDS with the ids they build:\n" + "\n".join(unlisted)


def test_every_id_the_code_emits_is_catalogued() -> None:
    missing = sorted(
        f"{rule_id} ({', '.join(sorted(where))})"
        for rule_id, where in EMITTED.items()
        if rule_id not in BY_ID
    )
    assert not missing, "add rules/<category>/<ID>.toml for: " + "; ".join(missing)


def test_every_catalogued_id_is_emitted_by_its_engine() -> None:
    data_rules = {r.id for r in default_rules()}
    unused = []
    for rule in CATALOG:
        if rule.engine == HEURISTICS:
            if rule.id not in data_rules:
                unused.append(f"{rule.id}: not loaded by the heuristics engine")
            continue
        package = f"scanner/checks/{rule.engine}/"
        where = EMITTED.get(rule.id, set())
        if not any(m.startswith(package) for m in where):
            unused.append(f"{rule.id}: {package} never emits it (found in {sorted(where)})")
    assert not unused, "\n".join(unused)


def test_every_check_is_in_the_catalogue() -> None:
    assert {r.engine for r in CATALOG} == {HEURISTICS, *CHECKS}
    assert all(ID_RE.match(r.id) for r in CATALOG)


def test_checks_own_examples_are_run_somewhere() -> None:
    # models: tests/models/test_rule_catalog.py; metadata: tests/checks/test_metadata.py;
    # lock: below. Examples of any other check would be read by nobody.
    with_examples = {r.engine for r in CATALOG if r.examples and r.engine != HEURISTICS}
    assert with_examples <= {"models", "metadata", "lock"}


LOCK_EXAMPLES = [
    pytest.param(r, i, t, id=f"{r.id}-{i}-{t['expect']}")
    for r in CATALOG
    if r.engine == "lock"
    for i, t in enumerate(r.examples)
]


@pytest.mark.parametrize(("rule", "index", "example"), LOCK_EXAMPLES)
def test_lock_rule_examples(
    rule: CatalogRule, index: int, example: dict[str, object], tmp_path: Path
) -> None:
    path = tmp_path / str(example["lock_name"])
    path.write_text(str(example["lock"]), encoding="utf-8")
    inventory = Inventory(lockfiles=(parse_lockfile(path),))
    found = check_lock_hygiene(inventory, CheckContext(ScanOptions())).findings
    hits = [f for f in found if f.rule_id == rule.id]
    assert bool(hits) == (example["expect"] == "match"), (index, example.get("note"))
    assert all(f.severity is rule.severity for f in hits)


def test_every_lock_rule_has_examples() -> None:
    assert {r.id for r in CATALOG if r.engine == "lock" and r.examples} == {
        "WS-LOCK-001",
        "WS-LOCK-002",
        "WS-LOCK-003",
    }


# -- the schema ------------------------------------------------------------------------------

HEAD = """
id = "WS-TEST-001"
title = "t"
severity = "high"
identifies = "threat.test.case"
description = "d"
"""


def _write(root: Path, body: str, name: str = "WS-TEST-001") -> Path:
    path = root / "cat" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def test_a_check_rule_needs_no_examples(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + '[matcher]\nkind = "check"\ncheck = "integrity"\n')
    rule = read_rule(path, tmp_path)
    assert rule.engine == "integrity" and rule.examples == () and rule.precision == "very-high"
    assert rule.file == "rules/cat/WS-TEST-001.toml"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[matcher]\nkind = "check"\ncheck = "nope"\n', "matcher.check"),
        ('[matcher]\nkind = "check"\ncheck = "lock"\nissue = "x"\n', "unknown field"),
        ('[matcher]\nkind = "check"\ncheck = "lock"\nuses = ["gone.txt"]\n', "not under rules"),
        ('[matcher]\nkind = "yara"\n', "matcher.kind"),
        ('[matcher]\nkind = "regex"\npattern = "x"\n', "[[tests]]"),
        ('precision = "sure"\n[matcher]\nkind = "check"\ncheck = "lock"\n', "precision"),
        ('colour = "red"\n[matcher]\nkind = "check"\ncheck = "lock"\n', "unknown field"),
        ("", "[matcher]"),
        (
            '[matcher]\nkind = "check"\ncheck = "lock"\n[[tests]]\nexpect = "match"\n',
            "no-match",
        ),
    ],
)
def test_invalid_rules_are_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)):
        read_rule(_write(tmp_path, HEAD + body), tmp_path)


def test_duplicate_ids_and_bad_ids_are_refused(tmp_path: Path) -> None:
    body = HEAD + '[matcher]\nkind = "check"\ncheck = "lock"\n'
    _write(tmp_path, body)
    other = tmp_path / "other" / "WS-TEST-001.toml"
    other.parent.mkdir()
    other.write_text(body, encoding="utf-8")
    with pytest.raises(RuleError, match="duplicate rule id"):
        load_catalog(tmp_path)
    bad = body.replace("WS-TEST-001", "WS-test-1")
    with pytest.raises(RuleError, match="must look like"):
        read_rule(_write(tmp_path / "b", bad, "WS-test-1"))
