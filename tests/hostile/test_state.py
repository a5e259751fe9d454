"""State under stress: concurrent scans sharing the hash cache and the database,
`db update` killed with SIGKILL at random points, corrupt cache and database files.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.checks.advisories.database import AdvisoryDatabase, build_database, iter_source
from scanner.cli import main
from scanner.infra.hash_cache import CACHE_FILE
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel

REPO = Path(__file__).resolve().parents[2]


def child_env(cache_home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "XDG_CACHE_HOME": str(cache_home),
        "PYTHONPATH": str(REPO),
        "NO_COLOR": "1",
    }


def wormsign(*args: str) -> list[str]:
    return [sys.executable, "-m", "scanner", *args]


def osv_record(i: int, name: str | None = None) -> dict[str, object]:
    return {
        "id": f"PYSEC-2099-{i}",
        "modified": "2026-01-01T00:00:00Z",
        "summary": f"advisory {i}",
        "aliases": [f"CVE-2099-{i}"],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name or f"pkg{i}"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}
                ],
                "versions": [f"1.{j}" for j in range(30)],
            }
        ],
    }


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OSV directory large enough that an import takes a while (a window to kill in)."""
    root = tmp_path_factory.mktemp("osv-big")
    for i in range(6000):
        (root / f"PYSEC-2099-{i}.json").write_text(json.dumps(osv_record(i)))
    return root


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with a few hundred installed files, one of them known-vulnerable (pkg1 1.0)."""
    root = tmp_path_factory.mktemp("state-env")
    site = make_site_packages(root / "venv")
    wheels = root / "wheels"
    wheels.mkdir()
    files = {f"pkg1/m{i}.py": f"x = {i}\n" * 50 for i in range(300)}
    install_wheel(make_wheel(wheels, "pkg1", "1.0", files), site, prefix=root / "venv")
    return root / "venv"


def test_two_scans_at_once_share_cache_and_database(
    tmp_path: Path, environment: Path, tiny_osv: Path
) -> None:
    db = tmp_path / "osv.sqlite"
    build_database(iter_source(tiny_osv), db, source="tiny")
    cache_home = tmp_path / "cache-home"
    args = wormsign(
        "scan", "--db", str(db), "--format", "json", "--env", str(environment), str(environment)
    )
    for _round in range(3):  # first round fills the cache concurrently, the rest read it
        procs = [
            subprocess.Popen(
                args,
                env=child_env(cache_home),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=tmp_path,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        codes = [p.returncode for p in procs]
        assert codes[0] == codes[1] and codes[0] in (0, 1), [o[1].decode() for o in outs]
        reports = [json.loads(o[0]) for o in outs]
        assert reports[0]["findings"] == reports[1]["findings"]
    cache = cache_home / "wormsign" / CACHE_FILE
    assert cache.is_file()
    with sqlite3.connect(cache) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM hashes").fetchone()[0] >= 300


def _status(db: Path) -> tuple[int, str]:
    proc = subprocess.run(
        wormsign("db", "status", "--db", str(db)),
        capture_output=True,
        timeout=120,
        env=child_env(db.parent / "cache"),
        check=False,
    )
    return proc.returncode, proc.stdout.decode() + proc.stderr.decode()


def test_db_update_killed_at_random_points_leaves_a_usable_database(
    tmp_path: Path, big_source: Path, tiny_osv: Path
) -> None:
    db = tmp_path / "osv.sqlite"
    build_database(iter_source(tiny_osv), db, source="tiny")
    rng = random.Random(1234)
    # Time one full update to spread the kill points over its whole length.
    probe = tmp_path / "probe.sqlite"
    start = time.perf_counter()
    subprocess.run(
        wormsign("db", "update", "--source", str(big_source), "--db", str(probe)),
        check=True,
        capture_output=True,
        timeout=600,
        env=child_env(tmp_path),
    )
    full = time.perf_counter() - start
    delays = sorted(rng.uniform(0.05, full * 1.1) for _ in range(6))
    outcomes = []
    for delay in delays:
        proc = subprocess.Popen(
            wormsign("db", "update", "--source", str(big_source), "--db", str(db)),
            env=child_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        code, text = _status(db)
        assert code == 0, text
        with AdvisoryDatabase(db) as database:
            records = database.status().records
            assert records in (1, 6000), records
            if records == 1:
                assert database.advisories_for("evilpkg")
            else:
                assert database.advisories_for("pkg17")
        outcomes.append((round(delay, 2), records, proc.returncode))
    # Killed mid-import at least once (old database kept), and the kills really were kills.
    assert any(records == 1 for _d, records, _c in outcomes), outcomes
    assert any(c == -signal.SIGKILL for _d, _r, c in outcomes), outcomes


def test_corrupt_cache_is_rebuilt_not_trusted(
    tmp_path: Path, environment: Path, tiny_osv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_home = tmp_path / "cache-home"
    cache_dir = cache_home / "wormsign"
    cache_dir.mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    args = [
        "scan",
        "--db",
        str(tiny_osv),
        "--check",
        "integrity",
        "--format",
        "json",
        "--env",
        str(environment),
        str(environment),
    ]
    clean = CliRunner().invoke(main, args)
    assert clean.exit_code in (0, 1), clean.stderr
    cache = cache_dir / CACHE_FILE
    # 1. garbage bytes; 2. a valid SQLite file whose rows lie about every hash.
    cache.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    for path in (cache.with_name(CACHE_FILE + "-wal"), cache.with_name(CACHE_FILE + "-shm")):
        path.unlink(missing_ok=True)
    again = CliRunner().invoke(main, args)
    assert (again.exit_code, again.stdout) == (clean.exit_code, clean.stdout)
    with sqlite3.connect(cache) as conn:
        conn.execute("UPDATE hashes SET sha256 = 'not-a-hash'")
    lied = CliRunner().invoke(main, args)
    assert (lied.exit_code, lied.stdout) == (clean.exit_code, clean.stdout)
    with sqlite3.connect(cache) as conn:
        conn.execute("UPDATE hashes SET sha256 = ?", ("0" * 64,))  # well-formed lies
    # A well-formed wrong digest under the right stat key cannot be told from the truth:
    # the cache file is private (0600 in 0700), and --no-cache re-hashes everything.
    fresh = CliRunner().invoke(main, [*args, "--no-cache"])
    assert (fresh.exit_code, fresh.stdout) == (clean.exit_code, clean.stdout)


@pytest.mark.parametrize(
    "damage", ["garbage", "truncated", "empty", "zeroed-header", "wrong-schema", "flipped-pages"]
)
def test_corrupt_database_is_refused_with_exit_3(
    tmp_path: Path, tiny_osv: Path, big_source: Path, damage: str
) -> None:
    db = tmp_path / "osv.sqlite"
    build_database(iter_source(big_source), db, source="big")
    good = CliRunner().invoke(
        main, ["scan", "--db", str(db), "--check", "advisories", str(_lock(tmp_path))]
    )
    assert good.exit_code == 1, good.stderr  # pkg17==1.0 is affected
    data = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(os.urandom(len(data)))
    elif damage == "truncated":
        db.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        db.write_bytes(b"")
    elif damage == "zeroed-header":
        db.write_bytes(b"\0" * 100 + data[100:])
    elif damage == "wrong-schema":
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    else:  # every page after the first few overwritten with noise
        rng = random.Random(5)
        page = 4096
        out = bytearray(data)
        for start in range(page * 4, len(out), page):
            out[start + 8 : start + page] = rng.randbytes(page - 8)
        db.write_bytes(bytes(out))
    result = CliRunner().invoke(
        main, ["scan", "--db", str(db), "--check", "advisories", str(_lock(tmp_path))]
    )
    assert result.exit_code == 3, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0], result.stderr
    assert "internal error" not in lines[0]


def _lock(tmp_path: Path) -> Path:
    lock = tmp_path / "requirements.txt"
    lock.write_text("pkg17==1.0\n")
    return lock
