"""`wormsign rules list` / `show` are reachable from the main command."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scanner.catalog import load_catalog
from scanner.cli import main


def test_rules_list_and_show() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["rules", "list"])
    assert listed.exit_code == 0, listed.output
    ids = [line.split()[0] for line in listed.output.splitlines() if line.strip()]
    assert ids == sorted(r.id for r in load_catalog())
    shown = runner.invoke(main, ["rules", "show", ids[0]])
    assert shown.exit_code == 0 and ids[0] in shown.output
    assert runner.invoke(main, ["rules", "show", "WS-NOPE-999"]).exit_code != 0


def test_rules_list_json_is_the_whole_catalogue() -> None:
    result = CliRunner().invoke(main, ["rules", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    catalog = load_catalog()
    assert [r["id"] for r in data] == [r.id for r in catalog]
    by_id = {r["id"]: r for r in data}
    for rule in catalog:
        row = by_id[rule.id]
        assert row["severity"] == rule.severity.label
        assert row["identifies"] == rule.identifies and row["engine"] == rule.engine
        assert row["references"] == list(rule.references)
        assert row["file"] == f"rules/{rule.category}/{rule.id}.toml"
        assert row["matcher"]
    assert by_id["WS-INT-001"]["matcher"] == "check: scanner/checks/integrity"
    assert by_id["WS-PTH-001"]["matcher"].startswith("file-layout:")
    assert by_id["WS-LOCK-001"]["examples"] == {"match": 1, "no-match": 1}


def test_rules_show_a_check_rule() -> None:
    result = CliRunner().invoke(main, ["rules", "show", "ws-typo-001"])
    assert result.exit_code == 0, result.output
    assert "engine:     metadata" in result.output
    assert "rules/typosquat/popular-names.txt" in result.output
    assert "package: torchvison" in result.output
