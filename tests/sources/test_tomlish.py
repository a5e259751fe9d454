from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.errors import SourceError
from scanner.models import Hash
from scanner.sources._tomlish import (
    Table,
    filename_from_url,
    hashes_table,
    header_lines,
    lines_for,
    load_json,
    load_toml,
    make_hash,
    parse_hash,
    read_text,
)
from scanner.sources.lockfiles import format_by_content
from scanner.sources.pylock import parse_pylock
from scanner.sources.uv import parse_uv_lock
from tests.sources.lockhelpers import write

HEX = "ab" * 32


def table(data: dict[str, object], where: str = "here") -> Table:
    return Table(data, Path("x.lock"), where)


def test_accessors_check_types_and_name_the_place() -> None:
    t = table({"s": "v", "i": 3, "b": True, "t": {"k": "v"}, "a": ["x"], "at": [{"k": 1}]})
    assert (t.string("s"), t.integer("i"), t.boolean("b")) == ("v", 3, True)
    assert t.table("t") is not None and t.strings("a") == ["x"]
    assert [x.integer("k") for x in t.tables("at")] == [1]
    assert (t.string("missing"), t.table("missing"), t.tables("missing")) == (None, None, [])
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: t.integer("b"), "here: 'b' must be an integer, not a boolean"),
        (lambda: t.string("i"), "'i' must be a string, not an integer"),
        (lambda: t.boolean("s"), "'s' must be a boolean, not a string"),
        (lambda: t.table("a"), "'a' must be a table, not an array"),
        (lambda: t.tables("t"), "'t' must be an array, not a table"),
        (lambda: t.strings("at"), "'at' item 1 must be a string, not a table"),
        (lambda: t.tables("a"), "'a' item 1 must be a table, not a string"),
        (lambda: t.required_string("missing"), "missing required key 'missing'"),
        (lambda: table({"e": "  "}).required_string("e"), "'e' is empty"),
    ]
    for call, message in cases:
        with pytest.raises(SourceError) as info:
            call()
        assert message in info.value.diagnostics()
        assert info.value.path == "x.lock"


def test_hashes_are_validated() -> None:
    where = table({})
    assert parse_hash(f"SHA256:{HEX.upper()}", where) == Hash("sha256", HEX)
    assert make_hash("md5", "d7c89558ba9fa0495403155b64376d81", where).algorithm == "md5"
    assert make_hash("sha3_256", "abcd", where) == Hash("sha3_256", "abcd")  # unknown length
    assert hashes_table(table({"sha256": HEX}), where) == (Hash("sha256", HEX),)
    for bad, message in [
        (f"sha256{HEX}", "algorithm:hexdigest"),
        ("sha256:xyz", "not a hex"),
        (f"sha256:{HEX}00", "66 hex digits, expected 64"),
        (":abcd", "not a hex"),
    ]:
        with pytest.raises(SourceError, match=message):
            parse_hash(bad, where)


def test_file_names_from_urls_and_paths() -> None:
    assert (
        filename_from_url("https://h/whl/cu121/torch-2.4.0%2Bcu121-cp311-none-any.whl#sha256=00")
        == "torch-2.4.0+cu121-cp311-none-any.whl"
    )
    assert filename_from_url("dist/pkg-1.0.tar.gz") == "pkg-1.0.tar.gz"
    assert filename_from_url("https://h/") is None
    assert filename_from_url(None) is None


def test_header_lines_only_where_they_match_the_entries(tmp_path: Path) -> None:
    text = "[[package]]\nname='a'\n  [[ package ]]  # c\n[[package.wheels]]\n[[packages]]\n"
    assert header_lines(text, "package") == [1, 3]
    assert lines_for(2, [1, 3]) == [1, 3]
    assert lines_for(3, [1, 3]) == [None, None, None]
    # An inline array of packages has no headers: no lines rather than wrong ones.
    inline = (
        'lock-version = "1.0"\ncreated-by = "x"\npackages = [\n'
        '  { name = "a", directory = { path = "." } },\n]\n'
    )
    path = write(tmp_path, "pylock.toml", inline)
    assert format_by_content(path) == "pylock"
    assert [p.line for p in parse_pylock(path).packages] == [None]
    uv = (
        'version = 1\nrequires-python = ">=3.10"\n'
        'package = [{ name = "a", version = "1", source = { virtual = "." } }]\n'
    )
    assert [p.line for p in parse_uv_lock(write(tmp_path, "uv.lock", uv)).packages] == [None]


def test_loading_refuses_unreadable_and_oversized_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        read_text(tmp_path / "absent.lock")
    with pytest.raises(SourceError, match="cannot read"):
        read_text(tmp_path)
    big = write(tmp_path, "big.lock", "x = 1\n")
    monkeypatch.setattr("scanner.sources._tomlish.MAX_LOCK_BYTES", 3)
    with pytest.raises(SourceError, match="larger than"):
        load_toml(big)
    monkeypatch.undo()
    with pytest.raises(SourceError, match=r"nested too deeply|invalid JSON"):
        load_json(write(tmp_path, "deep.json", "[" * 200_000 + "]" * 200_000))
    with pytest.raises(SourceError, match="must be a JSON object, not an array"):
        load_json(write(tmp_path, "list.json", "[]"))
    bom = tmp_path / "bom.lock"
    bom.write_bytes(b"\xef\xbb\xbfx = 1\n")
    assert load_toml(bom)[0].integer("x") == 1
