"""scan-index and inventory on the command line: exit 0 on a clean index, usage errors
exit 2, bad inputs one line naming the file and exit 3, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel
from tests.scale.conftest import Corpus


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("wormsign: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_a_clean_index_exits_0(corpus: Corpus, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    for i in range(3):
        make_wheel(clean, f"fine{i}", "1.0", {f"fine{i}/__init__.py": f"X = {i}\n"})
    jsonl = tmp_path / "out.jsonl"
    code, out, err = _cli(
        "scan-index",
        str(clean),
        "--db",
        str(corpus.db),
        "--cache-dir",
        str(corpus.cache),
        "--workers",
        "1",
        "--jsonl",
        str(jsonl),
        "--format",
        "markdown",
        "-o",
        str(tmp_path / "r.md"),
    )
    assert code == 0, err
    assert out == ""  # the stream went to --jsonl
    events = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [e["event"] for e in events] == ["plan", "verdict", "verdict", "verdict"]
    assert (tmp_path / "r.md").read_text().strip()


def test_usage_errors_exit_2_and_leave_the_stream_file_alone(tmp_path: Path) -> None:
    jsonl = tmp_path / "keep.jsonl"
    jsonl.write_text("earlier results\n")
    for args in (
        ["--workers", "0"],
        ["--engine", "spark"],
        ["--shard-size", "0"],
        ["--scheduler", "tcp://127.0.0.1:1"],  # without --engine dask
        ["--fail-on", "nope"],
    ):
        code, _out, err = _cli("scan-index", str(tmp_path), "--jsonl", str(jsonl), *args)
        assert code == 2, (args, err)
        assert "Traceback" not in err
    bad_config = tmp_path / "wormsign.toml"
    bad_config.write_text("[tool.wormsign]\nno-such-key = 1\n")
    code, _out, err = _cli(
        "scan-index", str(tmp_path), "--jsonl", str(jsonl), "--config", str(bad_config)
    )
    assert code == 2 and str(bad_config) in _one_error(err)
    assert jsonl.read_text() == "earlier results\n"


def test_bad_sources_are_one_line_naming_them_exit_3(corpus: Corpus, tmp_path: Path) -> None:
    common = ["--db", str(corpus.db), "--cache-dir", str(corpus.cache), "--workers", "1"]
    missing = tmp_path / "no-such.manifest"
    code, _out, err = _cli("scan-index", str(missing), *common)
    assert code == 3 and str(missing) in _one_error(err)
    inventory = tmp_path / "node.jsonl"
    inventory.write_text('{"schema": 1, "node": "n"}\n')
    code, _out, err = _cli("scan-index", "--from-inventory", str(inventory), *common)
    line = _one_error(err)
    assert code == 3 and str(inventory) in line and "line 1" in line
    code, _out, err = _cli(
        "scan-index", str(corpus.root), *common, "--jsonl", str(tmp_path / "no" / "x.jsonl")
    )
    assert code == 3 and str(tmp_path / "no" / "x.jsonl") in _one_error(err)
    code, _out, err = _cli(
        "scan-index", str(corpus.root), *common, "--format", "json", "-o", str(tmp_path)
    )
    assert code == 2  # -o naming a directory is refused by the option parser


def test_inventory_writes_jsonl_and_fails_closed(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "lib", "1.0", {"lib/__init__.py": "X = 1\n"})
    env = tmp_path / "env"
    install_wheel(wheel, make_site_packages(env))
    out = tmp_path / "node.jsonl"
    code, _stdout, err = _cli(
        "inventory", "--env", str(env), "--node", "n1", "-o", str(out), "--no-cache"
    )
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["node"] == "n1" and row["distribution"] == "lib" and row["version"] == "1.0"
    assert all(len(sha) == 64 for _path, sha, _size in row["files"])

    empty = tmp_path / "empty"
    empty.mkdir()
    out.write_text("previous\n")
    code, _stdout, err = _cli("inventory", "--env", str(empty), "-o", str(out), "--no-cache")
    assert code == 3 and str(empty) in _one_error(err)
    assert out.read_text() == "previous\n"  # nothing half-written
    code, _stdout, err = _cli("inventory", "--env", str(tmp_path / "absent"))
    assert code == 2 and "Traceback" not in err
    code, _stdout, err = _cli(
        "inventory", "--env", str(env), "--no-cache", "-o", str(tmp_path / "nodir" / "x.jsonl")
    )
    assert code == 3 and str(tmp_path / "nodir" / "x.jsonl") in _one_error(err)
