"""The cooldown through the GitHub Action and `wormsign run` (the pre-commit hooks are
`wormsign scan` and read the same config key)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main
from tests.test_action import H, osv_subset, runner, stdout_commands  # noqa: F401 (fixture)


def fresh_uv_lock(uploaded: datetime) -> str:
    stamp = uploaded.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        'version = 1\nrevision = 3\nrequires-python = ">=3.10"\n\n'
        '[[package]]\nname = "click"\nversion = "8.1.7"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        'sdist = { url = "https://files.pythonhosted.org/packages/96/d3/'
        f'click-8.1.7.tar.gz", hash = "sha256:{H}", size = 336121, '
        f'upload-time = "{stamp}" }}\n'
    )


def test_the_action_input_blocks_a_fresh_lock(
    tmp_path: Path,
    osv_subset: Path,  # noqa: F811
) -> None:
    lock = fresh_uv_lock(datetime.now(UTC) - timedelta(hours=2))
    for name in "abc":
        (tmp_path / name).mkdir()
    quiet = runner(tmp_path / "a", osv_subset, {"uv.lock": lock})
    assert quiet.run() == 0, {k: v.stdout + v.stderr for k, v in quiet.logs.items()}
    job = runner(tmp_path / "b", osv_subset, {"uv.lock": lock}, **{"min-release-age": "P3D"})
    assert job.run() == 1
    commands = stdout_commands(job.logs["scan"])
    assert any("title=wormsign WS-AGE-001" in c and "uploaded 2 hours" in c for c in commands)
    bad = runner(tmp_path / "c", osv_subset, {"uv.lock": lock}, **{"min-release-age": "3d"})
    assert bad.run() == 2


def test_run_refuses_to_start_the_command(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(fresh_uv_lock(datetime(2026, 12, 1, tzinfo=UTC)), encoding="utf-8")
    marker = tmp_path / "started"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    args = ["run", "--check", "freshness", "--as-of", "2026-12-02", str(lock)]
    blocked = CliRunner().invoke(main, [*args, "--min-release-age", "P3D", "--", *command])
    assert blocked.exit_code == 1 and not marker.exists()
