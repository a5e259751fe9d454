"""Environments that fight back: symlink loops, unreadable and vanishing files, huge
sparse files, hostile file names.

Tests run as root here, and chmod 000 does not stop root reading a file, so "permission
denied" is simulated by making `os.open` / `Path.open` raise PermissionError for one
chosen path (monkeypatch). Everything goes through the CLI (in process) and must end
in exit 0/1 with the problem reported, or exit 3 with one line: never a traceback.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scanner.cli import main
from scanner.infra.hash_cache import HashCache, stat_key
from scanner.infra.hashing import hash_files
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel

BOUND_S = 90.0
SPARSE = 10 << 30  # 10 GiB, allocated as a hole: costs no disk


def scan(*args: str, fmt: str = "json") -> Result:
    return CliRunner().invoke(
        main, ["scan", "--no-cache", "--format", fmt, *args], catch_exceptions=False
    )


def assert_clean_outcome(result: Result) -> dict[str, Any] | None:
    """Exit 0/1 with a JSON report, or exit 3 with exactly one stderr line."""
    assert result.exit_code in (0, 1, 3), (result.exit_code, result.stderr)
    if result.exit_code == 3:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("wormsign: error: "), result.stderr
        assert "internal error" not in lines[0]
        return None
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def rule_ids(report: dict[str, Any] | None) -> set[str]:
    return {f["rule_id"] for f in (report or {}).get("findings", [])}


@pytest.fixture
def env(tmp_path: Path) -> Path:
    """A virtualenv-shaped prefix with one installed distribution (`demo`)."""
    root = tmp_path / "venv"
    site = make_site_packages(root)
    wheel = make_wheel(
        tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n", "demo/util.py": "y = 2\n"}
    )
    install_wheel(wheel, site, prefix=root)
    return root


def site_of(root: Path) -> Path:
    return next((root / "lib").glob("python*/site-packages"))


# -- symlink loops --------------------------------------------------------------------------


def test_symlink_loops_in_an_environment(env: Path, tiny_osv: Path) -> None:
    site = site_of(env)
    (site / "loop").symlink_to("loop")
    (site / "a").symlink_to("b")
    (site / "b").symlink_to("a")
    (site / "demo" / "sub").symlink_to("..")  # a directory loop inside a package
    (site / "demo" / "util.py").unlink()
    (site / "demo" / "util.py").symlink_to("util.py")  # RECORD lists it: now a loop
    start = time.perf_counter()
    report = assert_clean_outcome(scan("--db", str(tiny_osv), "--env", str(env), str(env)))
    assert time.perf_counter() - start < BOUND_S
    assert rule_ids(report) & {"WS-INT-011", "WS-INT-001", "WS-INT-002"}


def test_symlink_loops_in_a_project(tmp_path: Path, tiny_osv: Path) -> None:
    project = tmp_path / "project"
    (project / "deep").mkdir(parents=True)
    (project / "deep" / "up").symlink_to("..")
    (project / "self").symlink_to(".")
    (project / "requirements.txt").symlink_to("requirements.txt")
    (project / "model.pt").symlink_to("/dev/zero")
    start = time.perf_counter()
    assert_clean_outcome(scan("--db", str(tiny_osv), str(project)))
    assert time.perf_counter() - start < BOUND_S


def test_target_that_is_a_symlink_loop(tmp_path: Path, tiny_osv: Path) -> None:
    loop = tmp_path / "requirements.txt"
    loop.symlink_to(loop)
    result = CliRunner().invoke(main, ["scan", "--db", str(tiny_osv), str(loop)])
    assert result.exit_code in (2, 3)  # click refuses a path that does not resolve (2)
    assert "Traceback" not in result.output


# -- unreadable files (PermissionError simulated: root ignores modes) -------------------------


def deny(monkeypatch: pytest.MonkeyPatch, victim: Path) -> None:
    """os.open and Path.open raise EACCES for `victim` (as chmod 000 would for a user)."""
    real_os_open = os.open
    real_path_open = Path.open

    def os_open(path: Any, flags: int, mode: int = 0o777, *args: Any, **kw: Any) -> int:
        if os.fspath(path) == str(victim):
            raise PermissionError(errno.EACCES, "Permission denied", str(victim))
        return real_os_open(path, flags, mode, *args, **kw)

    def path_open(self: Path, *args: Any, **kw: Any) -> Any:
        if str(self) == str(victim):
            raise PermissionError(errno.EACCES, "Permission denied", str(victim))
        return real_path_open(self, *args, **kw)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(Path, "open", path_open)


def test_unreadable_installed_file_is_a_finding(
    env: Path, tiny_osv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny(monkeypatch, site_of(env) / "demo" / "util.py")
    report = assert_clean_outcome(
        scan("--db", str(tiny_osv), "--check", "integrity", "--env", str(env), str(env))
    )
    assert "WS-INT-011" in rule_ids(report)


def test_unreadable_metadata_is_one_line_exit_3(
    env: Path, tiny_osv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = site_of(env) / "demo-1.0.dist-info" / "METADATA"
    deny(monkeypatch, victim)
    result = scan("--db", str(tiny_osv), "--env", str(env), str(env))
    assert result.exit_code == 3
    assert str(victim) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unreadable_lock_and_model_are_one_line_exit_3(
    tmp_path: Path, tiny_osv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("click==8.1.7\n")
    model = tmp_path / "m.pkl"
    model.write_bytes(b"\x80\x04N.")
    for victim in (lock, model):
        with monkeypatch.context() as m:
            deny(m, victim)
            result = scan("--db", str(tiny_osv), str(victim))
        assert result.exit_code == 3, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


# -- files that vanish or change while being hashed -------------------------------------------


def test_file_vanishing_between_stat_and_open(
    env: Path, tiny_osv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = site_of(env) / "demo" / "util.py"
    real_open = os.open

    def vanishing_open(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if os.fspath(path) == str(victim) and victim.exists():
            victim.unlink()  # gone after lstat, before open
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", vanishing_open)
    report = assert_clean_outcome(
        scan("--db", str(tiny_osv), "--check", "integrity", "--env", str(env), str(env))
    )
    assert rule_ids(report) & {"WS-INT-010", "WS-INT-011"}


def test_file_changing_while_hashed_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file grows between the read and the fstat that follows it: the digest covers
    what was read to the end, and it is never cached under either stat key."""
    victim = tmp_path / "grows.py"
    victim.write_bytes(b"a" * 1000)
    real_fstat = os.fstat

    def growing_fstat(fd: int) -> os.stat_result:
        if victim.stat().st_size == 1000:
            with victim.open("ab") as fh:
                fh.write(b"payload")
        return real_fstat(fd)

    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    monkeypatch.setattr(os, "fstat", growing_fstat)
    first = hash_files([str(victim)], cache, workers=1)
    monkeypatch.setattr(os, "fstat", real_fstat)
    full = (hashlib.sha256(b"a" * 1000 + b"payload").hexdigest(), 1007)
    assert first[str(victim)] == full
    key = stat_key(os.lstat(victim))
    assert cache.lookup([key]) == {}
    assert hash_files([str(victim)], cache, workers=1)[str(victim)] == full
    assert cache.lookup([key]) == {key: full[0]}  # a stable read is cached: the test can fail
    cache.close()


