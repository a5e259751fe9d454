"""Network code against a local HTTP server on 127.0.0.1: downloads, OSV API, PyPI JSON."""

from __future__ import annotations

import json
import socket
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from scanner.checks.advisories.check import (
    check_advisories,
)
from scanner.checks.advisories.database import AdvisoryDatabase, update_database
from scanner.checks.advisories.osv_api import OsvApi, PackageQuery
from scanner.checks.advisories.settings import AdvisorySettings
from scanner.checks.interface import CheckContext
from scanner.errors import ServiceError
from scanner.infra.http import HttpClient, ResponseCache
from scanner.infra.pypi import PyPIJson, ReleaseState
from scanner.models import Inventory, LockedPackage, Lockfile, PinKind, Severity
from scanner.options import ScanOptions
from tests.advisories.conftest import LocalServer


def osv_record(rid: str, name: str, versions: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "modified": "2026-11-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": name}, "versions": versions}],
        **extra,
    }


def export_zip(path: Path, records: list[dict[str, Any]]) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for r in records:
            zf.writestr(f"{r['id']}.json", json.dumps(r))
    return path.read_bytes()


def serve_bytes(server: LocalServer, path: str, data: bytes, *, cut_at: int | None = None) -> None:
    def route(handler: BaseHTTPRequestHandler, _: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/zip")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if cut_at is None:
            handler.wfile.write(data)
            return
        handler.wfile.write(data[:cut_at])
        handler.wfile.flush()
        # The server dies mid-transfer: the connection is torn down after cut_at bytes.
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    server.raw("GET", path, route)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_download_of_an_export_zip(local_server: LocalServer, tmp_path: Path) -> None:
    data = export_zip(tmp_path / "all.zip", [osv_record("MAL-1", "evil", ["1.0"])])
    serve_bytes(local_server, "/PyPI/all.zip", data)
    summary = update_database(f"{local_server.url}/PyPI/all.zip", tmp_path / "db" / "osv.sqlite")
    assert summary.records == 1 and summary.source.endswith("/PyPI/all.zip")
    with AdvisoryDatabase(tmp_path / "db" / "osv.sqlite") as db:
        assert db.advisories_for("evil")[0].id == "MAL-1"


def test_server_dying_mid_download_keeps_the_previous_database(
    local_server: LocalServer, tmp_path: Path
) -> None:
    target = tmp_path / "db" / "osv.sqlite"
    old = export_zip(tmp_path / "old.zip", [osv_record("MAL-1", "evil", ["1.0"])])
    serve_bytes(local_server, "/old.zip", old)
    update_database(f"{local_server.url}/old.zip", target)
    before = target.read_bytes()

    new = export_zip(
        tmp_path / "new.zip", [osv_record(f"MAL-{i}", f"p{i}", ["1.0"]) for i in range(2, 400)]
    )
    serve_bytes(local_server, "/new.zip", new, cut_at=len(new) // 2)
    with pytest.raises(ServiceError) as info:
        update_database(f"{local_server.url}/new.zip", target)
    assert "/new.zip" in info.value.diagnostics()
    assert target.read_bytes() == before
    assert not [p for p in target.parent.iterdir() if p.name.endswith((".part", ".tmp"))]


def test_http_errors_and_unreachable_servers_are_service_errors(
    local_server: LocalServer, tmp_path: Path
) -> None:
    local_server.json("GET", "/boom.zip", {"error": "down"}, status=503)
    with pytest.raises(ServiceError, match="503"):
        update_database(f"{local_server.url}/boom.zip", tmp_path / "osv.sqlite")
    with pytest.raises(ServiceError, match="download failed"):
        update_database(f"{closed_port_url()}/all.zip", tmp_path / "osv.sqlite", timeout=5)
    assert not (tmp_path / "osv.sqlite").exists()


# -- OSV API ---------------------------------------------------------------------------------


def serve_osv(
    server: LocalServer,
    records: dict[str, dict[str, Any]],
    affected: dict[tuple[str, str], list[str]],
    page_size: int = 100,
) -> None:
    """A tiny OSV API: querybatch answers ids by (name, version), with paging."""

    def querybatch(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        results = []
        for q in json.loads(body)["queries"]:
            ids = affected.get((q["package"]["name"], q["version"]), [])
            start = int(q.get("page_token") or 0)
            page = ids[start : start + page_size]
            result: dict[str, Any] = {
                "vulns": [{"id": i, "modified": records[i]["modified"]} for i in page]
            }
            if start + page_size < len(ids):
                result["next_page_token"] = str(start + page_size)
            results.append(result)
        payload = json.dumps({"results": results}).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    server.raw("POST", "/v1/querybatch", querybatch)
    for rid, record in records.items():
        server.json("GET", f"/v1/vulns/{rid}", record)


def test_osv_querybatch_in_batches_with_paging(local_server: LocalServer) -> None:
    records = {
        "GHSA-aaaa": osv_record("GHSA-aaaa", "torch", ["2.5.1"], aliases=["CVE-2025-32434"]),
        "PYSEC-2025-41": osv_record(
            "PYSEC-2025-41", "torch", ["2.5.1"], aliases=["CVE-2025-32434", "GHSA-aaaa"]
        ),
        "PYSEC-3": osv_record("PYSEC-3", "mlflow", ["2.2.0"]),
    }
    serve_osv(
        local_server,
        records,
        {
            ("torch", "2.5.1"): ["GHSA-aaaa", "PYSEC-2025-41"],
            ("mlflow", "2.2.0"): ["PYSEC-3"],
        },
        page_size=1,
    )
    api = OsvApi(HttpClient("OSV"), local_server.url, batch_size=2)
    queries = [
        PackageQuery("torch", "2.5.1+cu121"),
        PackageQuery("mlflow", "2.2.0"),
        PackageQuery("requests", "2.32.4"),
    ]
    by_name = api.advisories(queries)
    assert {a.id for a in by_name["torch"]} == {"GHSA-aaaa", "PYSEC-2025-41"}
    assert {a.id for a in by_name["mlflow"]} == {"PYSEC-3"}
    posts = [json.loads(b) for m, p, b in local_server.requests if m == "POST"]
    assert len(posts[0]["queries"]) == 2  # batches of batch_size
    assert posts[0]["queries"][0]["version"] == "2.5.1"  # local label dropped for OSV
    assert any("page_token" in q for p in posts for q in p["queries"])


def test_osv_api_failures_are_service_errors(local_server: LocalServer) -> None:
    local_server.json("POST", "/v1/querybatch", {"results": []})  # wrong length
    with pytest.raises(ServiceError, match="wrong shape"):
        OsvApi(HttpClient("OSV"), local_server.url).advisories([PackageQuery("a", "1")])
    with pytest.raises(ServiceError, match="unreachable"):
        OsvApi(HttpClient("OSV", timeout=5), closed_port_url()).advisories([PackageQuery("a", "1")])


# -- PyPI JSON ---------------------------------------------------------------------------------


def pypi_file(yanked: bool = False, reason: str | None = None) -> dict[str, Any]:
    return {"filename": "x.whl", "yanked": yanked, "yanked_reason": reason}


def serve_pypi(server: LocalServer) -> None:
    server.json(
        "GET",
        "/pypi/lightning/json",
        {
            "info": {"name": "lightning"},
            "releases": {
                "2.6.0": [pypi_file()],
                "2.6.1": [pypi_file(), pypi_file(yanked=True)],
                # 2.6.2 and 2.6.3 were removed from the index after the compromise.
                "2.5.0": [pypi_file(yanked=True, reason="broken build"), pypi_file(yanked=True)],
                "2.4.0": [],
            },
        },
    )


def test_pypi_release_states(local_server: LocalServer) -> None:
    serve_pypi(local_server)
    pypi = PyPIJson(HttpClient("PyPI"), local_server.url)
    state = {
        v: pypi.release_status("lightning", v).state
        for v in ("2.6.0", "2.6.1", "2.6.3", "2.5.0", "2.4.0", "2.6")
    }
    assert state == {
        "2.6.0": ReleaseState.LISTED,
        "2.6.1": ReleaseState.LISTED,
        "2.6.3": ReleaseState.GONE,
        "2.5.0": ReleaseState.YANKED,
        "2.4.0": ReleaseState.NO_FILES,
        "2.6": ReleaseState.LISTED,
    }
    assert pypi.release_status("lightning", "2.5.0").yanked_reason == "broken build"
    assert pypi.release_status("nonexistent", "1.0").state is ReleaseState.NO_PROJECT


# -- the check, online ---------------------------------------------------------------------------


def lock_inventory(tmp_path: Path, pins: list[tuple[str, str, str | None]]) -> Inventory:
    lock = tmp_path / "requirements.txt"
    packages = tuple(
        LockedPackage(
            name=n, version=v, kind=PinKind.PINNED, lockfile=lock, line=i + 1, index=index
        )
        for i, (n, v, index) in enumerate(pins)
    )
    return Inventory(lockfiles=(Lockfile(path=lock, format="requirements", packages=packages),))


def online_options(server: LocalServer, tmp_path: Path, cache_ttl: float = 3600) -> ScanOptions:
    return ScanOptions(
        online=True,
        cache_dir=tmp_path / "cache",
        advisories=AdvisorySettings(
            pypi_url=server.url, osv_api_url=server.url, http_timeout=5, cache_ttl=cache_ttl
        ),
    )


def test_online_check_without_a_local_database(local_server: LocalServer, tmp_path: Path) -> None:
    records = {
        "GHSA-aaaa": osv_record(
            "GHSA-aaaa",
            "lightning",
            ["2.6.3"],
            aliases=["CVE-X"],
            summary="Malicious code in lightning (PyPI)",
        ),
        "PYSEC-9": osv_record("PYSEC-9", "lightning", ["2.6.3"], aliases=["GHSA-aaaa"]),
    }
    serve_osv(local_server, records, {("lightning", "2.6.3"): ["GHSA-aaaa", "PYSEC-9"]})
    serve_pypi(local_server)
    inv = lock_inventory(
        tmp_path,
        [
            ("lightning", "2.6.3", None),
            ("lightning", "2.5.0", "https://pypi.org/simple"),
            ("lightning", "2.6.0", None),
            ("torch", "2.4.0+cu121", "https://download.pytorch.org/whl/cu121"),
            ("private-pkg", "1.0", None),
        ],
    )
    local_server.json("GET", "/pypi/torch/json", {"releases": {}})
    findings = list(
        check_advisories(inv, CheckContext(online_options(local_server, tmp_path))).findings
    )

    mal = [f for f in findings if f.rule_id == "WS-ADV-MAL"]
    assert len(mal) == 1  # GHSA + PYSEC aliases: one finding
    assert mal[0].severity is Severity.CRITICAL and mal[0].line == 1
    assert set(mal[0].references[:2]) == {"GHSA-aaaa", "PYSEC-9"}

    gone = {(f.version, f.severity) for f in findings if f.rule_id == "WS-ADV-GONE"}
    assert gone == {("2.6.3", Severity.HIGH), ("2.5.0", Severity.HIGH), ("1.0", Severity.MEDIUM)}
    # torch+cu121 comes from the PyTorch index: PyPI is never asked about it.
    assert not any("/pypi/torch/" in p for _, p, _ in local_server.requests)
    yanked = next(f for f in findings if f.version == "2.5.0")
    assert "yanked" in yanked.message and "broken build" in (yanked.evidence or "")


def test_online_results_are_cached_with_a_ttl(local_server: LocalServer, tmp_path: Path) -> None:
    serve_osv(local_server, {}, {})
    serve_pypi(local_server)
    inv = lock_inventory(tmp_path, [("lightning", "2.6.0", None)])
    options = online_options(local_server, tmp_path)
    assert list(check_advisories(inv, CheckContext(options)).findings) == []
    first = len(local_server.requests)
    assert list(check_advisories(inv, CheckContext(options)).findings) == []
    assert len(local_server.requests) == first  # served from the disk cache
    expired = online_options(local_server, tmp_path, cache_ttl=1e-9)
    list(check_advisories(inv, CheckContext(expired)).findings)
    assert len(local_server.requests) == 2 * first


def test_online_network_failure_is_a_service_error(tmp_path: Path) -> None:
    url = closed_port_url()
    inv = lock_inventory(tmp_path, [("lightning", "2.6.0", None)])
    options = ScanOptions(
        online=True,
        cache_dir=tmp_path / "cache",
        advisories=AdvisorySettings(pypi_url=url, osv_api_url=url, http_timeout=5),
    )
    with pytest.raises(ServiceError) as info:
        list(check_advisories(inv, CheckContext(options)).findings)
    line = info.value.diagnostics()
    assert "unreachable" in line and "\n" not in line


def test_response_cache_survives_garbage(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, ttl=60)
    cache.put("k", {"a": 1})
    assert cache.get("k") == {"a": 1}
    next(tmp_path.rglob("*.json")).write_text("{broken")
    assert cache.get("k") is None
