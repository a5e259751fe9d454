"""The verdict store: content verdicts by key, in one SQLite file under the cache directory.

- Safe for concurrent processes: WAL journal, a busy timeout, every write one short
  `BEGIN IMMEDIATE` transaction. Two scans at once share it.
- Crash-safe: a verdict is written in one transaction or not at all, so a scan killed
  mid-way leaves whole verdicts or none; only complete verdicts are accepted
  (`Verdict.complete`), so an error, a timeout or a partial read is never stored as clean.
- Bounded: past `max_bytes` the least recently used verdicts are evicted.
- Never a reason for a scan to fail: a corrupt file is deleted and rebuilt, a row that
  does not parse is a miss (and is deleted), any other SQLite trouble turns the store off
  for the run. Like the hash cache it is private to the user (0600 in a 0700 directory)
  and not used when someone else could write it: a writable store could hide malware.

`--no-cache` bypasses it; `--cache-dir` (config `cache-dir`) moves it, e.g. to one
directory that several machines share (a local file system: SQLite's locking does not
hold on network file systems).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from scanner.infra.hash_cache import (
    CacheCorrupt,
    CacheUnavailable,
    _refuse_if_others_can_write,
    default_cache_dir,
    is_corrupt,
    open_or_rebuild,
)
from scanner.verdicts import Verdict

STORE_FILE = "verdicts.sqlite3"
SCHEMA_VERSION = 1
MAX_BYTES = 256 << 20
"""Default bound on the verdicts' total size."""
_BUSY_TIMEOUT_MS = 10_000
_BATCH = 900
_TOUCH_EVERY_S = 3600
"""A verdict used again is marked as used at most once an hour (reads stay reads)."""


class VerdictStore:
    """Verdicts by key. Open with `VerdictStore.open(...)`; None means run without."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        """Open (creating or rebuilding) the store at `path`; raises CacheUnavailable."""
        self.path = path
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._used: set[str] = set()
        self._db = open_or_rebuild(self._connect, self._remove_files, path)

    @classmethod
    def open(cls, directory: Path | None = None, max_bytes: int = MAX_BYTES) -> VerdictStore | None:
        """The store in `directory` (default: the user cache dir), or None if unusable."""
        directory = directory if directory is not None else default_cache_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = directory / STORE_FILE
            _refuse_if_others_can_write(directory, path)
            return cls(path, max_bytes)
        except (OSError, CacheUnavailable):
            return None

    def _connect(self) -> sqlite3.Connection:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise CacheCorrupt(f"unknown schema version {version}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            if version == 0:
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY NOT NULL,"
                    " kind TEXT NOT NULL, body TEXT NOT NULL, size INTEGER NOT NULL,"
                    " used INTEGER NOT NULL) WITHOUT ROWID"
                )
                db.execute("CREATE INDEX IF NOT EXISTS verdicts_used ON verdicts (used)")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
            else:
                db.execute("SELECT key, kind, body, size, used FROM verdicts LIMIT 0")
        except BaseException:
            db.close()
            raise
        return db

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    def _rebuild(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._remove_files()
        try:
            self._db = self._connect()
        except (sqlite3.Error, CacheCorrupt, OSError):
            self._db = sqlite3.connect(":memory:", isolation_level=None)
            self._db.execute("CREATE TABLE verdicts (key TEXT PRIMARY KEY, kind, body, size, used)")

    # -- reading ---------------------------------------------------------------------------

    def get_many(self, keys: Sequence[str]) -> dict[str, Verdict]:
        """The stored verdict of every key that has one (a malformed row is a miss)."""
        unique = list(dict.fromkeys(keys))
        rows: list[tuple[str, str, object]] = []
        try:
            for start in range(0, len(unique), _BATCH):
                batch = unique[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                rows.extend(
                    self._db.execute(
                        f"SELECT key, body, used FROM verdicts WHERE key IN ({marks})", batch
                    )
                )
        except sqlite3.Error as err:
            if is_corrupt(err):
                self._rebuild()
            self.misses += len(unique)
            return {}
        found: dict[str, Verdict] = {}
        bad: list[str] = []
        stale = int(time.time()) - _TOUCH_EVERY_S
        for key, body, used in rows:
            try:
                verdict = Verdict.from_json(body)
            except (ValueError, TypeError):
                bad.append(key)
                continue
            if not verdict.complete:
                bad.append(key)  # never written by us: refuse it
                continue
            found[key] = verdict
            if not isinstance(used, int) or used < stale:
                self._used.add(key)
        if bad:
            self._delete(bad)
        self.hits += len(found)
        self.misses += len(unique) - len(found)
        return found

    def get(self, key: str) -> Verdict | None:
        """The stored verdict under `key`, or None."""
        return self.get_many([key]).get(key)

    # -- writing ---------------------------------------------------------------------------

    def put_many(self, items: Iterable[tuple[str, Verdict]]) -> int:
        """Store complete verdicts in one transaction; returns how many were stored.

        Incomplete verdicts are dropped here, whatever the caller did. Failures (a locked
        or read-only store) store nothing and are not errors of the scan.
        """
        now = int(time.time())
        rows = []
        for key, verdict in items:
            if not verdict.complete:
                continue
            body = verdict.to_json()
            rows.append((key, verdict.kind, body, len(body.encode()), now))
        if not rows:
            return 0
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO verdicts (key, kind, body, size, used)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            self._evict()
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            return 0
        return len(rows)

    def put(self, key: str, verdict: Verdict) -> bool:
        """Store one verdict (see `put_many`)."""
        return self.put_many([(key, verdict)]) == 1

    def _evict(self) -> None:
        """Inside a write transaction: drop least recently used verdicts past the bound."""
        total = self._db.execute("SELECT coalesce(sum(size), 0) FROM verdicts").fetchone()[0]
        if total <= self.max_bytes:
            return
        target = total - int(self.max_bytes * 0.8)
        freed = 0
        doomed: list[str] = []
        for key, size in self._db.execute("SELECT key, size FROM verdicts ORDER BY used, key"):
            doomed.append(key)
            freed += size
            if freed >= target:
                break
        for start in range(0, len(doomed), _BATCH):
            batch = doomed[start : start + _BATCH]
            marks = ",".join("?" * len(batch))
            self._db.execute(f"DELETE FROM verdicts WHERE key IN ({marks})", batch)

    def _delete(self, keys: Sequence[str]) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for start in range(0, len(keys), _BATCH):
                batch = keys[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                self._db.execute(f"DELETE FROM verdicts WHERE key IN ({marks})", batch)
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def _touch(self) -> None:
        if not self._used:
            return
        keys = sorted(self._used)
        self._used.clear()
        now = int(time.time())
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for start in range(0, len(keys), _BATCH):
                batch = keys[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                self._db.execute(
                    f"UPDATE verdicts SET used = ? WHERE key IN ({marks})", [now, *batch]
                )
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def count(self) -> int:
        """How many verdicts are stored."""
        try:
            return int(self._db.execute("SELECT count(*) FROM verdicts").fetchone()[0])
        except sqlite3.Error:
            return 0

    def close(self) -> None:
        """Mark the verdicts used in this run, and close."""
        self._touch()
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def __enter__(self) -> VerdictStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(use_cache: bool, cache_dir: Path | None) -> VerdictStore | None:
    """The verdict store the options ask for: None with `--no-cache` or when unusable."""
    if not use_cache:
        return None
    return VerdictStore.open(cache_dir)
