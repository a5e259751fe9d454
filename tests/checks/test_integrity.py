"""Integrity check over real environments built from real wheels in tmp_path."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.checks.integrity.check import check_wheel_record, count_hashable, run_integrity
from scanner.models import DistributionFile, Finding, Inventory, Lockfile, Severity
from scanner.options import ScanOptions
from scanner.sources.environment import collect_environment
from scanner.sources.requirements import parse_requirements
from tests.helpers.wheels import (
    install_wheel,
    make_site_packages,
    make_wheel,
    record_hash,
    refresh_record,
)

ALPHA_FILES = {
    "alpha/__init__.py": "from alpha.core import run\n",
    "alpha/core.py": "def run():\n    return 1\n",
    "alpha/data.txt": "payload-free data\n",
    "alpha-1.0.data/scripts/alpha-cli": "#!python\nimport alpha\n",
}


@dataclass
class World:
    """An environment, the wheelhouse it was installed from, and a lock with hashes."""

    site: Path
    wheelhouse: Path
    lock: Path
    options: ScanOptions

    def inventory(self, *, lock: bool = True, wheels: Iterable[Path] = ()) -> Inventory:
        lockfiles: tuple[Lockfile, ...] = (parse_requirements(self.lock),) if lock else ()
        dist_files = tuple(
            DistributionFile(
                path=w,
                kind="wheel",
                name=None,
                version=None,
                sha256=hashlib.sha256(w.read_bytes()).hexdigest(),
                size=w.stat().st_size,
            )
            for w in wheels
        )
        return Inventory(
            environments=(collect_environment(self.site),),
            lockfiles=lockfiles,
            distribution_files=dist_files,
        )

    def findings(self, **kwargs: object) -> list[Finding]:
        return list(run_integrity(self.inventory(**kwargs), self.options).findings)  # type: ignore[arg-type]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def world(tmp_path: Path) -> World:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    alpha = make_wheel(wheelhouse, "alpha", "1.0", ALPHA_FILES)
    beta = make_wheel(wheelhouse, "beta", "2.0", {"beta.py": "B = 2\n"})
    site = make_site_packages(tmp_path / "env")
    install_wheel(alpha, site)
    install_wheel(beta, site)
    lock = tmp_path / "project" / "requirements.txt"
    lock.parent.mkdir()
    lock.write_text(
        f"alpha==1.0 --hash=sha256:{sha256(alpha)}\n"
        f"beta==2.0 --hash=sha256:{sha256(beta)}\n"
        f"gamma==3.0 ; python_version < '3.0' --hash=sha256:{'0' * 64}\n"
    )
    options = ScanOptions(cache_dir=tmp_path / "cache", wheelhouses=(wheelhouse,))
    return World(site=site, wheelhouse=wheelhouse, lock=lock, options=options)


def rules(findings: Iterable[Finding]) -> set[tuple[str, Severity, str]]:
    return {(f.rule_id, f.severity, Path(f.path or "").name) for f in findings}


def test_untouched_environment_gives_no_findings(world: World) -> None:
    result = run_integrity(world.inventory(wheels=world.wheelhouse.glob("*.whl")), world.options)
    assert result.findings == ()
    # every installed file RECORD hashes; the wheels came with their sha256 already
    assert result.files_hashed == count_hashable(world.inventory()) == 11
    # a second run hits the cache and says the same; the two wheels are now found in the
    # wheelhouse and hashed
    again = run_integrity(world.inventory(), world.options)
    assert again.findings == () and again.files_hashed == result.files_hashed + 2


def test_modified_file_is_critical(world: World) -> None:
    (world.site / "alpha" / "core.py").write_text("import os; os.system('id')\n")
    found = world.findings()
    assert ("WS-INT-001", Severity.CRITICAL, "core.py") in rules(found)
    # the locked wheel disagrees too
    assert ("WS-INT-009", Severity.CRITICAL, "core.py") in rules(found)


def test_modified_file_is_caught_with_cache_and_same_size_and_mtime(world: World) -> None:
    target = world.site / "alpha" / "core.py"
    assert world.findings() == []  # fills the cache
    st = target.stat()
    target.write_text("def run():\n    return 2\n")  # same size
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back
    assert ("WS-INT-001", Severity.CRITICAL, "core.py") in rules(world.findings())


def test_rewritten_record_is_caught_through_the_locked_wheel(world: World) -> None:
    (world.site / "alpha" / "core.py").write_text("import os; os.system('id')\n")
    refresh_record(next(world.site.glob("alpha-1.0.dist-info")))
    found = world.findings()
    assert "WS-INT-001" not in {f.rule_id for f in found}  # the installed RECORD was forged
    assert ("WS-INT-009", Severity.CRITICAL, "core.py") in rules(found)


def test_forged_record_without_the_locked_wheel_is_not_caught_by_record_alone(
    world: World,
) -> None:
    (world.site / "alpha" / "core.py").write_text("import os\n")
    refresh_record(next(world.site.glob("alpha-1.0.dist-info")))
    for wheel in world.wheelhouse.glob("*.whl"):
        wheel.unlink()
    assert world.findings() == []  # why WS-INT-009 needs the wheel: documented limit


def test_injected_files(world: World) -> None:
    pkg = world.site / "alpha"
    (pkg / "evil.py").write_text("import os\n")
    (pkg / "notes.txt").write_text("hello\n")
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"\x00" * 16)
    (pkg / "__pycache__" / "gone.cpython-311.pyc").write_bytes(b"\x00" * 16)
    (pkg / "run.sh").write_text("#!/bin/sh\n")
    (pkg / "run.sh").chmod(0o755)
    (pkg / "linked").symlink_to("/etc")
    dist_info = next(world.site.glob("alpha-1.0.dist-info"))
    (dist_info / "entry_points.txt").write_text("[pytest11]\nx = alpha.evil\n")
    (dist_info / "REQUESTED").write_text("")
    found = rules(world.findings())
    assert {
        ("WS-INT-002", Severity.CRITICAL, "evil.py"),
        ("WS-INT-002", Severity.HIGH, "notes.txt"),
        ("WS-INT-002", Severity.LOW, "gone.cpython-311.pyc"),
        ("WS-INT-002", Severity.CRITICAL, "run.sh"),
        ("WS-INT-002", Severity.CRITICAL, "linked"),
        ("WS-INT-002", Severity.CRITICAL, "entry_points.txt"),
    } == found


def test_loose_files(world: World) -> None:
    (world.site / "evil.pth").write_text("import os; os.system('id')\n")
    (world.site / "sitecustomize.py").write_text("")
    (world.site / "stray.py").write_text("")
    assert rules(world.findings()) == {
        ("WS-INT-004", Severity.MEDIUM, "evil.pth"),
        ("WS-INT-004", Severity.MEDIUM, "sitecustomize.py"),
        ("WS-INT-004", Severity.LOW, "stray.py"),
    }


def test_record_missing_unparsable_and_escaping(world: World) -> None:
    beta_record = next(world.site.glob("beta-2.0.dist-info")) / "RECORD"
    beta_record.write_text("beta.py,sha256=###,1\n")
    alpha_record = next(world.site.glob("alpha-1.0.dist-info")) / "RECORD"
    with alpha_record.open("a") as fh:
        fh.write(f"../../../../../etc/passwd,{record_hash(b'x')},1\n")
    found = rules(world.findings(lock=False))
    assert ("WS-INT-003", Severity.HIGH, "beta-2.0.dist-info") in found
    assert ("WS-INT-003", Severity.CRITICAL, "RECORD") in found
    beta_record.unlink()
    assert any(
        f.rule_id == "WS-INT-003" and f.message.startswith("RECORD is missing")
        for f in world.findings(lock=False)
    )


def test_missing_and_unverifiable_files(world: World) -> None:
    (world.site / "alpha" / "data.txt").unlink()
    core = world.site / "alpha" / "core.py"
    core.unlink()
    core.symlink_to(world.site / "beta.py")
    found = rules(world.findings(lock=False))
    assert ("WS-INT-010", Severity.MEDIUM, "data.txt") in found
    assert ("WS-INT-011", Severity.HIGH, "core.py") in found


def test_environment_vs_lock(world: World, tmp_path: Path) -> None:
    extra = make_wheel(tmp_path, "stowaway", "0.1", {"stowaway/__init__.py": ""})
    install_wheel(extra, world.site)
    install_wheel(make_wheel(tmp_path, "pip", "24.0", {"pip/__init__.py": ""}), world.site)
    world.lock.write_text(world.lock.read_text().replace("beta==2.0", "beta==2.1") + "delta==1.0\n")
    found = world.findings()
    got = {(f.rule_id, f.severity, f.package) for f in found}
    assert ("WS-INT-007", Severity.HIGH, "stowaway") in got
    assert ("WS-INT-007", Severity.LOW, "pip") in got
    assert ("WS-INT-007", Severity.HIGH, "beta") in got
    assert ("WS-INT-008", Severity.MEDIUM, "delta") in got
    # gamma's marker (python_version < '3.0') does not apply to this environment
    assert not any(f.package == "gamma" for f in found)
    mismatch = next(f for f in found if f.package == "beta")
    assert mismatch.path == str(world.lock) and mismatch.line == 2


def test_local_version_label_satisfies_plain_pin(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "torchish", "2.4.0+cu121", {"torchish/__init__.py": ""})
    site = make_site_packages(tmp_path / "env")
    install_wheel(wheel, site)
    lock = tmp_path / "requirements.txt"
    lock.write_text("torchish==2.4.0\n")
    inv = Inventory(
        environments=(collect_environment(site),), lockfiles=(parse_requirements(lock),)
    )
    assert list(run_integrity(inv, ScanOptions(use_cache=False)).findings) == []
    lock.write_text("torchish==2.4.0+cpu\n")
    inv = Inventory(
        environments=(collect_environment(site),), lockfiles=(parse_requirements(lock),)
    )
    assert {f.rule_id for f in run_integrity(inv, ScanOptions(use_cache=False)).findings} == {
        "WS-INT-007"
    }


def test_artifact_vs_lock_hash(world: World) -> None:
    wheel = next(world.wheelhouse.glob("beta-*.whl"))
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("beta_extra.py", "x = 1\n")
    found = world.findings()
    assert ("WS-INT-006", Severity.CRITICAL, "requirements.txt") in rules(found)
    # a wheel that does not match its lock hash is never used as the reference
    assert not any(f.rule_id == "WS-INT-009" for f in found)


def test_artifact_next_to_the_lock_is_checked(world: World) -> None:
    wheel = next(world.wheelhouse.glob("alpha-*.whl"))
    copy = world.lock.parent / wheel.name
    shutil.copy(wheel, copy)
    copy.write_bytes(copy.read_bytes() + b"tampered")
    world.options = ScanOptions(cache_dir=world.options.cache_dir)
    assert ("WS-INT-006", Severity.CRITICAL, "requirements.txt") in rules(world.findings())


def rewrite_wheel(wheel: Path, change: dict[str, bytes]) -> None:
    """Replace or add members without touching the wheel's RECORD."""
    with zipfile.ZipFile(wheel) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members.update(change)
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_wheel_against_its_own_record(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "alpha", "1.0", ALPHA_FILES)
    assert list(check_wheel_record(wheel)) == []
    rewrite_wheel(
        wheel,
        {
            "alpha/core.py": b"import os\n",
            "alpha/hook.pth": b"import x\n",
            "alpha/readme.md": b"hi\n",
        },
    )
    found = {
        (f.rule_id, f.severity, f.path.rsplit("/", 1)[-1])
        for f in check_wheel_record(wheel)
        if f.path
    }
    assert found == {
        ("WS-INT-005", Severity.CRITICAL, "core.py"),
        ("WS-INT-005", Severity.CRITICAL, "hook.pth"),
        ("WS-INT-005", Severity.HIGH, "readme.md"),
    }


