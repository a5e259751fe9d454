"""The heuristics check over a whole inventory, with content verdicts from the store.

A distribution's heuristic findings depend only on its files' bytes (and the rules), so
they are a content verdict (`scanner.verdicts`):
- a wheel or sdist: keyed by the archive's sha256 and its file name (which gives the
  name and version the rules read);
- an installed distribution: keyed by the manifest of its files — each file's path and
  the sha256 of its bytes — with its name, version, purity and entry points. The hashes
  come through the hash cache (keyed by what `stat` says), so a repeat scan of an
  unchanged environment reads no file at all; integrity then finds the same hashes there.

A verdict is stored only when it is whole: every file was read, and the bytes the rules
saw are the bytes that were hashed (a file that changed in between, or could not be
read, leaves the verdict for this run only).
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.checks.heuristics.check import (
    DistView,
    content_findings,
    installed_files,
    installed_shell,
    place,
    view_of_archive,
    view_of_installed,
    view_of_loose,
)
from scanner.checks.heuristics.rules import Rule, default_rules
from scanner.checks.interface import VERDICTS, VERDICTS_REUSED, CheckContext, CheckResult
from scanner.infra.hash_cache import HashCache, open_cache
from scanner.infra.hashing import FileHash, default_workers, hash_files
from scanner.infra.progress import advance
from scanner.infra.verdict_store import VerdictStore, open_store
from scanner.infra.workers import run_tasks
from scanner.models import Finding, InstalledDistribution, Inventory
from scanner.options import ScanOptions
from scanner.verdicts import Verdict, fingerprint, manifest_digest, verdict_key

KIND = "heuristics"
_ABSENT = (errno.ENOENT, errno.ELOOP, errno.EISDIR, errno.EINVAL, errno.ENOTDIR)
"""Errors that mean "not a regular file here": the view leaves such paths out, as the
rules would, so the verdict is still whole. Any other error (EACCES, EIO) makes it partial."""


@dataclass(slots=True)
class _Pending:
    """One distribution whose verdict is being decided."""

    dist: InstalledDistribution
    shell: DistView
    files: list[tuple[Path, str]]
    key: str | None
    """None: no verdict can be stored (no cache, or a file could not be read)."""
    hashes: dict[str, FileHash]
    """Shown path -> (sha256, size) of the bytes hashed."""
    size: int = 0
    """Bytes of Python source it ships (what judging it costs, roughly)."""


def check_heuristics(inventory: Inventory, context: CheckContext) -> CheckResult:
    """The check: rules over distribution files, installed distributions and loose files,
    verdicts on unchanged contents taken from the verdict store."""
    tally = Tally()
    found = tuple(judge_inventory(inventory, context.options, default_rules(), tally))
    return CheckResult.of(
        found, counters=((VERDICTS, tally.verdicts), (VERDICTS_REUSED, tally.reused))
    )


@dataclass(slots=True)
class Tally:
    """How many contents were judged, and how many of those verdicts came from the store."""

    verdicts: int = 0
    reused: int = 0


def judge_inventory(
    inventory: Inventory,
    options: ScanOptions,
    rules: Sequence[Rule],
    tally: Tally | None = None,
) -> Iterator[Finding]:
    """Every heuristic finding of the inventory, in the order of its distributions."""
    store = open_store(options.use_cache, options.cache_dir)
    hashes = open_cache(options) if store is not None else None
    try:
        yield from _judge(inventory, rules, store, hashes, options.jobs, tally or Tally())
    finally:
        if store is not None:
            store.close()
        if hashes is not None:
            hashes.close()


@dataclass(frozen=True, slots=True)
class _Archive:
    """A wheel or sdist to judge (a task a worker can take)."""

    path: Path
    size: int


_Task = _Archive | _Pending


def _judge(
    inventory: Inventory,
    rules: Sequence[Rule],
    store: VerdictStore | None,
    hashes: HashCache | None,
    jobs: int | None,
    tally: Tally,
) -> Iterator[Finding]:
    fp = fingerprint() if store is not None else ""
    # plan: every content with its key; the store answers what it already knows
    archives: list[tuple[_Archive, str, str | None]] = []
    for dist_file in inventory.distribution_files:
        key = (
            verdict_key(KIND, dist_file.sha256, fp, {"archive": dist_file.path.name})
            if store is not None
            else None
        )
        archives.append((_Archive(dist_file.path, _size(dist_file.path)), dist_file.sha256, key))
    envs = [(env, _plan(env.distributions, store, hashes, fp)) for env in inventory.environments]
    keys = [k for _, _, k in archives if k] + [p.key for _, ps in envs for p in ps if p.key]
    known = store.get_many(keys) if store is not None and keys else {}
    tasks: list[_Task] = [a for a, _, k in archives if k is None or k not in known]
    tasks += [p for _, ps in envs for p in ps if p.key is None or p.key not in known]
    tally.verdicts += len(archives) + sum(len(ps) for _, ps in envs)
    tally.reused += tally.verdicts - len(tasks)

    # judge the rest, largest first, in worker processes when that pays; results by task
    judged = _run(tasks, rules, jobs)

    fresh: list[tuple[str, Verdict]] = []
    for archive, sha256, key in archives:
        verdict = known.get(key) if key is not None else None
        if verdict is None:
            verdict = judged[id(archive)]
            if key is not None and verdict.complete:
                # the archive read is the archive hashed when the inventory was built
                after = hash_files([archive.path], hashes).get(archive.path)
                if isinstance(after, tuple) and after[0] == sha256:
                    fresh.append((key, verdict))
        kind, name, version = (verdict.payload or "wheel\0\0").split("\0", 2)
        view = DistView(kind=kind, label=str(archive.path), files=[], name=name or None)
        view.version = version or None
        yield from place(view, verdict.findings)
    for env, pending in envs:
        for item in pending:
            verdict = known.get(item.key) if item.key is not None else None
            if verdict is None:
                verdict = judged[id(item)]
                if item.key is not None and verdict.complete:
                    fresh.append((item.key, verdict))
            yield from place(item.shell, verdict.findings)
        loose = view_of_loose(env)
        if loose is not None:
            yield from place(loose, content_findings(loose, rules))
    if store is not None and fresh:
        store.put_many(fresh)


POOL_MIN_BYTES = 8 << 20
"""Below this much to read, judging in this process beats starting workers (each costs
~0.3 s of start-up and imports; the rules judge ~4 MB of Python source per CPU-second)."""


def _run(tasks: list[_Task], rules: Sequence[Rule], jobs: int | None) -> dict[int, Verdict]:
    """Each task's verdict, by `id(task)`: in worker processes when there is enough to do."""
    order = sorted(tasks, key=_weight, reverse=True)
    total = sum(_weight(t) for t in order)
    workers = jobs if jobs is not None else default_workers()
    if total < POOL_MIN_BYTES:
        workers = 1
    files = [_file_count(t) for t in order]
    all_files = sum(files)
    done = 0
    if order:
        advance(STAGE, 0, all_files)

    def tick(i: int) -> None:
        nonlocal done
        done += files[i]
        advance(STAGE, done, all_files)

    verdicts = run_tasks(judge_task, tuple(rules), order, workers, tick)
    return {id(t): v for t, v in zip(order, verdicts, strict=True)}


