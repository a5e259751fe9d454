"""`wormsign rules list` and `wormsign rules show ID`: a thin layer over
scanner.checks.heuristics.rules."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from scanner.checks.heuristics.rules import Rule, default_rules, matcher_summary
from scanner.errors import RuleError

_EXIT_INCOMPLETE = 3  # a broken rule catalogue means no scan can be trusted (cli.ExitCode)


def _fail(err: RuleError) -> NoReturn:
    click.echo(f"wormsign: error: {err.diagnostics()}", err=True)
    sys.exit(_EXIT_INCOMPLETE)


def _load() -> tuple[Rule, ...]:
    try:
        return default_rules()
    except RuleError as err:
        _fail(err)


@click.group()
def rules() -> None:
    """The heuristic rules (rules/*.toml) that judge package files."""


@rules.command("list")
def list_rules() -> None:
    """One line per rule: id, severity, title."""
    catalogue = _load()
    width = max(len(r.id) for r in catalogue)
    for r in catalogue:
        click.echo(f"{r.id:<{width}}  {r.severity.label:<8}  {r.title}")


@rules.command("show")
@click.argument("rule_id")
def show_rule(rule_id: str) -> None:
    """Everything about one rule, with its examples."""
    catalogue = {r.id: r for r in _load()}
    rule = catalogue.get(rule_id.strip().upper())
    if rule is None:
        raise click.BadParameter(
            f"no rule {rule_id!r} (see `wormsign rules list`)", param_hint="RULE_ID"
        )
    click.echo(f"{rule.id}: {rule.title}")
    click.echo(f"severity:   {rule.severity.label}")
    click.echo(f"identifies: {rule.identifies}")
    click.echo(f"file:       rules/{rule.category}/{rule.id}.toml")
    click.echo(f"matcher:    {matcher_summary(rule.matcher)}")
    click.echo("")
    click.echo(" ".join(rule.description.split()))
    if rule.references:
        click.echo("")
        click.echo("references:")
        for ref in rule.references:
            click.echo(f"  {ref}")
    for example in rule.tests:
        click.echo("")
        note = f" ({example.note})" if example.note else ""
        click.echo(f"example, expect {example.expect}{note}:")
        for path, data in example.files:
            click.echo(f"  --- {path}")
            text = (
                data.decode("utf-8", "replace")
                if data.isascii() or b"\0" not in data
                else data.hex()
            )
            for line in text.strip("\n").splitlines()[:20]:
                click.echo(f"  {line}")
        if example.entry_points:
            click.echo("  --- entry_points.txt")
            for line in example.entry_points.strip().splitlines():
                click.echo(f"  {line}")
