"""The hash cache (SQLite) and parallel hashing with it."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from scanner.infra import hash_cache
from scanner.infra.hash_cache import CACHE_FILE, HashCache, open_cache, stat_key
from scanner.infra.hashing import hash_files
from scanner.options import ScanOptions


def make_files(root: Path, count: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        p = root / f"f{i}.bin"
        p.write_bytes(f"file {i}\n".encode() * (i + 1))
        paths.append(p)
    return paths


def expected(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def test_hash_files_matches_hashlib_with_any_worker_count(tmp_path: Path) -> None:
    paths = make_files(tmp_path / "f", 40)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * (1 << 20) + 17))  # several chunks, not a multiple
    paths.append(big)
    want = {p: expected(p) for p in paths}
    assert hash_files(paths, None, workers=1) == want
    assert hash_files(paths, None, workers=4) == want
    as_strings = [str(p) for p in paths]
    assert hash_files(as_strings, None, workers=3) == {str(p): v for p, v in want.items()}


def test_unreadable_things_become_error_values(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("x")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    gone = tmp_path / "gone.txt"
    out = hash_files([real, link, fifo, gone, tmp_path], None, workers=2)
    assert out[real] == expected(real)
    errors = {p: r for p, r in out.items() if isinstance(r, OSError)}
    assert set(errors) == {link, fifo, gone, tmp_path}
    assert errors[link].errno == errno.ELOOP
    assert "not a regular file" in str(errors[fifo])
    assert errors[gone].errno == errno.ENOENT
    assert errors[tmp_path].errno == errno.EISDIR


def test_cache_round_trip_and_invalidation(tmp_path: Path) -> None:
    paths = make_files(tmp_path / "f", 10)
    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    with cache:
        first = hash_files(paths, cache, workers=2)
    keys = [stat_key(os.stat(p)) for p in paths]
    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    with cache:
        digests = {
            k: r[0]
            for k, p in zip(keys, paths, strict=True)
            if not isinstance(r := first[p], OSError)
        }
        assert cache.lookup(keys) == digests
        # a changed file (same size, mtime put back) gets a new ctime, so it misses
        st = paths[0].stat()
        paths[0].write_bytes(b"FILE 0\n")
        os.utime(paths[0], ns=(st.st_atime_ns, st.st_mtime_ns))
        again = hash_files(paths, cache, workers=2)
    assert again[paths[0]] == expected(paths[0]) != first[paths[0]]
    assert {p: again[p] for p in paths[1:]} == {p: first[p] for p in paths[1:]}


def test_cache_is_used_instead_of_reading(tmp_path: Path) -> None:
    """Prove the warm path does not read: a cached entry wins while stat says unchanged."""
    [path] = make_files(tmp_path / "f", 1)
    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    with cache:
        cache.store([(stat_key(os.stat(path)), "ab" * 32)])
        assert hash_files([path], cache) == {path: ("ab" * 32, path.stat().st_size)}


def test_corrupt_cache_file_is_rebuilt(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    (directory / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    cache = HashCache.open(directory)
    assert cache is not None
    [path] = make_files(tmp_path / "f", 1)
    with cache:
        assert hash_files([path], cache) == {path: expected(path)}
        assert cache.lookup([stat_key(os.stat(path))]) != {}


def test_garbage_rows_are_never_trusted(tmp_path: Path) -> None:
    [path] = make_files(tmp_path / "f", 1)
    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    with cache:
        hash_files([path], cache)
    db = sqlite3.connect(tmp_path / "cache" / CACHE_FILE)
    db.execute("UPDATE hashes SET sha256 = 'not a hash'")
    db.commit()
    db.close()
    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    with cache:
        assert cache.lookup([stat_key(os.stat(path))]) == {}
        assert hash_files([path], cache) == {path: expected(path)}


def test_unknown_schema_is_rebuilt(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    db = sqlite3.connect(directory / CACHE_FILE)
    db.execute("CREATE TABLE hashes (x)")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    cache = HashCache.open(directory)
    assert cache is not None
    with cache:
        [path] = make_files(tmp_path / "f", 1)
        hash_files([path], cache)
        assert len(cache.lookup([stat_key(os.stat(path))])) == 1


def test_a_locked_cache_is_off_for_the_run_not_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lock held by another scan is not corruption: the file stays, this run hashes all.
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    path = directory / CACHE_FILE
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE other (x)")
        inode = path.stat().st_ino
        monkeypatch.setattr(hash_cache, "_OPEN_RETRY_S", 0.2)
        monkeypatch.setattr(hash_cache, "_BUSY_TIMEOUT_MS", 50)
        assert HashCache.open(directory) is None
        assert path.stat().st_ino == inode
    finally:
        holder.close()


def test_cache_writable_by_others_is_not_used(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir()
    directory.chmod(0o777)
    assert HashCache.open(directory) is None
    directory.chmod(0o700)
    assert HashCache.open(directory) is not None
    assert (directory / CACHE_FILE).stat().st_mode & 0o077 == 0


def test_open_cache_follows_options(tmp_path: Path) -> None:
    assert open_cache(ScanOptions(use_cache=False, cache_dir=tmp_path / "c")) is None
    assert not (tmp_path / "c").exists()
    cache = open_cache(ScanOptions(cache_dir=tmp_path / "c"))
    assert cache is not None
    cache.close()
    assert (tmp_path / "c" / CACHE_FILE).is_file()


def test_cache_in_an_unwritable_place_is_just_off(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert HashCache.open(blocker / "cache") is None  # a file where a directory should be


def test_large_key_values_fit(tmp_path: Path) -> None:
    """Device and inode numbers may use all 64 bits."""
    st = cast(
        os.stat_result,
        SimpleNamespace(
            st_dev=2**64 - 1, st_ino=2**63 + 5, st_size=10, st_mtime_ns=2**62, st_ctime_ns=1
        ),
    )
    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    with cache:
        cache.store([(stat_key(st), "cd" * 32)])
        assert cache.lookup([stat_key(st)]) == {stat_key(st): "cd" * 32}


@pytest.mark.parametrize("count", [0, 1])
def test_empty_and_single(tmp_path: Path, count: int) -> None:
    paths = make_files(tmp_path / "f", count)
    cache = HashCache.open(tmp_path / "cache")
    assert cache is not None
    with cache:
        assert hash_files(paths, cache) == {p: expected(p) for p in paths}
