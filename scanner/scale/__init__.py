"""Scale out (issue 18): judge every artifact of an index, wheelhouse, model registry or
fleet once, by content address, on a local process pool or a Dask cluster.

    sources (index_source, inventory) -> plan (dedupe by sha256, skip stored verdicts)
    -> shards (by bytes, largest first) -> engine (local | dask) maps judge.judge_shard
    -> store (write-once verdict files) -> run (stream JSON Lines, build the Report)

The judging itself is the per-artifact scan path of `wormsign scan` (scanner.gate's
checks over one artifact); nothing here detects anything.
"""
