"""Fixtures for the advisory tests: the real OSV export imported once, a local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scanner.checks.advisories.database import AdvisoryDatabase, build_database, iter_source
from tests.conftest import SHARED_DATA

REAL_EXPORT = SHARED_DATA / "advisories" / "osv-pypi.zip"


@dataclass
class RealDb:
    """The real export, imported once per session (it takes several seconds)."""

    path: Path
    seconds: float
    records: int
    db: AdvisoryDatabase


@pytest.fixture(scope="session")
def real_export() -> Path:
    """The real OSV PyPI export, or skip."""
    if not REAL_EXPORT.is_file():
        pytest.skip(f"real OSV export not found at {REAL_EXPORT}")
    return REAL_EXPORT


@pytest.fixture(scope="session")
def real_db(real_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealDb]:
    """The whole real export in SQLite (session-scoped: ~6-7 s to import)."""
    target = tmp_path_factory.mktemp("osv-real") / "osv.sqlite"
    start = time.perf_counter()
    summary = build_database(iter_source(real_export), target, source=str(real_export))
    seconds = time.perf_counter() - start
    db = AdvisoryDatabase(target)
    yield RealDb(path=target, seconds=seconds, records=summary.records, db=db)
    db.close()


Route = Callable[[BaseHTTPRequestHandler, bytes], None]


@dataclass
class LocalServer:
    """An HTTP server on 127.0.0.1 whose answers the test sets per (method, path)."""

    url: str
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)

    def json(self, method: str, path: str, payload: Any, status: int = 200) -> None:
        """Answer (method, path) with a JSON document."""
        body = json.dumps(payload).encode()

        def route(handler: BaseHTTPRequestHandler, _: bytes) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[(method, path)] = route

    def raw(self, method: str, path: str, route: Route) -> None:
        """Answer (method, path) with a custom handler."""
        self.routes[(method, path)] = route


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A throwaway HTTP server on 127.0.0.1; unknown paths get 404."""
    state = LocalServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append((method, self.path, body))
            route = state.routes.get((method, self.path))
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            route(self, body)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