def test_wheel_without_record(tmp_path: Path) -> None:
    wheel = tmp_path / "bare-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("bare.py", "")
    [finding] = check_wheel_record(wheel)
    assert (finding.rule_id, finding.severity) == ("WS-INT-005", Severity.HIGH)


def test_wheels_in_the_inventory_are_checked(world: World) -> None:
    wheel = next(world.wheelhouse.glob("beta-*.whl"))
    rewrite_wheel(wheel, {"beta.py": b"B = 3\n"})
    found = run_integrity(world.inventory(lock=False, wheels=[wheel]), world.options).findings
    assert ("WS-INT-005", Severity.CRITICAL) in {(f.rule_id, f.severity) for f in found}


def test_unreadable_file_is_reported_not_raised(world: World) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    core = world.site / "alpha" / "core.py"
    core.chmod(0)
    try:
        found = rules(world.findings(lock=False))
    finally:
        core.chmod(0o644)
    assert ("WS-INT-011", Severity.HIGH, "core.py") in found


def test_no_cache_option_runs_without_a_cache_dir(world: World, tmp_path: Path) -> None:
    options = ScanOptions(use_cache=False, cache_dir=tmp_path / "never")
    assert run_integrity(world.inventory(), options).findings == ()
    assert not (tmp_path / "never").exists()


