"""PEP 792 project status from the JSON simple API, against a local index on 127.0.0.1."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from scanner.checks.advisories.check import check_advisories
from scanner.checks.advisories.settings import AdvisorySettings
from scanner.checks.interface import CheckContext
from scanner.errors import ServiceError
from scanner.infra.http import HttpClient
from scanner.infra.pypi import SIMPLE_JSON, ProjectState, PyPIJson
from scanner.models import Finding, Inventory, LockedPackage, Lockfile, PinKind, Severity
from scanner.options import ScanOptions
from tests.advisories.conftest import LocalServer


def simple(status: str | None, reason: str | None = None, files: int = 1) -> dict[str, Any]:
    """A JSON simple API project page (api-version 1.4), with PEP 792's marker."""
    page: dict[str, Any] = {
        "meta": {"api-version": "1.4"},
        "name": "demo",
        "files": [
            {"filename": f"demo-1.{i}.tar.gz", "url": "x", "hashes": {}} for i in range(files)
        ],
        "versions": [f"1.{i}" for i in range(files)],
    }
    if status is not None:
        page["project-status"] = {"status": status, **({"reason": reason} if reason else {})}
    return page


def serve_simple(server: LocalServer, name: str, page: dict[str, Any]) -> list[str]:
    """Serve a simple page for `name` only to clients that ask for the JSON form."""
    import json

    accepts: list[str] = []
    body = json.dumps(page).encode()

    def route(handler: BaseHTTPRequestHandler, _: bytes) -> None:
        accepts.append(handler.headers.get("Accept", ""))
        if SIMPLE_JSON not in handler.headers.get("Accept", ""):
            handler.send_response(406)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", SIMPLE_JSON)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.raw("GET", f"/simple/{name}/", route)
    return accepts


def test_states_from_the_simple_api(local_server: LocalServer) -> None:
    serve_simple(local_server, "active", simple(None))
    serve_simple(local_server, "gone-bad", simple("quarantined", "malware", files=0))
    serve_simple(local_server, "old", simple("archived"))
    serve_simple(local_server, "later", simple("deprecated", "use new-thing"))
    serve_simple(local_server, "future", simple("frozen"))
    pypi = PyPIJson(HttpClient("PyPI"), local_server.url)
    states = {n: pypi.project_status(n) for n in ("active", "gone-bad", "old", "later", "future")}
    assert {n: s.state if s else None for n, s in states.items()} == {
        "active": ProjectState.ACTIVE,
        "gone-bad": ProjectState.QUARANTINED,
        "old": ProjectState.ARCHIVED,
        "later": ProjectState.DEPRECATED,
        "future": None,  # a status this client does not know is no finding
    }
    assert states["gone-bad"] is not None and states["gone-bad"].reason == "malware"
    assert pypi.project_status("unknown-project") is None  # 404


@pytest.mark.parametrize(
    "page",
    [{"project-status": {"reason": "no status"}}, {"project-status": 3}, ["not", "a", "page"]],
    ids=["no-status", "not-a-table", "not-an-object"],
)
def test_a_malformed_status_fails_closed(local_server: LocalServer, page: Any) -> None:
    serve_simple(local_server, "demo", page)
    pypi = PyPIJson(HttpClient("PyPI"), local_server.url)
    with pytest.raises(ServiceError) as caught:
        pypi.project_status("demo")
    assert "/simple/demo/" in caught.value.diagnostics()


def lock(tmp_path: Path, *pins: tuple[str, str]) -> Inventory:
    path = tmp_path / "requirements.txt"
    packages = tuple(
        LockedPackage(name=n, version=v, kind=PinKind.PINNED, lockfile=path, line=i + 1)
        for i, (n, v) in enumerate(pins)
    )
    return Inventory(lockfiles=(Lockfile(path=path, format="requirements", packages=packages),))


def run(server: LocalServer, tmp_path: Path, inventory: Inventory) -> list[Finding]:
    server.json("POST", "/v1/querybatch", {"results": [{} for _ in inventory.locked_packages]})
    options = ScanOptions(
        online=True,
        cache_dir=tmp_path / "cache",
        advisories=AdvisorySettings(pypi_url=server.url, osv_api_url=server.url, http_timeout=5),
    )
    return list(check_advisories(inventory, CheckContext(options)).findings)


def test_a_quarantined_project_is_critical_beside_the_removed_release(
    local_server: LocalServer, tmp_path: Path
) -> None:
    # As PyPI does it: the project is quarantined, its JSON API page is gone (404).
    accepts = serve_simple(
        local_server, "mistralai", simple("quarantined", "compromised release 2.4.6", files=0)
    )
    serve_simple(local_server, "idna", simple(None))
    local_server.json(
        "GET", "/pypi/idna/json", {"releases": {"3.10": [{"filename": "idna-3.10.tar.gz"}]}}
    )
    findings = run(local_server, tmp_path, lock(tmp_path, ("mistralai", "2.4.6"), ("idna", "3.10")))
    by_rule = {f.rule_id: f for f in findings}
    assert set(by_rule) == {"WS-ADV-QUARANTINED", "WS-ADV-GONE"}
    quarantined = by_rule["WS-ADV-QUARANTINED"]
    assert quarantined.severity is Severity.CRITICAL
    assert (quarantined.package, quarantined.version, quarantined.line) == ("mistralai", "2.4.6", 1)
    assert "compromised release 2.4.6" in quarantined.message
    assert quarantined.references[0] == f"{local_server.url}/simple/mistralai/"
    assert by_rule["WS-ADV-GONE"].package == "mistralai"
    assert all(SIMPLE_JSON in a for a in accepts)


def test_archived_and_deprecated_are_low(local_server: LocalServer, tmp_path: Path) -> None:
    for name, status in (("old", "archived"), ("later", "deprecated")):
        serve_simple(local_server, name, simple(status))
        local_server.json(
            "GET", f"/pypi/{name}/json", {"releases": {"1.0": [{"filename": f"{name}.tar.gz"}]}}
        )
    findings = run(local_server, tmp_path, lock(tmp_path, ("old", "1.0"), ("later", "1.0")))
    assert {(f.rule_id, f.severity) for f in findings} == {
        ("WS-ADV-ARCHIVED", Severity.LOW),
        ("WS-ADV-DEPRECATED", Severity.LOW),
    }


def test_the_status_is_asked_once_per_project_and_cached(
    local_server: LocalServer, tmp_path: Path
) -> None:
    serve_simple(local_server, "old", simple("archived"))
    local_server.json(
        "GET", "/pypi/old/json", {"releases": {v: [{"filename": "f"}] for v in ("1.0", "2.0")}}
    )
    inventory = lock(tmp_path, ("old", "1.0"), ("old", "2.0"))
    first = run(local_server, tmp_path, inventory)
    assert [f.version for f in first if f.rule_id == "WS-ADV-ARCHIVED"] == ["1.0", "2.0"]
    asked = [p for _, p, _ in local_server.requests if p.startswith("/simple/")]
    assert asked == ["/simple/old/"]
    run(local_server, tmp_path, inventory)
    assert [p for _, p, _ in local_server.requests if p.startswith("/simple/")] == asked
