"""The command line: one module per command, shared options and exit codes in `common`.

Thin: commands parse options, call the library, and render. `wormsign` is `main`.
"""

from __future__ import annotations

import click

from scanner import __version__
from scanner.cli.db import db
from scanner.cli.fix import fix
from scanner.cli.rules import rules
from scanner.cli.run import run
from scanner.cli.scan import scan
from scanner.cli.scan_index import inventory, scan_index


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="wormsign")
def main() -> None:
    """wormsign: a supply-chain integrity gate for Python ML environments."""


for _command in (scan, run, db, rules, fix, scan_index, inventory):
    main.add_command(_command)
