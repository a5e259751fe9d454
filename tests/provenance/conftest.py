"""Fixtures for the provenance tests: real attestations, no network, a fake PyPI."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scanner.infra.hashing import sha256_file
from scanner.models import DistributionFile

ATTESTATIONS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "attestations"


@pytest.fixture
def assets() -> Path:
    """The real attestations and distributions (read-only; copy before changing)."""
    folder = ATTESTATIONS / "assets"
    if not folder.is_dir():
        pytest.skip(f"real attestations not found at {folder}")
    return folder


@pytest.fixture(autouse=True)
def sigstore_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point sigstore's TUF cache at an empty directory: it is seeded from the trust root
    bundled with sigstore, so tests verify against exactly that and never write to ~."""
    home = tmp_path / "sigstore-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    return home


@dataclass
class SocketLog:
    """Every connection attempt made while `no_sockets` was active."""

    attempts: list[Any] = field(default_factory=list)


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> SocketLog:
    """Refuse (and record) every connection and name lookup, loopback included."""
    log = SocketLog()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        log.attempts.append(args)
        raise OSError("network blocked by the provenance tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return log


def copy_dist(
    assets: Path, name: str, dest: Path, *, with_attestations: tuple[str, ...] = ()
) -> DistributionFile:
    """Copy a real distribution (and chosen attestation files) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / name
    shutil.copyfile(assets / name, target)
    for suffix in with_attestations:
        shutil.copyfile(assets / (name + suffix), dest / (name + suffix))
    return dist_file(target)


def dist_file(path: Path, name: str | None = None, version: str | None = None) -> DistributionFile:
    """A DistributionFile for a file on disk, hashed as a source would."""
    digest, size = sha256_file(path)
    kind = "wheel" if path.name.endswith(".whl") else "sdist"
    return DistributionFile(
        path=path, kind=kind, name=name, version=version, sha256=digest, size=size
    )


@dataclass
class FakePyPI:
    """A local HTTP server on 127.0.0.1 answering like PyPI's integrity and JSON APIs."""

    url: str
    routes: dict[str, tuple[int, bytes]]
    requests: list[str]


@pytest.fixture
def fake_pypi() -> Iterator[FakePyPI]:
    """Serve `routes` ({path: (status, body)}); anything else is a 404."""
    routes: dict[str, tuple[int, bytes]] = {}
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            status, body = routes.get(self.path, (404, b'{"message": "Not Found"}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield FakePyPI(f"http://127.0.0.1:{server.server_address[1]}", routes, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
