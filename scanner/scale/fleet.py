"""Fleet mode: what one node has (`wormsign inventory --env PATH --emit jsonl`), and the
artifacts scan-index reads back from such inventories (`--from-inventory`).

One JSON line per installed distribution:
    {"schema": 1, "node": ..., "env": site-packages, "distribution": ..., "version": ...,
     "files": [[path relative to site-packages, sha256, size], ...]}
Every file's sha256 comes through the hash cache, so a node re-hashes only what changed.
The content address of a distribution is the manifest digest of its files: a thousand
nodes built from one image list one content, judged once.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

from scanner.errors import ScannerError, SourceError
from scanner.infra.hash_cache import HashCache
from scanner.models import InstalledDistribution
from scanner.scale.artifacts import Artifact
from scanner.verdicts import manifest_digest

SCHEMA = 1


def inventory_lines(env: Path, cache: HashCache | None, node: str | None = None) -> Iterator[str]:
    """The JSON lines of every distribution in the environment at `env` (read from files,
    never by running its interpreter)."""
    from scanner.sources.environment import find_site_packages

    sites = find_site_packages(env)
    if not sites:
        raise SourceError("no site-packages found", path=str(env))
    from scanner.sources.environment import collect_environment

    host = node or socket.gethostname()
    for site in sites:
        environment = collect_environment(site)
        for dist in environment.distributions:
            files = distribution_files(site, dist, cache)
            record = {
                "schema": SCHEMA,
                "node": host,
                "env": str(site),
                "distribution": dist.name,
                "version": dist.version,
                "files": files,
            }
            yield json.dumps(record, sort_keys=True, separators=(",", ":"))


def distribution_files(
    site: Path, dist: InstalledDistribution, cache: HashCache | None
) -> list[tuple[str, str, int]]:
    """(path relative to site-packages, sha256, size) of every file RECORD lists, sorted;
    an unreadable file is ("unreadable", -1)."""
    from scanner.infra.hashing import hash_files

    rels = [e.path for e in dist.record or ()]
    paths = [os.path.normpath(os.path.join(site, rel)) for rel in rels]
    hashed = hash_files(paths, cache)
    files: list[tuple[str, str, int]] = []
    for rel, path in zip(rels, paths, strict=True):
        result = hashed[path]
        if isinstance(result, OSError):
            files.append((rel, "unreadable", -1))
        else:
            files.append((rel, result[0], result[1]))
    return sorted(files)


def from_inventory(path: Path) -> list[Artifact]:
    """The installed distributions an inventory file lists, as artifacts."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise SourceError(f"cannot read inventory: {reason or err}", path=str(path)) from err
    out: list[Artifact] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row.get("schema") != SCHEMA:
                raise ValueError("unknown schema")
            node, env = str(row["node"]), str(row["env"])
            name, version = str(row["distribution"]), str(row["version"])
            files = [(str(p), str(d), int(s)) for p, d, s in row["files"]]
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise SourceError(
                f"line {number}: not an inventory line ({err})", path=str(path)
            ) from err
        out.append(
            Artifact(
                location=env,
                filename=name,
                kind="installed",
                sha256=manifest_digest(files),
                size=sum(max(0, s) for _p, _d, s in files),
                name=name,
                version=version,
                source=str(path),
                node=node,
            )
        )
    return out


def read_inventories(paths: Sequence[Path]) -> tuple[list[Artifact], list[str]]:
    """The artifacts of every inventory, and one error line per unreadable one."""
    artifacts: list[Artifact] = []
    errors: list[str] = []
    for path in paths:
        found, error = _read_one(path)
        artifacts.extend(found)
        errors.extend(error)
    return artifacts, errors


def _read_one(path: Path) -> tuple[list[Artifact], list[str]]:
    try:
        return from_inventory(path), []
    except ScannerError as err:
        return [], [err.diagnostics()]
