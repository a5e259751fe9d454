"""Cutting the jobs into shards: tasks carry several artifacts (a Dask task costs
milliseconds), about equal in bytes, the largest first so the longest starts at once."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from scanner.scale.artifacts import Job, Shard

DEFAULT_SHARD_SIZE = 64
"""Artifacts per shard by default (issue 18: Dask overhead is small from 64 up)."""


def make_shards(jobs: Sequence[Job], per_shard: int = DEFAULT_SHARD_SIZE) -> list[Shard]:
    """Shards of at most `per_shard` jobs, balanced by bytes, largest shard first.

    Jobs go largest first to the shard with the fewest bytes so far (greedy LPT), so
    shards end close in bytes; the order inside a shard is largest first as well.
    """
    if not jobs:
        return []
    count = max(1, -(-len(jobs) // max(1, per_shard)))
    ordered = sorted(jobs, key=lambda j: (-j.artifact.size, j.key))
    heap: list[tuple[int, int, int]] = [(0, 0, i) for i in range(count)]  # bytes, jobs, shard
    buckets: list[list[Job]] = [[] for _ in range(count)]
    for job in ordered:
        size, n, i = heapq.heappop(heap)
        buckets[i].append(job)
        entry = (size + job.artifact.size, n + 1, i)
        if n + 1 < per_shard:
            heapq.heappush(heap, entry)
    shards = [tuple(b) for b in buckets if b]
    shards.sort(key=lambda b: (-sum(j.artifact.size for j in b), b[0].key))
    return [Shard(index=i, jobs=b) for i, b in enumerate(shards)]
