"""The heuristics in worker processes (`--jobs`): the same findings for one worker or
many, on malware-shaped distributions and on a real installed environment; small inputs
start no process; the verdict store is respected; a worker's error or death is handled."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from scanner.checks.heuristics import content
from scanner.checks.heuristics.content import Tally, check_heuristics, judge_inventory
from scanner.checks.heuristics.rules import default_rules
from scanner.checks.interface import VERDICTS, VERDICTS_REUSED, CheckContext
from scanner.errors import ArchiveError
from scanner.infra import workers
from scanner.infra.workers import run_tasks
from scanner.models import DistributionFile, Environment, Finding, Inventory, Severity
from scanner.options import ScanOptions
from scanner.sources.environment import collect_environment
from tests.helpers.wheels import install_wheel, make_wheel


def _dist_file(path: Path, sha256: str | None = None) -> DistributionFile:
    data = path.read_bytes()
    digest = sha256 or hashlib.sha256(data).hexdigest()
    return DistributionFile(path, "wheel", None, None, digest, len(data))


def _malicious_examples() -> list[tuple[str, dict[str, bytes]]]:
    """Every rule example that must match, as the files of a pure wheel."""
    out = []
    for rule in default_rules():
        for i, ex in enumerate(rule.tests):
            if ex.expect != "match" or ex.dist != "wheel" or not ex.pure or not ex.files:
                continue
            if any(p.endswith(".dist-info") or ".dist-info/" in p for p, _ in ex.files):
                continue
            out.append((f"{rule.id.lower().replace('-', '')}x{i}", dict(ex.files)))
    return out


@pytest.fixture(scope="module")
def malware_inventory(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    root = tmp_path_factory.mktemp("malware")
    wheels = root / "wheels"
    wheels.mkdir()
    site = root / "venv" / "lib" / "python3.11" / "site-packages"
    archives = []
    for name, files in _malicious_examples():
        wheel = make_wheel(wheels, name, "1.0", files)
        install_wheel(wheel, site)
        archives.append(_dist_file(wheel))
    env = collect_environment(site)
    return Inventory(environments=(env,), distribution_files=tuple(archives))


def _findings(inventory: Inventory, jobs: int, cache: Path | None = None) -> list[Finding]:
    options = ScanOptions(jobs=jobs, use_cache=cache is not None, cache_dir=cache)
    return list(judge_inventory(inventory, options, default_rules()))


@pytest.fixture()
def always_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, "POOL_MIN_BYTES", 0)


def test_malware_findings_are_the_same_for_one_worker_and_three(
    malware_inventory: Inventory, always_pool: None
) -> None:
    one = _findings(malware_inventory, jobs=1)
    three = _findings(malware_inventory, jobs=3)
    assert three == one
    blocking = {f.rule_id for f in one if f.severity >= Severity.HIGH}
    assert len(blocking) >= 10  # the fixture is malware-shaped, and the pool saw it


def test_a_real_environment_is_judged_the_same_by_one_worker_and_two(
    always_pool: None,
) -> None:
    # the test environment itself, a few real distributions of it (bounded cost)
    site = Path(sysconfig.get_paths()["purelib"])
    env = collect_environment(site)
    chosen = []
    budget = 3 << 20
    for dist in sorted(env.distributions, key=lambda d: d.name):
        size = sum(e.size or 0 for e in dist.record or () if e.path.endswith(".py"))
        if 0 < size <= budget:
            chosen.append(dist)
            budget -= size
    assert len(chosen) >= 3
    small = Inventory(environments=(Environment(site, tuple(chosen)),))
    assert _findings(small, jobs=2) == _findings(small, jobs=1)


def test_cached_verdicts_are_not_sent_to_workers(
    malware_inventory: Inventory, always_pool: None, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = _findings(malware_inventory, jobs=2, cache=cache)
    sent: list[int] = []
    real = content.run_tasks

    def counting(func, shared, tasks, count, on_done=None):  # type: ignore[no-untyped-def]
        sent.append(len(tasks))
        return real(func, shared, tasks, count, on_done)

    content.run_tasks = counting  # type: ignore[assignment]
    try:
        tally = Tally()
        options = ScanOptions(jobs=2, cache_dir=cache)
        again = list(judge_inventory(malware_inventory, options, default_rules(), tally))
    finally:
        content.run_tasks = real  # type: ignore[assignment]
    assert again == first
    assert sum(sent) == 0  # nothing left to judge
    installed = len(malware_inventory.environments[0].distributions)
    assert tally.verdicts == installed + len(malware_inventory.distribution_files)
    assert tally.reused == tally.verdicts


def test_an_archive_whose_bytes_are_not_those_hashed_is_never_stored(
    tmp_path: Path, always_pool: None
) -> None:
    wheel = make_wheel(tmp_path, "fine", "1.0", {"fine/__init__.py": "X = 1\n"})
    other = make_wheel(tmp_path, "fine2", "1.0", {"fine2/__init__.py": "X = 1\n"})
    inventory = Inventory(
        distribution_files=(_dist_file(wheel, "0" * 64), _dist_file(other, "1" * 64))
    )
    cache = tmp_path / "cache"
    _findings(inventory, jobs=2, cache=cache)
    tally = Tally()
    options = ScanOptions(jobs=2, cache_dir=cache)
    list(judge_inventory(inventory, options, default_rules(), tally))
    assert (tally.verdicts, tally.reused) == (2, 0)


def test_small_inputs_start_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    for name in ("one", "two", "three"):
        install_wheel(make_wheel(tmp_path, name, "1.0", {f"{name}/__init__.py": "X = 1\n"}), site)

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker process was started for a tiny input")

    monkeypatch.setattr(workers.subprocess, "Popen", no_process)
    inventory = Inventory(environments=(collect_environment(site),))
    result = check_heuristics(inventory, CheckContext(ScanOptions(jobs=8, use_cache=False)))
    assert result.count(VERDICTS) == 3
    assert result.count(VERDICTS_REUSED) == 0


def test_a_broken_archive_in_a_worker_is_the_same_error_as_without(
    tmp_path: Path, always_pool: None
) -> None:
    good = make_wheel(tmp_path, "fine", "1.0", {"fine/__init__.py": "X = 1\n"})
    broken = tmp_path / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    inventory = Inventory(
        distribution_files=(
            _dist_file(good),
            _dist_file(broken),
        )
    )
    with pytest.raises(ArchiveError) as alone:
        _findings(inventory, jobs=1)
    with pytest.raises(ArchiveError) as pooled:
        _findings(inventory, jobs=2)
    assert pooled.value.diagnostics() == alone.value.diagnostics()
    assert str(broken) in pooled.value.diagnostics()


def _in_worker() -> bool:
    return os.environ.get("WORMSIGN_TEST_PARENT") != str(os.getpid())


def crash_in_worker(shared: int, task: int) -> int:
    """Dies in a worker process on task 2; fine in the parent."""
    if task == 2 and _in_worker():
        os._exit(7)
    return shared * task


def test_a_task_whose_worker_died_is_run_again_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORMSIGN_TEST_PARENT", str(os.getpid()))
    done: list[int] = []
    assert run_tasks(crash_in_worker, 10, [1, 2, 3, 4, 5], 2, done.append) == [
        10,
        20,
        30,
        40,
        50,
    ]
    assert sorted(done) == [0, 1, 2, 3, 4]


def test_the_worker_module_runs_as_a_script() -> None:
    # no input at all: it ends at once and cleanly
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.infra.worker"],
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""


def pid_of_worker(shared: int, task: int) -> int:
    """The process that ran the task."""
    return os.getpid()


def test_tasks_run_in_other_processes_and_results_keep_their_order() -> None:
    pids = run_tasks(pid_of_worker, 0, list(range(20)), 2)
    assert len(pids) == 20
    assert os.getpid() not in pids  # no task fell back to this process
    assert 1 <= len(set(pids)) <= 2


def worker_flags(shared: int, task: int) -> tuple[int, int, bool]:
    """How the worker's interpreter was started, and whether `site` ran in it."""
    return sys.flags.no_site, sys.flags.isolated, "site" in sys.modules


def test_workers_run_no_site_hook_of_the_environment() -> None:
    # wormsign may run inside the environment it checks: a worker must not run that
    # environment's .pth lines or sitecustomize, so `site` never runs in a worker
    flags = run_tasks(worker_flags, 0, [1, 2, 3], 2)
    assert flags == [(1, 1, False)] * 3
