"""Shared test setup: no network in unit tests, real data located once."""

from __future__ import annotations

import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _blocked(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("unit tests must not touch the network (mark the test `online`)")


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections to anything but loopback unless the test is marked online."""
    if request.node.get_closest_marker("online"):
        return
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host in _LOOPBACK or host.startswith("/")):
            return real_connect(self, address)
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        _blocked()
        return None

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo(socket.getaddrinfo))


def _guarded_getaddrinfo(real: Any) -> Any:
    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (None, *_LOOPBACK):
            return real(host, *args, **kwargs)
        _blocked()
        return None

    return guarded


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data under ../shared/data, or skip."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def lock_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The real lock-file corpus, extracted once per session."""
    archive = SHARED_DATA / "lockfiles" / "corpus.tar.gz"
    if not archive.is_file():
        pytest.skip(f"lock corpus not found at {archive}")
    dest = tmp_path_factory.mktemp("lock-corpus")
    with tarfile.open(archive) as tf:
        tf.extractall(dest, filter="data")
    yield dest


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Caches and the default advisory database live in a per-session temporary directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


TINY_OSV_RECORD = """{"id": "MAL-2099-1", "modified": "2026-01-01T00:00:00Z",
 "summary": "Malicious code in evilpkg (PyPI)",
 "affected": [{"package": {"ecosystem": "PyPI", "name": "evilpkg"}, "versions": ["1.0"]}]}
"""


@pytest.fixture(scope="session")
def tiny_osv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-record OSV directory: `evilpkg==1.0` is known malicious."""
    path = tmp_path_factory.mktemp("tiny-osv")
    (path / "MAL-2099-1.json").write_text(TINY_OSV_RECORD)
    return path


SUBSET_PACKAGES = (
    "click",
    "urllib3",
    "idna",
    "requests",
    "certifi",
    "flask",
    "jinja2",
    "werkzeug",
    "mlflow",
    "fabrice",
    "setuptools",
    "aiohttp",
)


@pytest.fixture(scope="session")
def real_osv_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real OSV record (from ../shared/data/advisories/osv-pypi.zip, unchanged) of
    the packages in SUBSET_PACKAGES, as an OSV directory `--db` reads."""
    from tests.helpers.osv_subset import REAL_EXPORT_ZIP, write_osv_subset

    if not REAL_EXPORT_ZIP.is_file():
        pytest.skip(f"OSV export not found at {REAL_EXPORT_ZIP}")
    return write_osv_subset(SUBSET_PACKAGES, tmp_path_factory.mktemp("osv-subset"))
