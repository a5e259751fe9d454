"""The hash cache: sha256 of files already hashed, keyed by what `stat` says about them.

The key is (device, inode, size, mtime_ns, ctime_ns). A write to a file changes
its ctime, and ctime cannot be set from user space, so a changed file never hits
a stale entry (even if its mtime is put back). What the cache cannot defend
against is someone who can write the cache file itself: it lives in the user's
own cache directory, is created private (0600 in a 0700 directory) and is not
used at all when another user could write it; `--no-cache` re-hashes everything.

The cache is an optimisation and never a reason for a scan to fail: a corrupt
file is detected (quick_check, wrong schema, malformed rows), deleted and rebuilt;
any other SQLite trouble turns the cache off for the run.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import struct
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

import platformdirs

from scanner.options import ScanOptions

CACHE_FILE = "hashes.sqlite3"
SCHEMA_VERSION = 2
MAX_AGE_S = 60 * 24 * 3600
"""Entries older than this are dropped: a long-unchanged environment is re-hashed now and then."""
_BUSY_TIMEOUT_MS = 5000
_BATCH = 900  # keys per `IN (...)`, under SQLite's default limit of 999 parameters
_FULL_SCAN_FACTOR = 8
"""Up to this many rows per key looked up, a full table scan is cheaper than probes."""


_KEY = struct.Struct("<QQqqq")


def stat_key(st: os.stat_result) -> bytes:
    """The cache key of one version of one file: (device, inode, size, mtime_ns, ctime_ns).

    Packed into 40 bytes: an exact encoding (no hashing, so no collisions), and a
    single column SQLite compares fast.
    """
    return _KEY.pack(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def default_cache_dir() -> Path:
    """The user cache directory wormsign uses."""
    return Path(platformdirs.user_cache_dir("wormsign"))


class CacheUnavailable(Exception):
    """The cache cannot be used for this run (not an error of the scan)."""


class CacheCorrupt(Exception):
    """The cache file holds what we did not write (unknown schema, failed check, bad rows)."""


_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


def is_corrupt(err: BaseException) -> bool:
    """Is `err` the cache file's own fault, so deleting and rebuilding it is right?

    Only then: "database is locked" or "busy" (another scan is writing; under load its
    transaction can outlast the busy timeout) is an `OperationalError`, itself a
    `DatabaseError`, and deleting the file on it would pull the store from under the
    other process. Such trouble turns the cache off for the call instead.
    """
    if isinstance(err, CacheCorrupt):
        return True
    if not isinstance(err, sqlite3.DatabaseError):
        return False
    code = getattr(err, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(err)
    return "not a database" in text or "malformed" in text


_OPEN_RETRY_S = 3.0
"""How long opening keeps retrying a locked file (two scans creating it at once)."""


def open_or_rebuild(
    connect: Callable[[], sqlite3.Connection], remove: Callable[[], None], path: Path
) -> sqlite3.Connection:
    """`connect()`, retrying while locked, and rebuilding a corrupt file once.

    Two processes that create the file at the same moment can deadlock in SQLite's
    rollback-journal locks (one switching to WAL, the other creating the table), and
    SQLite then answers "database is locked" at once, without waiting out the busy
    timeout; a short retry settles it. Raises CacheUnavailable when it does not.
    """
    deadline = time.monotonic() + _OPEN_RETRY_S
    while True:
        try:
            return connect()
        except (sqlite3.Error, CacheCorrupt, OSError) as err:  # noqa: PERF203 (a retry loop)
            if is_corrupt(err):
                break
            if isinstance(err, sqlite3.OperationalError) and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise CacheUnavailable(f"cannot open {path}: {err}") from err
    remove()
    try:
        return connect()
    except (sqlite3.Error, CacheCorrupt, OSError) as err:
        raise CacheUnavailable(f"cannot rebuild {path}: {err}") from err


class HashCache:
    """sha256 by `stat_key`, in SQLite. Open with `HashCache.open(...)`."""

    def __init__(self, path: Path) -> None:
        """Open (creating or rebuilding) the cache at `path`; raises CacheUnavailable."""
        self.path = path
        # Not a database, failed integrity check, or a schema we do not know: rebuilt.
        self._db = open_or_rebuild(self._connect_checked, self._remove_files, path)

    @classmethod
    def open(cls, directory: Path | None = None) -> HashCache | None:
        """The cache in `directory` (default: the user cache dir), or None if unusable."""
        directory = directory if directory is not None else default_cache_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = directory / CACHE_FILE
            _refuse_if_others_can_write(directory, path)
            return cls(path)
        except (OSError, CacheUnavailable):
            return None

    def _connect_checked(self) -> sqlite3.Connection:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # private from birth
        os.close(fd)
        db = sqlite3.connect(
            self.path,
            timeout=_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise CacheCorrupt(f"unknown schema version {version}")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise CacheCorrupt(f"quick_check: {check}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            if version == 0:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS hashes (key BLOB PRIMARY KEY NOT NULL,"
                    " sha256 TEXT NOT NULL, added INTEGER NOT NULL) WITHOUT ROWID"
                )
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            else:
                db.execute("SELECT key, sha256, added FROM hashes LIMIT 0")
        except BaseException:
            db.close()
            raise
        return db

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, str]:
        """The cached sha256 (hex) of every key (from `stat_key`) that has one."""
        if not keys:
            return {}
        try:
            total = self._db.execute("SELECT count(*) FROM hashes").fetchone()[0]
            if total <= _FULL_SCAN_FACTOR * len(keys):
                # Reading the whole (small) table beats tens of thousands of index probes;
                # the caller only asks for its own keys, so extra rows do no harm.
                found = dict(self._db.execute("SELECT key, sha256 FROM hashes"))
            else:
                found = {}
                for start in range(0, len(keys), _BATCH):
                    batch = keys[start : start + _BATCH]
                    marks = ",".join("?" * len(batch))
                    found.update(
                        self._db.execute(
                            f"SELECT key, sha256 FROM hashes WHERE key IN ({marks})", batch
                        )
                    )
            if not _all_sha256_hex(found.values()):
                raise CacheCorrupt("malformed sha256 in the cache")
        except (sqlite3.Error, CacheCorrupt) as err:
            if is_corrupt(err):
                # A cache that returns garbage is never trusted: start over, hash everything.
                self._rebuild()
            return {}
        return found

    def store(self, items: Iterable[tuple[bytes, str]]) -> None:
        """Remember hashes; failures (a locked or read-only file) are ignored."""
        now = int(time.time())
        rows = [(k, digest, now) for k, digest in items]
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO hashes (key, sha256, added) VALUES (?, ?, ?)", rows
            )
            self._db.execute("DELETE FROM hashes WHERE added < ?", (now - MAX_AGE_S,))
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def _rebuild(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._remove_files()
        try:
            self._db = self._connect_checked()
        except (sqlite3.Error, CacheCorrupt):
            self._db = sqlite3.connect(":memory:", check_same_thread=False)
            self._db.execute("CREATE TABLE hashes (key, sha256, added)")

    def close(self) -> None:
        """Close the database."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _all_sha256_hex(digests: Collection[object]) -> bool:
    """True if every value is 64 hex digits (checked in C: fast for a whole environment)."""
    try:
        if set(map(len, digests)) - {64}:  # type: ignore[arg-type]  # TypeError if not sized
            return False
        bytes.fromhex("".join(digests))  # type: ignore[arg-type]  # TypeError if not str
    except (TypeError, ValueError):
        return False
    return True


def _refuse_if_others_can_write(directory: Path, path: Path) -> None:
    """Raise CacheUnavailable when someone else could have written the cache."""
    if not hasattr(os, "getuid"):
        return  # Windows: the per-user profile directory is the protection
    uid = os.getuid()
    for p in (directory, path):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            raise CacheUnavailable(f"{p} is a symbolic link")
        if st.st_uid != uid or st.st_mode & 0o022:
            raise CacheUnavailable(f"{p} is writable by others")


def open_cache(options: ScanOptions) -> HashCache | None:
    """The hash cache the options ask for: None with `--no-cache` or when it is unusable."""
    if not options.use_cache:
        return None
    return HashCache.open(options.cache_dir)