def test_injected_directories_and_listed_pycache(world: World, tmp_path: Path) -> None:
    # pip lists the bytecode it compiles (hashless); Python may add more next to it
    site = make_site_packages(tmp_path / "env2")
    wheel = make_wheel(tmp_path, "gamma", "1.0", {"gamma/__init__.py": "", "gamma/m.py": ""})
    dist_info = install_wheel(wheel, site)
    pycache = site / "gamma" / "__pycache__"
    pycache.mkdir()
    (pycache / "m.cpython-311.pyc").write_bytes(b"\0" * 16)
    with (dist_info / "RECORD").open("a") as fh:
        fh.write("gamma/__pycache__/m.cpython-311.pyc,,\n")
    (pycache / "m.cpython-311.opt-1.pyc").write_bytes(b"\0" * 16)  # source exists: fine
    (pycache / "x.cpython-311.pyc").write_bytes(b"\0" * 16)  # orphan
    nested = site / "gamma" / "sub" / "deeper"
    nested.mkdir(parents=True)
    (nested / "payload.py").write_text("import os\n")
    (site / "gamma" / "assets").mkdir()
    (site / "gamma" / "assets" / "a.bin").write_bytes(b"1")
    inventory = Inventory(environments=(collect_environment(site),))
    found = rules(run_integrity(inventory, ScanOptions(use_cache=False)).findings)
    assert found == {
        ("WS-INT-002", Severity.LOW, "x.cpython-311.pyc"),
        ("WS-INT-002", Severity.CRITICAL, "sub"),
        ("WS-INT-002", Severity.HIGH, "assets"),
    }


