"""Typed, fail-closed access to parsed lock-file data (TOML, JSON, YAML).

Lock files are untrusted input: any key may hold any type. Every parser reads
through `Table`, whose accessors check the type and raise SourceError with the
file, the place and the problem, so no parser repeats try/except around dict and
list access, and no KeyError or TypeError ever escapes as a traceback.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlsplit

from scanner.errors import SourceError
from scanner.infra.files import TooLarge, read_bounded
from scanner.models import Hash, LockedArtifact

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MAX_LOCK_BYTES = 64 << 20
"""Larger than any real lock file; bounds memory on hostile input."""

# Digest lengths (hex characters) of the algorithms lock files use; a pin of the
# wrong length could never match, so it is refused as malformed.
_HEX_LENGTHS = {
    "md5": 32,
    "sha1": 40,
    "sha224": 56,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
    "blake2b": 128,
    "blake2s": 64,
}
_HEX = re.compile(r"[0-9a-fA-F]+")


def type_name(value: object) -> str:
    """The lock-file name of a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if value is None:
        return "null"
    return type(value).__name__


class Table:
    """A mapping read from a lock file, with accessors that check types.

    `where` names the place for messages (`package 'torch' (line 12)`).
    """

    __slots__ = ("_data", "path", "where")

    def __init__(self, data: Mapping[str, object], path: Path, where: str = "") -> None:
        self._data = data
        self.path = path
        self.where = where

    def fail(self, message: str) -> NoReturn:
        """Raise the SourceError for a problem at this place."""
        prefix = f"{self.where}: " if self.where else ""
        raise SourceError(prefix + message, path=str(self.path))

    def _wrong(self, key: str, expected: str, value: object) -> NoReturn:
        self.fail(f"{key!r} must be {expected}, not {type_name(value)}")

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def names(self) -> list[str]:
        """The keys, as strings (YAML may use other scalars as keys)."""
        return [str(k) for k in self._data]

    def raw(self, key: str) -> object:
        """The value as parsed, unchecked (None where absent)."""
        return self._data.get(key)

    def items(self) -> Iterator[tuple[str, object]]:
        """(key, raw value) pairs in file order."""
        for key, value in self._data.items():
            yield str(key), value

    def string(self, key: str) -> str | None:
        """An optional string."""
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self._wrong(key, "a string", value)
        return value

    def required_string(self, key: str) -> str:
        """A string that must be present and non-empty."""
        value = self.string(key)
        if value is None:
            self.fail(f"missing required key {key!r}")
        if not value.strip():
            self.fail(f"{key!r} is empty")
        return value

    def integer(self, key: str) -> int | None:
        """An optional integer (booleans are refused)."""
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "an integer", value)
        return value

    def timestamp(self, key: str) -> datetime | None:
        """An optional date-time, as a TOML datetime or an RFC 3339 string (uv writes
        strings, PEP 751 native datetimes); in UTC, a time without offset taken as UTC."""
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            text = value
            try:
                value = datetime.fromisoformat(text.strip())
            except ValueError:
                self.fail(f"{key!r} is not an RFC 3339 date-time: {text[:40]!r}")
        if not isinstance(value, datetime):
            self._wrong(key, "a date-time", value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def boolean(self, key: str, default: bool = False) -> bool:
        """An optional boolean."""
        value = self._data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._wrong(key, "a boolean", value)
        return value

    def table(self, key: str, where: str | None = None) -> Table | None:
        """An optional sub-table."""
        value = self._data.get(key)
        if value is None:
            return None
        return self.wrap(value, key, where)

    def required_table(self, key: str, where: str | None = None) -> Table:
        """A sub-table that must be present."""
        found = self.table(key, where)
        if found is None:
            self.fail(f"missing required table {key!r}")
        return found

    def wrap(self, value: object, key: str, where: str | None = None) -> Table:
        """Check that `value` (found under `key`) is a table and wrap it."""
        if not isinstance(value, Mapping):
            self._wrong(key, "a table", value)
        return Table(value, self.path, self.where if where is None else where)

    def array(self, key: str) -> list[object]:
        """An optional array (empty where absent)."""
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, "an array", value)
        return value

    def tables(self, key: str) -> list[Table]:
        """An optional array of tables (empty where absent)."""
        return self.as_tables(self._data.get(key), key)

    def as_tables(self, value: object, key: str) -> list[Table]:
        """Check that `value` (found under `key`) is an array of tables and wrap each."""
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, "an array", value)
        out: list[Table] = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                self.fail(f"{key!r} item {i + 1} must be a table, not {type_name(item)}")
            out.append(Table(item, self.path, self.where))
        return out

    def strings(self, key: str) -> list[str]:
        """An optional array of strings (empty where absent)."""
        out: list[str] = []
        for i, item in enumerate(self.array(key)):
            if not isinstance(item, str):
                self.fail(f"{key!r} item {i + 1} must be a string, not {type_name(item)}")
            out.append(item)
        return out

    def at(self, where: str) -> Table:
        """The same table, named differently in messages."""
        return Table(self._data, self.path, where)


