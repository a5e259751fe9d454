"""Fuzz OSV record import (the code `wormsign db update` runs) and version matching."""

from __future__ import annotations

import sqlite3
import sys

import _common  # noqa: F401  -- puts the repository on sys.path
import atheris  # type: ignore[import-untyped]  # not a project dependency

with atheris.instrument_imports():
    from scanner.checks.advisories.database import _SCHEMA, _insert_all, _records_of
    from scanner.checks.advisories.osv import match_version, parse_record

VERSIONS = ["1.0", "0", "2.6.0-cu124", "1!2", "v1", "", "1.0+local", "9" * 30]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    version = (
        VERSIONS[fdp.ConsumeIntInRange(0, len(VERSIONS) - 1)]
        if fdp.ConsumeBool()
        else fdp.ConsumeUnicodeNoSurrogates(12)
    )
    raw = fdp.ConsumeBytes(fdp.remaining_bytes())
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(_SCHEMA)
        notes: list[str] = []
        _insert_all(conn, iter([("fuzz.json", raw)]), notes)  # never raises: notes instead
    finally:
        conn.close()
    try:
        items = list(_records_of("fuzz.json", raw))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    for _where, item in items:
        try:
            advisory = parse_record(item)
        except (ValueError, TypeError, KeyError, AttributeError):  # what the import catches
            continue
        for affected in advisory.affected:
            match_version([advisory], affected.name, version)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
