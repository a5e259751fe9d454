"""The Dask engine (`pip install 'wormsign[dask]'`): an existing cluster (`--scheduler
tcp://host:8786`) or a LocalCluster of `--workers N`. Each task is one shard; a task
carries the shard (paths or URLs, sizes, sha256) and the scan options, nothing else: no
credential, no environment. Workers need only wormsign installed."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import Any

from scanner.errors import ConfigError, SourceError
from scanner.infra.hashing import default_workers
from scanner.options import ScanOptions
from scanner.scale.artifacts import Outcome, Shard
from scanner.scale.judge import judge_shard, warm

QUIET_WORKERS: dict[str, object] = {
    # The statistical profiler samples every thread's stack every 10 ms: on deep AST
    # walks that is a large share of a CPU-bound worker's time, for a dashboard nobody
    # looks at here. The other monitors only need to be slower.
    "distributed.worker.profile.enabled": False,
    "distributed.worker.profile.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.gil.enabled": False,
}
"""Dask settings for the LocalCluster this engine starts (an existing cluster keeps its
own: start its workers with `DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False`)."""


class DaskEngine:
    """Shards as Dask tasks; outcomes as tasks complete."""

    name = "dask"

    def __init__(
        self,
        *,
        workers: int | None = None,
        scheduler: str | None = None,
        processes: bool = True,
        connect_timeout: float = 30.0,
    ) -> None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise ConfigError("--engine dask needs Dask: pip install 'wormsign[dask]'") from None
        self._cluster: Any = None
        if scheduler is not None:
            try:
                self._client: Any = distributed.Client(scheduler, timeout=connect_timeout)
            except ValueError as err:  # not an address Dask knows: a usage error
                raise ConfigError(f"--scheduler {scheduler}: {err}".splitlines()[0]) from err
            except (OSError, TimeoutError) as err:
                raise SourceError(
                    f"cannot reach the Dask scheduler: {err}".splitlines()[0],
                    path=scheduler,
                    hint="check --scheduler (tcp://host:8786) and that the scheduler runs",
                ) from err
        else:
            n = max(1, workers or default_workers())
            dask: Any = importlib.import_module("dask")
            with dask.config.set(QUIET_WORKERS):
                self._cluster = distributed.LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=processes,
                    host="127.0.0.1",
                    protocol="tcp://",
                    dashboard_address="127.0.0.1:0",  # its HTTP server always starts: any port
                    silence_logs=40,
                )
            self._client = distributed.Client(self._cluster)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        self._client.run(warm)  # on every worker, now: start-up cost is paid here

    def map_shards(self, shards: Sequence[Shard], options: ScanOptions) -> Iterator[list[Outcome]]:
        """One task per shard, submitted largest first; outcomes as tasks finish."""
        as_completed: Any = importlib.import_module("distributed").as_completed
        futures = [
            self._client.submit(judge_shard, shard, options, pure=False, priority=-shard.index)
            for shard in shards
        ]
        try:
            for future in as_completed(futures):
                outcomes: list[Outcome] = future.result()
                yield outcomes
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        """Close the client, and the LocalCluster if this engine started it."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
