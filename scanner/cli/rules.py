"""`wormsign rules list [--format json]` and `wormsign rules show ID`: a thin layer over
the rule catalogue (scanner.catalog), which holds every id any check can emit."""

from __future__ import annotations

import json
from collections.abc import Mapping

import click

from scanner.catalog import HEURISTICS, CatalogRule, default_catalog, one_line, rule_json
from scanner.checks.heuristics.rules import Rule, catalog_matcher_text, default_rules
from scanner.cli.common import ExitCode, fail
from scanner.errors import RuleError


def _load() -> tuple[Mapping[str, CatalogRule], Mapping[str, Rule]]:
    """The catalogue, and its data rules validated the way the scan loads them."""
    try:
        return default_catalog(), {r.id: r for r in default_rules()}
    except RuleError as err:
        # a broken catalogue means no scan can be trusted
        fail(err.diagnostics(), ExitCode.INCOMPLETE)


@click.group()
def rules() -> None:
    """Every rule wormsign can report: data rules (rules/*/*.toml) and the checks' own."""


@rules.command("list")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: every rule with its metadata, for scripts.",
)
def list_rules(fmt: str) -> None:
    """One line per rule: id, severity, engine, title."""
    catalogue, _ = _load()
    if fmt == "json":
        data = [rule_json(r, catalog_matcher_text) for r in catalogue.values()]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    width = max(len(i) for i in catalogue)
    for r in catalogue.values():
        click.echo(f"{r.id:<{width}}  {r.severity.label:<8}  {r.engine:<10}  {r.title}")


def _echo_value(value: object, indent: str = "  ") -> None:
    """A raw example value of a Python check's rule: text, a table of files, hex."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if isinstance(sub, Mapping) and "hex" in sub:
                hex_text = "".join(str(sub["hex"]).split())
                more = "..." if len(hex_text) > 64 else ""
                click.echo(f"{indent}--- {key} (hex) {hex_text[:64]}{more}")
            elif isinstance(sub, str | int | float | bool) and "\n" not in str(sub).strip():
                click.echo(f"{indent}{key}: {sub}")
            else:
                click.echo(f"{indent}--- {key}")
                _echo_value(sub, indent + "  ")
        return
    for line in str(value).strip("\n").splitlines()[:20]:
        click.echo(f"{indent}{line}")


def _show_examples(rule: CatalogRule, data_rule: Rule | None) -> None:
    if data_rule is not None:
        for example in data_rule.tests:
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
        return
    for raw in rule.examples:
        click.echo("")
        note = f" ({raw['note']})" if raw.get("note") else ""
        click.echo(f"example, expect {raw['expect']}{note}:")
        _echo_value({k: v for k, v in raw.items() if k not in ("expect", "note")})


@rules.command("show")
@click.argument("rule_id")
def show_rule(rule_id: str) -> None:
    """Everything about one rule, with its examples."""
    catalogue, data_rules = _load()
    rule = catalogue.get(rule_id.strip().upper())
    if rule is None:
        raise click.BadParameter(
            f"no rule {rule_id!r} (see `wormsign rules list`)", param_hint="RULE_ID"
        )
    click.echo(f"{rule.id}: {rule.title}")
    click.echo(f"severity:   {rule.severity.label}")
    click.echo(f"identifies: {rule.identifies}")
    click.echo(f"engine:     {rule.engine}")
    click.echo(f"precision:  {rule.precision}")
    click.echo(f"file:       {rule.file}")
    click.echo(f"matcher:    {catalog_matcher_text(rule)}")
    click.echo("")
    click.echo(one_line(rule.description))
    if rule.references:
        click.echo("")
        click.echo("references:")
        for ref in rule.references:
            click.echo(f"  {ref}")
    _show_examples(rule, data_rules.get(rule.id) if rule.engine == HEURISTICS else None)
