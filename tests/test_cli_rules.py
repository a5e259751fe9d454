"""`wormsign rules list` / `show` are reachable from the main command."""

from __future__ import annotations

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
