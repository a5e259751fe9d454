"""The local engine: a process pool on this machine (the default; no new dependency).

`concurrent.futures` over `forkserver` processes: workers are fresh interpreters that
import only wormsign (no `fork` of a process that runs threads, no re-import of the
caller's script as `spawn` does), and futures complete in any order, so results stream.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from scanner.infra.hashing import default_workers
from scanner.options import ScanOptions
from scanner.scale.artifacts import Outcome, Shard
from scanner.scale.judge import judge_shard, warm


class LocalEngine:
    """A pool of `workers` processes (default: one per core)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or default_workers())
        context = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        for future in [self._pool.submit(warm) for _ in range(self.workers)]:
            future.result()

    def map_shards(self, shards: Sequence[Shard], options: ScanOptions) -> Iterator[list[Outcome]]:
        """Shards in the order given (largest first); outcomes as they finish."""
        pending: set[Future[list[Outcome]]] = {
            self._pool.submit(judge_shard, shard, options) for shard in shards
        }
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the pool (queued shards are dropped)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
