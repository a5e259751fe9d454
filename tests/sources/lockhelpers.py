"""Shared checks for the lock-file parser tests: refusal shape and malformed-input sweeps."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scanner.errors import SourceError
from scanner.models import Lockfile

Parser = Callable[[Path], Lockfile]

# A scalar value after `key =` in TOML: basic string, literal string, integer, boolean.
_TOML_VALUE = re.compile(r"""([A-Za-z0-9_-]+\s*=\s*)("(?:[^"\\]|\\.)*"|'[^']*'|-?\d+|true|false)""")
TOML_ALTERNATIVES = (
    "1",
    "true",
    "[1, 2]",
    "{ a = 1 }",
    '"x"',
    "[{ a = 1 }]",
    "-5",
    '"sha256:zz"',
    '""',
    "1.5",
)
JSON_ALTERNATIVES: tuple[object, ...] = (
    1,
    True,
    None,
    [1, 2],
    {"a": 1},
    "x",
    [{"a": 1}],
    "sha256:zz",
    "",
    1.5,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(parser: Parser, path: Path, *fragments: str) -> str:
    """Assert the parser refuses the file with a one-line SourceError naming it."""
    with pytest.raises(SourceError) as info:
        parser(path)
    err = info.value
    line = err.diagnostics()
    assert "\n" not in line
    assert err.path == str(path)
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def parses_or_refuses(parser: Parser, path: Path, text: str) -> Lockfile | None:
    """Write `text` and parse it: a Lockfile, or a one-line SourceError. Nothing else."""
    path.write_text(text, encoding="utf-8")
    try:
        return parser(path)
    except SourceError as err:
        assert "\n" not in err.diagnostics()
        assert err.path == str(path)
        return None


def truncations(text: str, points: int = 150) -> Iterator[str]:
    """The text cut at evenly spaced points (always including the empty text)."""
    step = max(1, len(text) // points)
    for cut in range(0, len(text), step):
        yield text[:cut]


def toml_type_mutations(text: str) -> Iterator[str]:
    """The text with one scalar value at a time replaced by a value of another type."""
    for match in _TOML_VALUE.finditer(text):
        start, end = match.span(2)
        for alt in TOML_ALTERNATIVES:
            if alt != match.group(2):
                yield text[:start] + alt + text[end:]


def json_type_mutations(data: object) -> Iterator[object]:
    """The JSON document with one value at a time replaced by a value of another type."""
    if isinstance(data, dict):
        for key, value in data.items():
            for alt in JSON_ALTERNATIVES:
                if alt != value:
                    yield {**data, key: alt}
            for inner in json_type_mutations(value):
                yield {**data, key: inner}
    elif isinstance(data, list):
        for i, value in enumerate(data):
            for inner in json_type_mutations(value):
                yield [*data[:i], inner, *data[i + 1 :]]


def sweep_toml(parser: Parser, tmp_path: Path, name: str, text: str) -> int:
    """Every truncation and type mutation of a valid TOML fixture parses or is refused."""
    path = tmp_path / name
    count = 0
    for variant in (*truncations(text), *toml_type_mutations(text)):
        parses_or_refuses(parser, path, variant)
        count += 1
    return count


def sweep_json(parser: Parser, tmp_path: Path, name: str, text: str) -> int:
    """Every truncation and type mutation of a valid JSON fixture parses or is refused."""
    path = tmp_path / name
    count = 0
    variants = [
        *truncations(text),
        *(json.dumps(m, indent=4) for m in json_type_mutations(json.loads(text))),
    ]
    for variant in variants:
        parses_or_refuses(parser, path, variant)
        count += 1
    return count


GARBAGE: tuple[bytes, ...] = (
    b"",
    b"\x00\x01\x02\xff\xfe binary",
    b"\xff\xfe\x00n\x00o\x00t\x00 utf-8",
    b"[[[[[[[[[[",
    b"{" * 5000 + b"}" * 5000,
    b"[" * 5000 + b"]" * 5000,
    b"a = [" * 3000,
    b"key = 'unterminated\n",
    b"just some words\nand more\n",
    b'{"json": "object"}',
    b"- yaml\n- list\n",
    b"= = =\n",
)


def garbage_refused(parser: Parser, tmp_path: Path, name: str) -> None:
    """Each piece of garbage is refused with a one-line SourceError (or, if it happens to be
    valid syntax with nothing in it, refused for what is missing)."""
    path = tmp_path / name
    for blob in GARBAGE:
        path.write_bytes(blob)
        refused(parser, path)