def read_text(path: Path) -> str:
    """A lock file's text; SourceError if unreadable, too large or not UTF-8."""
    try:
        return read_bounded(path, MAX_LOCK_BYTES).decode("utf-8-sig")
    except TooLarge as err:
        raise SourceError(
            f"file is larger than {MAX_LOCK_BYTES >> 20} MiB; not a lock file", path=str(path)
        ) from err
    except UnicodeDecodeError as err:
        raise SourceError(f"not UTF-8 text (byte {err.start})", path=str(path)) from err
    except OSError as err:
        raise SourceError(f"cannot read: {err.strerror or err}", path=str(path)) from err


def load_toml(path: Path) -> tuple[Table, str]:
    """Parse a TOML lock file; return its root table and its text."""
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SourceError(f"invalid TOML: {err}", path=str(path)) from err
    except RecursionError as err:
        raise SourceError("invalid TOML: nested too deeply", path=str(path)) from err
    return Table(data, path), text


def load_json(path: Path) -> tuple[Table, str]:
    """Parse a JSON lock file whose root is an object; return it and its text."""
    text = read_text(path)
    try:
        data = json.loads(text)
    except ValueError as err:
        raise SourceError(f"invalid JSON: {err}", path=str(path)) from err
    except RecursionError as err:
        raise SourceError("invalid JSON: nested too deeply", path=str(path)) from err
    if not isinstance(data, dict):
        raise SourceError(
            f"the top level must be a JSON object, not {type_name(data)}", path=str(path)
        )
    return Table(data, path), text


def header_lines(text: str, header: str) -> list[int]:
    """1-based lines of every `[[header]]` array-of-tables header, in file order."""
    pattern = re.compile(r"^[ \t]*\[\[[ \t]*" + re.escape(header) + r"[ \t]*\]\][ \t]*(#.*)?$")
    return [n for n, line in enumerate(text.splitlines(), start=1) if pattern.match(line)]


def lines_for(count: int, lines: list[int]) -> list[int | None]:
    """Line per entry where the headers found match the entries parsed one to one."""
    if len(lines) == count:
        return list(lines)
    # Inline arrays (`package = [{...}]`) have no headers: better no line than a wrong one.
    return [None] * count


def make_hash(algorithm: str, value: str, where: Table) -> Hash:
    """A validated Hash; SourceError for a non-hex value or a wrong digest length."""
    algo = algorithm.strip().lower()
    digest = value.strip()
    if not algo or not _HEX.fullmatch(digest):
        where.fail(f"hash {algorithm}:{value!r} is not a hex digest")
    expected = _HEX_LENGTHS.get(algo)
    if expected is not None and len(digest) != expected:
        where.fail(f"{algo} hash has {len(digest)} hex digits, expected {expected}")
    return Hash(algo, digest.lower())


def parse_hash(text: str, where: Table) -> Hash:
    """`algo:hex` (poetry, uv, pdm, Pipfile.lock) as a Hash."""
    if ":" not in text:
        where.fail(f"hash {text!r} is not of the form algorithm:hexdigest")
    algo, digest = text.split(":", 1)
    return make_hash(algo, digest, where)


def hashes_table(table: Table | None, where: Table) -> tuple[Hash, ...]:
    """`{ sha256 = "..." }` (pylock, conda-lock) as Hashes."""
    if table is None:
        return ()
    out: list[Hash] = []
    for algo, value in table.items():
        if not isinstance(value, str):
            where.fail(f"hash {algo!r} must be a string, not {type_name(value)}")
        out.append(make_hash(algo, value, where))
    return tuple(out)


def filename_from_url(url: str | None) -> str | None:
    """The last path segment of a URL or path (`.../torch-2.4.0-...whl`), or None."""
    if not url:
        return None
    path = url.split("#")[0].split("?")[0]
    if "://" in url:
        # "https://[::1..." (an unclosed IPv6 host) is refused by urlsplit: keep the text
        with contextlib.suppress(ValueError):
            path = urlsplit(url).path
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return name or None


def artifact(
    filename: str | None,
    url: str | None = None,
    hashes: tuple[Hash, ...] = (),
    size: int | None = None,
    upload_time: datetime | None = None,
) -> LockedArtifact:
    """A LockedArtifact whose file name falls back to the URL's last segment."""
    return LockedArtifact(
        filename=filename or filename_from_url(url),
        url=url,
        hashes=hashes,
        size=size,
        upload_time=upload_time,
    )


def unique(items: list[str]) -> tuple[str, ...]:
    """Items in first-seen order without repeats."""
    return tuple(dict.fromkeys(items))
