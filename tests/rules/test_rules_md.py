"""RULES.md is generated from rules/ and must be current; the rules CLI prints the catalogue."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scanner.catalog import load_catalog, render_markdown
from scanner.checks.heuristics.behaviour import load_catalogue, render_catalogue_markdown
from scanner.checks.heuristics.rules import catalog_matcher_text
from scanner.cli.rules import rules

REPO = Path(__file__).resolve().parents[2]


def test_rules_md_is_up_to_date() -> None:
    expected = render_markdown(load_catalog(REPO / "rules"), catalog_matcher_text)
    expected += render_catalogue_markdown(load_catalogue(REPO / "rules"))
    actual = (REPO / "RULES.md").read_text(encoding="utf-8")
    assert actual == expected, "run: python scripts/gen_rules_md.py"


def test_rules_list_prints_every_rule() -> None:
    result = CliRunner().invoke(rules, ["list"])
    assert result.exit_code == 0
    for rule in load_catalog(REPO / "rules"):
        assert rule.id in result.output


def test_rules_show_prints_rule_and_examples() -> None:
    result = CliRunner().invoke(rules, ["show", "ws-pth-001"])
    assert result.exit_code == 0
    assert "WS-PTH-001" in result.output
    assert "critical" in result.output
    assert "expect match" in result.output and "expect no-match" in result.output


def test_rules_show_unknown_id_is_a_usage_error() -> None:
    result = CliRunner().invoke(rules, ["show", "WS-NOPE-999"])
    assert result.exit_code == 2


def test_rules_md_lists_every_behaviour_entry() -> None:
    text = (REPO / "RULES.md").read_text(encoding="utf-8")
    section = text.split("## Behaviour catalogue", 1)[1]
    for entry in load_catalogue(REPO / "rules"):
        assert f"| `{entry.id}` |" in section, entry.id
