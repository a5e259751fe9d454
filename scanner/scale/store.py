"""The verdict store as a plain directory shared by every worker and node.

Layout: `<root>/<fingerprint[:16]>/<sha256[:2]>/<sha256>.<key[:16]>.json`, one write-once
file per verdict, named by the content's sha256 and the rules fingerprint (the key adds
the few parameters beside the bytes, such as the file name). A file is written to a
temporary name in the same directory and renamed into place, so a reader sees a whole
verdict or none, and a crash leaves at most a stray temporary file. Only complete verdicts
are written: an error, a timeout or a partial read is never stored as clean.

Lookups go through the local SQLite verdict store (scanner.infra.verdict_store) as an
index: a key found there is not looked up in the directory again; a file found in the
directory is copied into it. A rules change changes the fingerprint, hence the folder:
old verdicts are never reused, and never overwritten.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from scanner.infra.verdict_store import VerdictStore
from scanner.verdicts import Verdict


class SharedStore:
    """Write-once verdict files under `root`, indexed by a local SQLite store."""

    def __init__(self, root: Path, fingerprint: str, index: VerdictStore | None) -> None:
        self.root = root
        self.fingerprint = fingerprint
        self.index = index
        self.written = 0

    def _file(self, sha256: str, key: str) -> Path:
        return self.root / self.fingerprint[:16] / sha256[:2] / f"{sha256}.{key[:16]}.json"

    def get_many(self, items: Sequence[tuple[str, str]]) -> dict[str, Verdict]:
        """The stored verdict of every (key, sha256) that has one."""
        found = self.index.get_many([key for key, _ in items]) if self.index else {}
        fresh: list[tuple[str, Verdict]] = []
        for key, sha256 in items:
            if key in found:
                continue
            try:
                text = self._file(sha256, key).read_text(encoding="utf-8")
                verdict = Verdict.from_json(text)
            except (OSError, ValueError, UnicodeDecodeError):
                continue
            if verdict.complete:
                found[key] = verdict
                fresh.append((key, verdict))
        if fresh and self.index is not None:
            self.index.put_many(fresh)
        return found

    def put_many(self, items: Iterable[tuple[str, str, Verdict]]) -> int:
        """Write every complete verdict (key, sha256, verdict) once; returns how many."""
        stored: list[tuple[str, Verdict]] = []
        for key, sha256, verdict in items:
            if not verdict.complete:
                continue
            path = self._file(sha256, key)
            if not path.exists():
                _write_once(path, verdict.to_json())
                self.written += 1
            stored.append((key, verdict))
        if stored and self.index is not None:
            self.index.put_many(stored)
        return len(stored)

    def close(self) -> None:
        """Close the index."""
        if self.index is not None:
            self.index.close()


def _write_once(path: Path, text: str) -> None:
    """Atomically create `path` with `text`; an existing file is left as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        # link() fails if the name exists: write-once even between two nodes racing.
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: rename, still atomic
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
