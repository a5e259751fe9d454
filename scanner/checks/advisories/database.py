"""The offline advisory database: an OSV export of PyPI imported into SQLite.

Updates are atomic. The source is fetched to a temporary file, every record is
validated, the new database is built in a temporary file next to the target,
and only then does `os.replace` swap it in. An interrupted or failed update
leaves the previous database exactly as it was.

Records keep what matching needs in normalised tables, so the advisories of one
package are one index lookup (`affected.package`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import platformdirs

from scanner.checks.advisories.osv import Advisory, Affected, Event, JoinedKeys, Range, parse_record
from scanner.errors import ArchiveError, ServiceError, SourceError
from scanner.infra.archive import Limits, SafeArchive, archive_kind
from scanner.infra.files import TooLarge, read_bounded
from scanner.infra.hashing import sha256_file
from scanner.infra.http import new_session
from scanner.models import canonical

DEFAULT_SOURCE_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
SCHEMA_VERSION = "1"
KEY_SEPARATOR = "\x1f"
"""Joins `affected.version_keys` (ASCII unit separator, a control character no version has)."""
STALE_AFTER_DAYS = 7
DB_FILENAME = "osv.sqlite"
_BUSY_TIMEOUT_S = 30.0
_DOWNLOAD_CHUNK = 1 << 16
# One OSV record is a few kB; the largest real ones (long version lists) are well under
# 1 MB. A member far beyond that is not an OSV record.
_MAX_RECORD_FILE = 32 << 20
"""One OSV JSON file of a directory source (a record is a few KiB)."""
_MAX_SOURCE_JSON = 64 << 20
"""A single JSON file given as the source (an API dump); larger ones must be the zip."""
_MIN_KEPT_FRACTION = 0.5
"""An update that would keep fewer than this share of the old records is refused..."""
_MIN_GUARDED = 100
"""...when the old database holds at least this many (a real export holds ~16,000)."""
_RECORD_LIMITS = Limits(max_member_size=32 << 20, max_total_size=4 << 30)

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisory (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    published TEXT,
    withdrawn TEXT,
    summary TEXT NOT NULL,
    aliases TEXT NOT NULL,      -- joined by KEY_SEPARATOR (cheaper to read back than JSON)
    severity TEXT NOT NULL,     -- JSON list of [type, score]
    refs TEXT NOT NULL,         -- URLs joined by KEY_SEPARATOR
    malware INTEGER NOT NULL    -- the record's database_specific marks malware
);
CREATE TABLE affected (
    advisory_id TEXT NOT NULL REFERENCES advisory(id),
    package TEXT NOT NULL,      -- PEP 503 canonical name
    ranges TEXT NOT NULL,       -- JSON [[type, [[kind, value], ...]], ...]
    versions TEXT NOT NULL,     -- JSON list, as written in the record
    version_keys TEXT NOT NULL, -- normalised (osv.version_key), joined by KEY_SEPARATOR
    malware INTEGER NOT NULL
);
CREATE TABLE alias (alias TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE TABLE import_note (source TEXT NOT NULL, note TEXT NOT NULL);
"""
_INDEXES = """
CREATE INDEX affected_package ON affected (package);
CREATE INDEX alias_alias ON alias (alias);
"""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import or update did."""

    path: Path
    source: str
    records: int
    notes: tuple[str, ...]
    """Members or records that could not be imported, each with the reason."""
    seconds: float


@dataclass(frozen=True, slots=True)
class DbStatus:
    """What `wormsign db status` reports."""

    path: Path
    records: int
    withdrawn: int
    malicious: int
    packages: int
    newest_modified: str | None
    """The newest `modified` that is not in the future."""
    future_modified: int
    """Records whose `modified` lies in the future (dirty data, ignored for the age)."""
    age_days: float | None
    source: str | None
    imported_at: str | None
    import_notes: int

    @property
    def stale(self) -> bool:
        """Older than STALE_AFTER_DAYS (or of unknown age)."""
        return self.age_days is None or self.age_days > STALE_AFTER_DAYS


def default_db_path(cache_dir: Path | None = None) -> Path:
    """`<cache dir>/osv.sqlite`; the cache dir defaults to the user cache dir for wormsign."""
    return (cache_dir or Path(platformdirs.user_cache_dir("wormsign"))) / DB_FILENAME


# -- reading sources -------------------------------------------------------------------


RecordSource = Iterator[tuple[str, bytes]]
"""(where, raw JSON bytes) pairs: a zip member, a file, a download."""


def _iter_zip(path: Path) -> RecordSource:
    with SafeArchive(path, _RECORD_LIMITS) as archive:
        for member in archive.files():
            if member.name.endswith(".json"):
                yield f"{path.name}:{member.name}", archive.read(member.name)


def _iter_directory(path: Path) -> RecordSource:
    for file in sorted(path.rglob("*.json")):
        if file.is_file() and not file.is_symlink():
            try:
                data = read_bounded(file, _MAX_RECORD_FILE)
            except OSError:
                data = b""  # too large or unreadable: counted as a malformed record
            yield str(file.relative_to(path)), data


def iter_source(path: Path) -> RecordSource:
    """Raw records from a local export zip, a directory of OSV JSON, or one JSON file."""
    if path.is_dir():
        return _iter_directory(path)
    if not path.is_file():
        raise SourceError("no such file or directory", path=str(path))
    if archive_kind(path) == "zip":
        return _iter_zip(path)
    try:
        return iter([(path.name, read_bounded(path, _MAX_SOURCE_JSON))])
    except TooLarge as err:
        raise SourceError(
            f"a JSON source larger than {_MAX_SOURCE_JSON >> 20} MiB",
            path=str(path),
            hint="pass the OSV export zip (all.zip) instead",
        ) from err
    except OSError as err:
        raise SourceError(f"cannot read: {err.strerror or err}", path=str(path)) from err


def _records_of(where: str, raw: bytes) -> Iterator[tuple[str, Mapping[str, object]]]:
    """One JSON document may hold one record or a list of them (API dumps)."""
    data = json.loads(raw)
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"item {i} is not a JSON object")
        yield where, item


# -- building ------------------------------------------------------------------------


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        uri = path.resolve().as_uri()
        conn = sqlite3.connect(
            f"{uri}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S, check_same_thread=False
        )
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            # A WAL database in a directory we cannot write (a read-only mount, a shared
            # cache): -shm cannot be created. Nothing rewrites the file in place (updates
            # swap in a new one), so it can be read as immutable.
            conn.close()
            conn = sqlite3.connect(
                f"{uri}?mode=ro&immutable=1",
                uri=True,
                timeout=_BUSY_TIMEOUT_S,
                check_same_thread=False,
            )
    else:
        conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S)
    conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
    return conn


def _advisory_row(adv: Advisory) -> tuple[object, ...]:
    return (
        adv.id,
        adv.modified,
        adv.published,
        adv.withdrawn,
        adv.summary,
        _join(adv.aliases),
        json.dumps([list(s) for s in adv.severity]),
        _join(adv.references),
        int(adv.malware_marker),
    )


def _join(items: Iterable[str]) -> str:
    # A separator inside an item (only conceivable in garbage data) would split it; drop it.
    return KEY_SEPARATOR.join(i.replace(KEY_SEPARATOR, "") for i in items)


def _split(text: object) -> tuple[str, ...]:
    return tuple(str(text).split(KEY_SEPARATOR)) if text else ()


def _affected_row(adv_id: str, entry: Affected) -> tuple[object, ...]:
    ranges = [[r.type, [[e.kind, e.value] for e in r.events]] for r in entry.ranges]
    return (
        adv_id,
        entry.name,
        json.dumps(ranges),
        json.dumps(list(entry.versions)),
        _join(sorted(entry.version_keys)),
        int(entry.malware_marker),
    )


def build_database(
    records: RecordSource, target: Path, *, source: str, source_sha256: str | None = None
) -> ImportSummary:
    """Import raw OSV records into a new SQLite file and swap it in at `target` atomically.

    Raises SourceError if the source holds no importable record at all; the
    previous database at `target` (if any) is then untouched.
    """
    start = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    _hold(fd)  # held until this function returns: a concurrent cleanup leaves it alone
    tmp = Path(tmp_name)
    notes: list[str] = []
    try:
        conn = sqlite3.connect(tmp)
        try:
            # The temporary file is thrown away on failure, so durability is not needed
            # while it is built; speed is.
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.executescript(_SCHEMA)
            count, malformed = _insert_all(conn, records, notes)
            if count == 0:
                raise SourceError(
                    "no OSV record could be imported"
                    + (f" (first problem: {notes[0]})" if notes else ""),
                    path=source,
                )
            _refuse_a_worse_database(count, malformed, target, source, notes)
            conn.executescript(_INDEXES)
            meta = {
                "schema_version": SCHEMA_VERSION,
                "source": source,
                "source_sha256": source_sha256 or "",
                "imported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "records": str(count),
            }
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            conn.executemany(
                "INSERT INTO import_note VALUES (?, ?)",
                [tuple(n.split(": ", 1)) if ": " in n else (source, n) for n in notes],
            )
            conn.commit()
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("ANALYZE")
            conn.commit()
        finally:
            conn.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates 0600; the database holds public data, readable like any cache file.
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return ImportSummary(
        path=target,
        source=source,
        records=count,
        notes=tuple(notes),
        seconds=time.perf_counter() - start,
    )


def _hold(fd: int) -> None:
    """An advisory lock on a temporary file being built (none where flock is missing)."""
    with contextlib.suppress(ImportError, OSError):
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete what a killed `db update` left beside `target` (`.osv.sqlite.*.tmp` and its
    -wal/-shm): a temporary that no live process holds locked. Returns what was removed."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): nothing is known to be stale
        return []
    removed: list[Path] = []
    for leftover in sorted(target.parent.glob(f".{target.name}.*.tmp")):
        try:
            fd = os.open(leftover, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live update is building it
        else:
            for path in (leftover, Path(f"{leftover}-wal"), Path(f"{leftover}-shm")):
                with contextlib.suppress(OSError):
                    path.unlink()
            removed.append(leftover)
        finally:
            os.close(fd)
    return removed


def _refuse_a_worse_database(
    count: int, malformed: int, target: Path, source: str, notes: list[str]
) -> None:
    """A source that is mostly malformed, or that would replace a database with far fewer
    records, is refused: the old database stays (a truncated or hostile export must not
    silently empty the gate's knowledge)."""
    if malformed > count:
        raise SourceError(
            f"mostly malformed: {malformed} records could not be read, {count} could "
            f"(first problem: {notes[0] if notes else '?'}); the database was not replaced",
            path=source,
        )
    previous = _record_count(target)
    if previous is not None and previous >= _MIN_GUARDED and count < previous * _MIN_KEPT_FRACTION:
        raise SourceError(
            f"would replace {previous} records with {count}; the database was not replaced",
            path=source,
            hint=f"delete {target} first if the smaller source is really meant",
        )


def _record_count(path: Path) -> int | None:
    """How many records the existing database at `path` holds, None if there is none."""
    if not path.is_file():
        return None
    try:
        with AdvisoryDatabase(path) as db:
            row = db._conn.execute("SELECT COUNT(*) FROM advisory").fetchone()
    except (ServiceError, sqlite3.Error):
        return None
    return int(row[0]) if row else None


def _insert_all(
    conn: sqlite3.Connection, records: RecordSource, notes: list[str]
) -> tuple[int, int]:
    """(records imported, records that could not be read)."""
    malformed = 0
    seen: dict[str, str] = {}
    adv_rows: list[tuple[object, ...]] = []
    aff_rows: list[tuple[object, ...]] = []
    alias_rows: list[tuple[str, str]] = []
    for where, raw in records:
        try:
            items = list(_records_of(where, raw))
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            notes.append(f"{where}: not JSON ({err})")
            malformed += 1
            continue
        for _, item in items:
            try:
                adv = parse_record(item)
            except (ValueError, TypeError, KeyError, AttributeError) as err:
                notes.append(f"{where}: not an OSV record ({err})")
                malformed += 1
                continue
            previous = seen.get(adv.id)
            if previous is not None:
                # The same id twice: keep the newer, as OSV itself would serve it.
                if previous >= adv.modified:
                    notes.append(f"{where}: duplicate of {adv.id}, older; skipped")
                    continue
                notes.append(f"{where}: duplicate of {adv.id}, newer; replaces it")
                adv_rows = [r for r in adv_rows if r[0] != adv.id]
                aff_rows = [r for r in aff_rows if r[0] != adv.id]
                alias_rows = [r for r in alias_rows if r[1] != adv.id]
            seen[adv.id] = adv.modified
            if not adv.affected:
                notes.append(f"{adv.id}: no PyPI package in 'affected'; kept but never matches")
            adv_rows.append(_advisory_row(adv))
            aff_rows.extend(_affected_row(adv.id, e) for e in adv.affected)
            alias_rows.extend((a, adv.id) for a in adv.aliases)
    conn.executemany("INSERT INTO advisory VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", adv_rows)
    conn.executemany("INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?)", aff_rows)
    conn.executemany("INSERT INTO alias VALUES (?, ?)", alias_rows)
    return len(adv_rows), malformed


# -- fetching --------------------------------------------------------------------------


def is_url(source: str) -> bool:
    """True for http(s) URLs (the only remote sources accepted)."""
    return source.startswith(("http://", "https://"))


def download(
    url: str, directory: Path, *, timeout: float = 60.0, session: object | None = None
) -> Path:
    """Fetch `url` into a temporary file in `directory`; ServiceError on any failure.

    The length is checked against Content-Length, so a server that dies
    mid-transfer gives an error, never a short file.
    """
    import requests

    sess = session if isinstance(session, requests.Session) else new_session()
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".osv-download.", suffix=".part", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with sess.get(url, stream=True, timeout=timeout) as resp:
                    resp.raise_for_status()
                    expected = resp.headers.get("Content-Length")
                    received = 0
                    for chunk in resp.iter_content(_DOWNLOAD_CHUNK):
                        out.write(chunk)
                        received += len(chunk)
            except requests.RequestException as err:
                raise ServiceError(
                    f"download failed: {_one_line(err)}",
                    path=url,
                    hint="check the URL and the network, or pass a local export with --source PATH",
                ) from err
            if expected is not None and expected.isdigit() and received != int(expected):
                raise ServiceError(
                    f"download incomplete: {received} of {expected} bytes",
                    path=url,
                    hint="retry `wormsign db update`",
                )
        return tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def update_database(
    source: str | Path | None = None, db_path: Path | None = None, *, timeout: float = 60.0
) -> ImportSummary:
    """`wormsign db update`: fetch or read an OSV export and swap it in atomically."""
    target = db_path or default_db_path()
    src = str(source) if source is not None else DEFAULT_SOURCE_URL
    if is_url(src):
        target.parent.mkdir(parents=True, exist_ok=True)
        part = download(src, target.parent, timeout=timeout)
        try:
            digest, _ = sha256_file(part)
            return _import_file(part, target, source=src, sha=digest)
        finally:
            part.unlink(missing_ok=True)
    path = Path(src)
    sha = sha256_file(path)[0] if path.is_file() else None
    return _import_file(path, target, source=str(path), sha=sha)


def _import_file(path: Path, target: Path, *, source: str, sha: str | None) -> ImportSummary:
    try:
        return build_database(iter_source(path), target, source=source, source_sha256=sha)
    except ArchiveError as err:
        err.path = source
        raise


# -- reading the database ---------------------------------------------------------------


class AdvisoryDatabase:
    """A read-only view of an imported database. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ServiceError(
                "advisory database not found",
                path=str(path),
                hint="run `wormsign db update` or pass --db",
            )
        self.path = path
        try:
            self._conn = _connect(path, readonly=True)
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
        except sqlite3.DatabaseError as err:
            with contextlib.suppress(Exception):
                self._conn.close()
            raise ServiceError(
                f"not a wormsign advisory database ({err})",
                path=str(path),
                hint="run `wormsign db update`",
            ) from err
        if row is None or row[0] != SCHEMA_VERSION:
            self._conn.close()
            raise ServiceError(
                "advisory database has an unknown schema",
                path=str(path),
                hint="run `wormsign db update` to rebuild it",
            )
        self._cache: dict[str, tuple[Advisory, ...]] = {}
        self._light_cache: dict[str, tuple[Advisory, ...]] = {}

    def advisories_for(self, name: str, *, details: bool = True) -> tuple[Advisory, ...]:
        """Every record (withdrawn included) with an `affected` entry for `name`.

        With `details=False` the records carry only what matching reads (id,
        modified, withdrawn, affected, malware flag): a package with hundreds of
        records (tensorflow: 427) is then cheap to judge, and `with_details` fills
        in the few that match.
        """
        key = canonical(name)
        cache = self._cache if details else self._light_cache
        cached = cache.get(key)
        if cached is not None:
            return cached
        columns = "a.summary, a.aliases, a.severity, a.refs" if details else "'', '', '[]', ''"
        rows = self._query(
            f"SELECT a.id, a.modified, a.published, a.withdrawn, {columns}, a.malware, "
            "f.ranges, f.version_keys, f.malware FROM affected f "
            "JOIN advisory a ON a.id = f.advisory_id WHERE f.package = ? ORDER BY a.id",
            (key,),
        )
        by_id: dict[str, tuple[tuple[object, ...], list[Affected]]] = {}
        for row in rows:
            entry = Affected(
                name=key,
                ranges=tuple(
                    Range(t, tuple(Event(k, v) for k, v in evs))
                    for t, evs in json.loads(str(row[9]))
                ),
                version_keys=JoinedKeys(str(row[10] or ""), KEY_SEPARATOR),
                malware_marker=bool(row[11]),
            )
            by_id.setdefault(str(row[0]), (row, []))[1].append(entry)
        result = tuple(_advisory(row, entries) for row, entries in by_id.values())
        cache[key] = result
        return result

    def with_details(self, advisories: Iterable[Advisory]) -> tuple[Advisory, ...]:
        """The full records (summary, aliases, severity, references) for `advisories`."""
        by_id = {a.id: a for a in advisories}
        if not by_id:
            return ()
        marks = ", ".join("?" for _ in by_id)
        rows = self._query(
            "SELECT id, modified, published, withdrawn, summary, aliases, severity, refs, "
            f"malware FROM advisory WHERE id IN ({marks}) ORDER BY id",
            tuple(by_id),
        )
        # The affected entries are those already loaded (for this package).
        return tuple(_advisory(row, list(by_id[str(row[0])].affected)) for row in rows)

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as err:
            raise ServiceError(
                f"cannot read the advisory database ({err})",
                path=str(self.path),
                hint="run `wormsign db update`",
            ) from err

    def ids_for_alias(self, ident: str) -> tuple[str, ...]:
        """Record ids known by `ident` (itself or an alias)."""
        rows = self._conn.execute(
            "SELECT id FROM advisory WHERE id = ? UNION SELECT advisory_id FROM alias "
            "WHERE alias = ?",
            (ident, ident),
        ).fetchall()
        return tuple(sorted(str(r[0]) for r in rows))

    def import_notes(self) -> tuple[str, ...]:
        """Problems recorded when the database was built."""
        return tuple(
            f"{s}: {n}" for s, n in self._conn.execute("SELECT source, note FROM import_note")
        )

    def status(self, now: dt.datetime | None = None) -> DbStatus:
        """Record counts, newest `modified` and age."""
        now = now or dt.datetime.now(dt.timezone.utc)
        horizon = (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        c = self._conn
        meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
        records, withdrawn = c.execute("SELECT count(*), count(withdrawn) FROM advisory").fetchone()
        malicious = c.execute(
            "SELECT count(*) FROM advisory WHERE id LIKE 'MAL-%' OR malware = 1"
        ).fetchone()[0]
        packages = c.execute("SELECT count(DISTINCT package) FROM affected").fetchone()[0]
        newest = c.execute(
            "SELECT max(modified) FROM advisory WHERE modified <= ?", (horizon,)
        ).fetchone()[0]
        future = c.execute(
            "SELECT count(*) FROM advisory WHERE modified > ?", (horizon,)
        ).fetchone()[0]
        notes = c.execute("SELECT count(*) FROM import_note").fetchone()[0]
        age = None
        if newest:
            parsed = _parse_timestamp(str(newest))
            if parsed is not None:
                age = max(0.0, (now - parsed).total_seconds() / 86400)
        return DbStatus(
            path=self.path,
            records=int(records),
            withdrawn=int(withdrawn),
            malicious=int(malicious),
            packages=int(packages),
            newest_modified=_opt(newest),
            future_modified=int(future),
            age_days=age,
            source=meta.get("source"),
            imported_at=meta.get("imported_at"),
            import_notes=int(notes),
        )

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> AdvisoryDatabase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _advisory(row: tuple[object, ...], entries: list[Affected]) -> Advisory:
    return Advisory(
        id=str(row[0]),
        modified=str(row[1]),
        published=_opt(row[2]),
        withdrawn=_opt(row[3]),
        summary=str(row[4]),
        aliases=_split(row[5]),
        severity=tuple((str(t), str(s)) for t, s in json.loads(str(row[6]))),
        references=_split(row[7]),
        malware_marker=bool(row[8]),
        affected=tuple(entries),
    )


def _opt(value: object) -> str | None:
    return str(value) if value is not None else None


def _parse_timestamp(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


# -- choosing a database ------------------------------------------------------------------


def cached_import(export: Path, cache_dir: Path | None = None) -> Path:
    """An export zip given to `scan --db`: imported once, cached by the zip's sha256."""
    digest, _ = sha256_file(export)
    base = cache_dir or Path(platformdirs.user_cache_dir("wormsign"))
    target = base / "osv-imports" / f"{digest[:32]}.sqlite"
    if target.is_file():
        with contextlib.suppress(ServiceError), AdvisoryDatabase(target):
            return target
    _import_file(export, target, source=str(export), sha=digest)
    return target


def open_database(
    path: Path | None = None, *, cache_dir: Path | None = None, required: bool = True
) -> AdvisoryDatabase | None:
    """The database `--db` names (SQLite, export zip or OSV directory), else the default one.

    A database named explicitly must exist. The default one may be missing:
    then ServiceError if `required`, else None.
    """
    if path is not None:
        if not path.exists():
            raise ServiceError(
                "advisory database not found",
                path=str(path),
                hint="run `wormsign db update --db PATH` or fix --db",
            )
        if path.is_dir() or archive_kind(path) == "zip":
            if path.is_dir():
                digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
                base = cache_dir or Path(platformdirs.user_cache_dir("wormsign"))
                target = base / "osv-imports" / f"dir-{digest}.sqlite"
                build_database(iter_source(path), target, source=str(path))
                return AdvisoryDatabase(target)
            return AdvisoryDatabase(cached_import(path, cache_dir))
        return AdvisoryDatabase(path)
    default = default_db_path(cache_dir)
    if default.is_file():
        return AdvisoryDatabase(default)
    if required:
        raise ServiceError(
            "no advisory database", path=str(default), hint="run `wormsign db update` or pass --db"
        )
    return None


def import_records(
    records: Iterable[Mapping[str, object]], target: Path, *, source: str = "records"
) -> ImportSummary:
    """Import already-parsed JSON records (tests, API dumps) into `target`."""

    def raw() -> RecordSource:
        for i, rec in enumerate(records):
            yield f"{source}[{i}]", json.dumps(rec).encode()

    return build_database(raw(), target, source=source)
