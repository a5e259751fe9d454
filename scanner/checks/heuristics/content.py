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
from scanner.checks.interface import CheckContext, CheckResult
from scanner.infra.hash_cache import HashCache, open_cache
from scanner.infra.hashing import FileHash, hash_files
from scanner.infra.verdict_store import VerdictStore, open_store
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


def check_heuristics(inventory: Inventory, context: CheckContext) -> CheckResult:
    """The check: rules over distribution files, installed distributions and loose files,
    verdicts on unchanged contents taken from the verdict store."""
    return CheckResult.of(judge_inventory(inventory, context.options, default_rules()))


def judge_inventory(
    inventory: Inventory, options: ScanOptions, rules: Sequence[Rule]
) -> Iterator[Finding]:
    """Every heuristic finding of the inventory, in the order of its distributions."""
    store = open_store(options.use_cache, options.cache_dir)
    hashes = open_cache(options) if store is not None else None
    try:
        yield from _judge(inventory, rules, store, hashes)
    finally:
        if store is not None:
            store.close()
        if hashes is not None:
            hashes.close()


def _judge(
    inventory: Inventory,
    rules: Sequence[Rule],
    store: VerdictStore | None,
    hashes: HashCache | None,
) -> Iterator[Finding]:
    fp = fingerprint() if store is not None else ""
    for dist_file in inventory.distribution_files:
        yield from _judge_archive(dist_file.path, dist_file.sha256, rules, store, hashes, fp)
    for env in inventory.environments:
        pending = _plan(env.distributions, store, hashes, fp)
        known = store.get_many([p.key for p in pending if p.key]) if store is not None else {}
        fresh: list[tuple[str, Verdict]] = []
        for item in pending:
            verdict = known.get(item.key) if item.key is not None else None
            if verdict is None:
                verdict = _judge_installed(item, rules)
                if item.key is not None and verdict.complete:
                    fresh.append((item.key, verdict))
            yield from place(item.shell, verdict.findings)
        if store is not None and fresh:
            store.put_many(fresh)
        loose = view_of_loose(env)
        if loose is not None:
            yield from place(loose, content_findings(loose, rules))


def _judge_archive(
    path: Path,
    sha256: str,
    rules: Sequence[Rule],
    store: VerdictStore | None,
    hashes: HashCache | None,
    fp: str,
) -> Iterator[Finding]:
    key = verdict_key(KIND, sha256, fp, {"archive": path.name}) if store is not None else None
    verdict = store.get(key) if store is not None and key is not None else None
    if verdict is not None:
        kind, name, version = (verdict.payload or "wheel\0\0").split("\0", 2)
        view = DistView(kind=kind, label=str(path), files=[], name=name or None)
        view.version = version or None
        yield from place(view, verdict.findings)
        return
    view = view_of_archive(path)  # raises ArchiveError: the scan is incomplete
    found = tuple(content_findings(view, rules))
    if store is not None and key is not None:
        # the archive read is the archive hashed when the inventory was built
        after = hash_files([path], hashes).get(path)
        whole = isinstance(after, tuple) and after[0] == sha256
        store.put(key, Verdict(KIND, found, complete=whole, payload=_identity(view)))
    yield from place(view, found)


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
        out.append(_Pending(dist, shell, files, key, seen))
    return out


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
