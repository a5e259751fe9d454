"""`wormsign db update` / `wormsign db status` through click."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main


def write_records(directory: Path) -> Path:
    directory.mkdir()
    (directory / "MAL-1.json").write_text(
        json.dumps(
            {
                "id": "MAL-1",
                "modified": "2020-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "evil"}, "versions": ["1"]}],
            }
        )
    )
    return directory


def test_update_then_status(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "osv.sqlite"
    src = write_records(tmp_path / "osv")
    result = runner.invoke(main, ["db", "update", "--source", str(src), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "imported 1 records" in result.output
    result = runner.invoke(main, ["db", "status", "--db", str(db)])
    assert result.exit_code == 0
    assert str(db) in result.output and "records:         1 (1 malicious" in result.output
    assert "2020-01-01T00:00:00Z" in result.output
    assert "older than 7 days" in result.output  # stderr is mixed in by CliRunner


def test_missing_database_and_bad_source_exit_3(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["db", "status", "--db", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 3
    assert "wormsign db update" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        main, ["db", "update", "--source", str(empty), "--db", str(tmp_path / "x.sqlite")]
    )
    assert result.exit_code == 3 and "no OSV record" in result.output
    assert not (tmp_path / "x.sqlite").exists()
