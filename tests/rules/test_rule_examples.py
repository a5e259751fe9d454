"""Every rule's own examples: `match` examples fire the rule, `no-match` ones do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.checks.heuristics.check import evaluate, view_of_files
from scanner.checks.heuristics.rules import Rule, RuleExample, load_rule, load_rules
from scanner.errors import RuleError

RULES = load_rules()
CASES = [
    pytest.param(rule, example, id=f"{rule.id}-{i}-{example.expect}")
    for rule in RULES
    for i, example in enumerate(rule.tests)
]


def _fires(rule: Rule, example: RuleExample) -> bool:
    view = view_of_files(
        example.files, kind=example.dist, pure=example.pure, entry_points=example.entry_points
    )
    return any(f.rule_id == rule.id for f in evaluate(view, [rule]))


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_rule_example(rule: Rule, example: RuleExample) -> None:
    assert _fires(rule, example) == (example.expect == "match"), example.note


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_rule_has_both_kinds_of_example(rule: Rule) -> None:
    kinds = {t.expect for t in rule.tests}
    assert kinds == {"match", "no-match"}


def test_catalogue_is_not_empty_and_ids_are_file_stems() -> None:
    assert len(RULES) >= 18
    for rule in RULES:
        assert rule.path.stem == rule.id


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "WS-TEST-001.toml"
    path.write_text(body)
    return path


HEAD = """
id = "WS-TEST-001"
title = "t"
severity = "high"
identifies = "threat.test.case"
description = "d"
"""
EXAMPLES = """
[[tests]]
expect = "match"
code = "x = 1"
[[tests]]
expect = "no-match"
code = "x = 2"
"""


@pytest.mark.parametrize(
    ("matcher", "message"),
    [
        ('kind = "yara"\n', "matcher.kind"),
        ('kind = "python-ast"\nall = ["exec"]\nfoo = 1\n', "unknown field"),
        ('kind = "python-ast"\nall = ["no-such-signal"]\n', "unknown signals"),
        ('kind = "regex"\npattern = "("\n', "does not compile"),
        ('kind = "binary"\nformats = ["elf"]\nwhere = "moon"\n', "matcher.where"),
        ('kind = "file-layout"\nlayout = "nope"\n', "matcher.layout"),
    ],
)
def test_invalid_matchers_raise_rule_error(tmp_path: Path, matcher: str, message: str) -> None:
    path = _write(tmp_path, HEAD + "[matcher]\n" + matcher + EXAMPLES)
    with pytest.raises(RuleError, match=message):
        load_rule(path)


def test_rule_without_no_match_example_is_refused(tmp_path: Path) -> None:
    body = (
        HEAD
        + '[matcher]\nkind = "python-ast"\nall = ["exec"]\n'
        + '[[tests]]\nexpect = "match"\ncode = "exec(x)"\n'
    )
    with pytest.raises(RuleError, match="no-match"):
        load_rule(_write(tmp_path, body))


def test_stem_must_equal_id(tmp_path: Path) -> None:
    path = tmp_path / "WS-OTHER-001.toml"
    path.write_text(HEAD + '[matcher]\nkind = "python-ast"\nall = ["exec"]\n' + EXAMPLES)
    with pytest.raises(RuleError, match="file name"):
        load_rule(path)