def test_symlinked_package_directory_is_critical(tmp_path: Path) -> None:
    site = make_site_packages(tmp_path / "env")
    wheel = make_wheel(tmp_path, "delta", "1.0", {"delta/__init__.py": "", "delta/sub/x.py": ""})
    install_wheel(wheel, site)
    real = tmp_path / "elsewhere"
    shutil.move(site / "delta" / "sub", real)
    (site / "delta" / "sub").symlink_to(real)
    inventory = Inventory(environments=(collect_environment(site),))
    found = run_integrity(inventory, ScanOptions(use_cache=False)).findings
    assert ("WS-INT-002", Severity.CRITICAL, "sub") in rules(found)


class _Index:
    """A PEP 691 JSON simple index on 127.0.0.1 serving the files of one directory."""

    def __init__(self, root: Path, *, corrupt: bool = False) -> None:
        import http.server
        import json
        import threading

        files = {p.name: p for p in root.glob("*.whl")}
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                index.requests.append(self.path)
                parts = self.path.strip("/").split("/")
                if parts[0] == "simple" and len(parts) == 2:
                    body = json.dumps(
                        {
                            "files": [
                                {
                                    "filename": n,
                                    "url": f"/files/{n}",
                                    "hashes": {"sha256": sha256(p)},
                                }
                                for n, p in files.items()
                                if n.startswith(parts[1] + "-")
                            ]
                        }
                    ).encode()
                elif parts[0] == "files" and parts[1] in files:
                    body = files[parts[1]].read_bytes() + (b"x" if corrupt else b"")
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.requests: list[str] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("corrupt", [False, True])
def test_locked_wheel_is_fetched_from_the_index_when_online(
    world: World, tmp_path: Path, corrupt: bool
) -> None:
    served = tmp_path / "served"
    shutil.move(world.wheelhouse, served)  # nothing at hand any more
    index = _Index(served, corrupt=corrupt)
    try:
        world.lock.write_text(f"--index-url {index.url}\n" + world.lock.read_text())
        (world.site / "alpha" / "core.py").write_text("import os; os.system('id')\n")
        refresh_record(next(world.site.glob("alpha-1.0.dist-info")))
        assert world.findings() == []  # offline, the forged RECORD goes unnoticed
        assert index.requests == []  # offline means offline
        online = ScanOptions(cache_dir=world.options.cache_dir, online=True)
        found = run_integrity(world.inventory(), online).findings
        assert any(r.startswith("/files/alpha-1.0-") for r in index.requests)
    finally:
        index.close()
    if corrupt:
        assert ("WS-INT-006", Severity.CRITICAL, "requirements.txt") in rules(found)
        assert not any(f.rule_id == "WS-INT-009" for f in found)
    else:
        assert ("WS-INT-009", Severity.CRITICAL, "core.py") in rules(found)
        # the verified wheel is kept in the cache and reused without the index
        assert world.options.cache_dir is not None
        assert list((world.options.cache_dir / "wheels").glob("*/alpha-1.0-*.whl"))