STAGE = "analysing files"


def judge_task(rules: Sequence[Rule], task: _Task) -> Verdict:
    """The verdict on one content (what a worker process runs)."""
    if isinstance(task, _Archive):
        view = view_of_archive(task.path)  # raises ArchiveError: the scan is incomplete
        found = tuple(content_findings(view, rules))
        return Verdict(KIND, found, complete=True, payload=_identity(view))
    return _judge_installed(task, rules)


def _weight(task: _Task) -> int:
    """Bytes to judge: what the task costs, roughly."""
    return task.size


def _file_count(task: _Task) -> int:
    return 1 if isinstance(task, _Archive) else len(task.files)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _identity(view: DistView) -> str:
    """The kind, name and version a view of an archive had (what `place` shows)."""
    return "\0".join((view.kind, view.name or "", view.version or ""))


def _plan(
    dists: Sequence[InstalledDistribution],
    store: VerdictStore | None,
    hashes: HashCache | None,
    fp: str,
) -> list[_Pending]:
    """Each distribution with its files and (with a store) its verdict key."""
    planned = [(dist, installed_files(dist)) for dist in dists]
    digests: dict[Path, FileHash | OSError] = {}
    if store is not None:
        digests = hash_files([path for _, files in planned for path, _ in files], hashes)
    out = []
    for dist, files in planned:
        shell = installed_shell(dist)
        key: str | None = None
        seen: dict[str, FileHash] = {}
        if store is not None:
            whole = True
            for path, shown in files:
                outcome = digests.get(path)
                if isinstance(outcome, tuple):
                    seen[shown] = outcome
                elif not isinstance(outcome, OSError) or outcome.errno not in _ABSENT:
                    whole = False
            if whole:
                manifest = manifest_digest((shown, d, s) for shown, (d, s) in seen.items())
                params = {
                    "kind": shell.kind,
                    "name": shell.name,
                    "version": shell.version,
                    "pure": shell.pure,
                    "entry_points": [[e.group, e.name, e.value] for e in shell.entry_points],
                }
                key = verdict_key(KIND, manifest, fp, params)
        out.append(_Pending(dist, shell, files, key, seen, _source_bytes(dist)))
    return out


def _source_bytes(dist: InstalledDistribution) -> int:
    """Bytes of the Python files its RECORD lists (4 KiB each where it gives no size)."""
    return sum(
        e.size if e.size is not None else 4096
        for e in dist.record or ()
        if e.path.endswith((".py", ".pyw"))
    )


def _judge_installed(item: _Pending, rules: Sequence[Rule]) -> Verdict:
    view = view_of_installed(item.dist, item.files)
    found = tuple(content_findings(view, rules))
    return Verdict(KIND, found, complete=item.key is not None and _same_bytes(view, item))


def _same_bytes(view: DistView, item: _Pending) -> bool:
    """Whether the rules saw the bytes that were hashed (nothing changed in between)."""
    if len(view.files) != len(item.hashes):
        return False
    for f in view.files:
        known = item.hashes.get(f.path)
        if known is None or known[1] != f.size:
            return False
        if f.complete and hashlib.sha256(f.data).hexdigest() != known[0]:
            return False
    return True
