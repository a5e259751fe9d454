"""Engines map shards over workers and yield each shard's outcomes as it finishes.

    with make_engine("local", workers=2) as engine:
        for outcomes in engine.map_shards(shards, options): ...

`local` is a process pool (no dependency); `dask` a Dask cluster (`wormsign[dask]`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from scanner.errors import ConfigError
from scanner.options import ScanOptions
from scanner.scale.artifacts import Outcome, Shard

ENGINES = ("local", "dask")


class Engine(Protocol):
    """The one small interface every engine has."""

    name: str
    workers: int

    def map_shards(self, shards: Sequence[Shard], options: ScanOptions) -> Iterator[list[Outcome]]:
        """judge_shard over every shard; each shard's outcomes as soon as it is done."""
        ...

    def close(self) -> None:
        """Stop the workers this engine started."""
        ...

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...


def make_engine(
    name: str, *, workers: int | None = None, scheduler: str | None = None, processes: bool = True
) -> Engine:
    """The engine `name`: started and ready (start-up cost is paid here)."""
    if name == "local":
        if scheduler is not None:
            raise ConfigError("--scheduler needs --engine dask")
        from scanner.scale.engines.local import LocalEngine

        return LocalEngine(workers)
    if name == "dask":
        from scanner.scale.engines.dask import DaskEngine

        return DaskEngine(workers=workers, scheduler=scheduler, processes=processes)
    raise ConfigError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
