"""`wormsign scan-index` and `wormsign inventory`: judge an index, wheelhouse, model
registry or fleet once per content (scanner.scale), stream JSON Lines, report, exit by
the gate's contract (3 when any input could not be judged, after reporting the rest)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Any

import click

from scanner.cli.common import ExitCode, emit, exit_on_error, fail, warn, write_output
from scanner.models import Severity
from scanner.reporters import OutputFormat


@click.command("scan-index")
@click.argument("sources", nargs=-1)
@click.option(
    "--from-inventory",
    "inventories",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A node's `wormsign inventory` JSON Lines (repeatable): fleet mode.",
)
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Workers to start.")
@click.option("--scheduler", metavar="URL", default=None, help="An existing Dask scheduler.")
@click.option(
    "--shard-size",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Artifacts per engine task.",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Shared verdict directory (default: <cache-dir>/scan-index).",
)
@click.option(
    "--jsonl",
    "jsonl_path",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="Where to stream JSON Lines (default: stdout).",
)
@click.option("--db", "db_path", type=click.Path(path_type=Path), help="OSV database.")
@click.option("--offline/--online", default=None, help="Use network advisory sources.")
@click.option("--fail-on", type=click.Choice([s.label for s in Severity]), default=None)
@click.option("--format", "fmt", type=click.Choice([f.value for f in OutputFormat]), default=None)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-cache", is_flag=True, help="No local index or hash cache (the store stays).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--check", "checks", multiple=True, help="Run only these checks (repeatable).")
@click.option("-v", "--verbose", is_flag=True)
def scan_index(**params: Any) -> None:
    """Judge every artifact of SOURCE... (directories, PEP 691 index URLs, manifests) once."""
    started = time.monotonic()
    if not params["sources"] and not params["inventories"]:
        fail("scan-index needs a SOURCE or --from-inventory", ExitCode.USAGE)
    if params["scheduler"] and params["engine"] != "dask":
        fail("--scheduler needs --engine dask", ExitCode.USAGE)
    stream = _LazyStream(params["jsonl_path"])
    try:
        with exit_on_error(params["verbose"]):
            result = _run(params, stream)
    except KeyboardInterrupt:
        fail(
            "interrupted: the verdicts judged so far are stored; "
            "run the same command again to resume",
            ExitCode.INCOMPLETE,
        )
    finally:
        stream.close()
    report, errors, stats = result.report, result.errors, result.stats
    elapsed = time.monotonic() - started
    if params["output"] is not None or params["jsonl_path"] is not None:
        emit(report, params["fmt"], params["output"], verbose=params["verbose"], elapsed=elapsed)
    click.echo(
        f"wormsign: scan-index: {stats.listed} artifacts, {stats.unique} unique, "
        f"{stats.reused} verdicts reused, {stats.judged} judged in {stats.shards} shards, "
        f"{len(report.findings)} findings, {elapsed:.1f}s",
        err=True,
    )
    for line in errors:
        warn(line, "error")
    if errors:
        sys.exit(int(ExitCode.INCOMPLETE))
    sys.exit(int(ExitCode.FINDINGS if report.blocked else ExitCode.CLEAN))


class _LazyStream:
    """Where the JSON Lines go: stdout, or a file opened at the first line, so that a run
    stopped by a usage or input error before any line leaves an existing file alone."""

    def __init__(self, path: Path | None) -> None:
        self.path = None if path is None or str(path) == "-" else path
        self._fh: IO[str] | None = None

    def write_line(self, line: str) -> None:
        if self.path is None:
            click.echo(line)
            return
        if self._fh is None:
            self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close)
        self._fh.write(line + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def _run(params: dict[str, Any], stream: _LazyStream) -> Any:
    from scanner.cli.common import build_options, overridden
    from scanner.infra.hash_cache import HashCache, default_cache_dir
    from scanner.infra.verdict_store import open_store
    from scanner.policy import apply_config, load_config
    from scanner.scale.engines import make_engine
    from scanner.scale.fleet import read_inventories
    from scanner.scale.index_source import list_sources, redact
    from scanner.scale.run import json_line, rules_fingerprint, scan_artifacts
    from scanner.scale.store import SharedStore

    full = {
        **params,
        "wheelhouses": (),
        "attestations_dir": None,
        "jobs": None,
        "min_release_age": None,
        "as_of": None,
    }
    options = build_options(full)
    config = load_config(Path.cwd(), params["config_path"])
    options = apply_config(options, config, overridden(full))
    cache_dir = options.cache_dir or default_cache_dir()
    hash_cache = HashCache.open(cache_dir) if options.use_cache else None
    try:
        listed = list_sources(tuple(params["sources"]), hash_cache)
    finally:
        if hash_cache is not None:
            hash_cache.close()
    fleet, fleet_errors = read_inventories(params["inventories"])
    artifacts = [*listed.artifacts, *fleet]
    errors = [*listed.errors, *fleet_errors]
    store_dir = params["store_dir"] or cache_dir / "scan-index"
    store = SharedStore(
        store_dir, rules_fingerprint(options), open_store(options.use_cache, cache_dir)
    )

    def out(event: dict[str, object]) -> None:
        stream.write_line(json_line(event))

    targets = [redact(s) for s in params["sources"]] + [str(p) for p in params["inventories"]]
    try:
        with make_engine(
            params["engine"], workers=params["workers"], scheduler=params["scheduler"]
        ) as engine:
            return scan_artifacts(
                artifacts,
                options=options,
                engine=engine,
                store=store,
                targets=targets,
                list_errors=errors,
                shard_size=params["shard_size"],
                emit=out,
                config=config,
            )
    finally:
        store.close()


@click.command("inventory")
@click.option(
    "--env",
    "env_path",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The environment (virtualenv, prefix or site-packages) of this node.",
)
@click.option(
    "--emit", "emit_format", type=click.Choice(["jsonl"]), default="jsonl", show_default=True
)
@click.option("--node", default=None, help="Node name (default: the host name).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--no-cache", is_flag=True, help="Hash every file again.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def inventory(
    env_path: Path,
    emit_format: str,
    node: str | None,
    output: Path | None,
    no_cache: bool,
    cache_dir: Path | None,
) -> None:
    """Write what this node has (distributions, versions, every file's sha256) for
    `scan-index --from-inventory`."""
    from scanner.infra.hash_cache import HashCache
    from scanner.scale.fleet import inventory_lines

    cache = None if no_cache else HashCache.open(cache_dir)
    try:
        with exit_on_error():
            text = "".join(line + "\n" for line in inventory_lines(env_path, cache, node))
    finally:
        if cache is not None:
            cache.close()
    try:
        write_output(text, output)
    except OSError as err:
        fail(f"{output}: cannot write: {err.strerror or err}", ExitCode.INCOMPLETE)