# -- huge sparse files -----------------------------------------------------------------------


def sparse(path: Path, size: int = SPARSE, head: bytes = b"") -> Path:
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def test_huge_unlisted_files_are_not_read(env: Path, tmp_path: Path, tiny_osv: Path) -> None:
    """10 GiB files nobody lists: a loose file, an injected package file, a model, a lock."""
    site = site_of(env)
    sparse(site / "huge.pth", head=b"import os\n")
    sparse(site / "demo" / "huge.py", head=b"import os\n")
    project = tmp_path / "project"
    project.mkdir()
    sparse(project / "model.pt", head=b"\x80\x04")
    sparse(project / "requirements.txt", head=b"click==8.1.7\n")
    start = time.perf_counter()
    report = assert_clean_outcome(scan("--db", str(tiny_osv), "--env", str(env), str(project)))
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND_S, f"{elapsed:.0f} s: something read a 10 GiB file"
    del report


@pytest.mark.parametrize("head", [b"{", b"[[package]]\n", b"version: 1\npackage:\n"])
def test_huge_explicit_target_of_unknown_format(
    tmp_path: Path, tiny_osv: Path, head: bytes
) -> None:
    target = sparse(tmp_path / "locks.prod", head=head)
    start = time.perf_counter()
    result = scan("--db", str(tiny_osv), str(target))
    assert time.perf_counter() - start < BOUND_S
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1


# -- hostile names ---------------------------------------------------------------------------


HOSTILE_NAMES = [
    "evil\nname.py",
    "evil\r\n::error::pwned.py",
    "\x1b]0;owned\x07\x1b[2J.py",
    "::add-mask::x.py",
    "%0A::set-output name=x::y.py",
    "tab\there.py",
    "\u202egnp.py",  # right-to-left override
]
WORKFLOW_COMMAND = re.compile(r"^::[a-z-]+", re.M)


def _has_terminal_escape(text: str) -> bool:
    return "\x1b" in text or "\x07" in text or "\r" in text


@pytest.mark.parametrize("fmt", ["text", "markdown", "sarif", "json"])
def test_control_characters_in_paths_never_reach_the_output_raw(
    env: Path, tiny_osv: Path, fmt: str
) -> None:
    pkg = site_of(env) / "demo"
    for name in HOSTILE_NAMES:
        (pkg / name).write_text("import os\n")  # injected files: findings name them
    result = scan(
        "--db", str(tiny_osv), "--check", "integrity", "--env", str(env), str(env), fmt=fmt
    )
    assert result.exit_code == 1, result.stderr
    out = result.stdout
    assert not _has_terminal_escape(out)
    assert WORKFLOW_COMMAND.search(out) is None, out
    assert "\u202e" not in out or fmt == "json"
    if fmt == "json":
        paths = {f["path"] for f in json.loads(out)["findings"] if f["path"]}
        assert any("evil\nname.py" in p for p in paths)  # JSON keeps the name, escaped


def test_non_utf8_file_names(env: Path, tiny_osv: Path) -> None:
    pkg = os.fsencode(site_of(env) / "demo")
    for raw in (b"bad\xff\xfe.py", b"latin1-\xe9.py", b"\xc3\x28.pth"):
        with open(os.path.join(pkg, raw), "wb") as fh:
            fh.write(b"import os\n")
    with open(os.path.join(os.fsencode(site_of(env)), b"loose-\xff.pth"), "wb") as fh:
        fh.write(b"import os; os.system('x')\n")
    for fmt in ("json", "text", "sarif", "markdown"):
        result = scan("--db", str(tiny_osv), "--env", str(env), str(env), fmt=fmt)
        assert result.exit_code in (1, 3), result.stderr
        if result.exit_code == 3:
            assert len(result.stderr.strip().splitlines()) == 1
        else:
            result.stdout.encode("utf-8")  # printable as UTF-8 (surrogates escaped)
