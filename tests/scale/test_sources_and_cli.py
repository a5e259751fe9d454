"""scan-index inputs: a PEP 691 index on 127.0.0.1, manifests, fleet inventories, and
the command line's contract (streamed JSON Lines, report, exit codes, one-line errors)."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.infra.verdict_store import VerdictStore
from scanner.scale.engines import make_engine
from scanner.scale.fleet import inventory_lines, read_inventories
from scanner.scale.index_source import list_sources
from scanner.scale.run import rules_fingerprint, scan_artifacts
from scanner.scale.store import SharedStore
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel
from tests.scale.conftest import EVIL_INIT, Corpus

SIMPLE = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def index_server(corpus: Corpus) -> Iterator[str]:
    """A PEP 691 JSON simple index of the corpus's wheels and sdists on 127.0.0.1; the
    file `evilpkg` is listed with a wrong sha256 on purpose in project `tampered`."""
    files = sorted(p for p in corpus.root.glob("*") if p.name.endswith((".whl", ".tar.gz")))
    pages: dict[str, tuple[str, bytes]] = {}
    projects: dict[str, list[dict[str, object]]] = {}
    for path in files:
        project = path.name.split("-")[0]
        data = path.read_bytes()
        projects.setdefault(project, []).append(
            {
                "filename": path.name,
                "url": f"../../files/{path.name}",
                "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                "size": len(data),
            }
        )
        pages[f"/files/{path.name}"] = ("application/octet-stream", data)
    projects["tampered"] = [
        {
            "filename": "tampered-1.0-py3-none-any.whl",
            "url": "../../files/evilpkg-1.0-py3-none-any.whl",
            "hashes": {"sha256": "0" * 64},
        }
    ]
    root = {"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in projects]}
    pages["/simple/"] = (SIMPLE, json.dumps(root).encode())
    for name, entries in projects.items():
        body = {"meta": {"api-version": "1.0"}, "name": name, "files": entries}
        pages[f"/simple/{name}/"] = (SIMPLE, json.dumps(body).encode())

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = pages.get(self.path)
            if found is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", found[0])
            self.send_header("Content-Length", str(len(found[1])))
            self.end_headers()
            self.wfile.write(found[1])

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


def test_pep691_index_is_listed_fetched_and_checked_against_its_sha256(
    corpus: Corpus, index_server: str, tmp_path: Path
) -> None:
    listed = list_sources((index_server,), None)
    assert listed.errors == ()
    assert {a.filename for a in listed.artifacts} >= {"evilpkg-1.0-py3-none-any.whl"}
    assert all(a.location.startswith("http://127.0.0.1:") for a in listed.artifacts)
    options = corpus.options()
    store = SharedStore(tmp_path / "store", rules_fingerprint(options), None)
    with make_engine("local", workers=1) as engine:
        result = scan_artifacts(
            listed.artifacts, options=options, engine=engine, store=store, targets=[index_server]
        )
    evil = [f for f in result.report.findings if f.rule_id == "WS-OBF-001"]
    assert evil and evil[0].path is not None
    assert evil[0].path.startswith(index_server.replace("/simple/", "/files/evilpkg-1.0"))
    assert any("dropper" in (f.path or "") for f in result.report.findings)
    # the file served under a sha256 it does not have is an error, never judged as clean
    assert len(result.errors) == 1 and "differs from the index's" in result.errors[0]
    assert "0" * 64 in result.errors[0]


def _node(root: Path, wheels: list[Path]) -> Path:
    site = make_site_packages(root)
    for wheel in wheels:
        install_wheel(wheel, site)
    return root


def test_fleet_inventories_share_content_judged_once(corpus: Corpus, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    common = [
        make_wheel(wheels, f"lib{i}", "1.0", {f"lib{i}/__init__.py": f"X = {i}\n"})
        for i in range(5)
    ]
    evil = make_wheel(wheels, "evilpkg", "1.0", {"evilpkg/__init__.py": EVIL_INIT})
    node_a = _node(tmp_path / "node-a", common)
    node_b = _node(tmp_path / "node-b", [*common, evil])
    inventories = []
    for name, env in (("a", node_a), ("b", node_b)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(line + "\n" for line in inventory_lines(env, None, f"node-{name}")))
        inventories.append(path)
    artifacts, errors = read_inventories(inventories)
    assert errors == [] and len(artifacts) == 11
    options = corpus.options()
    store = SharedStore(
        tmp_path / "store", rules_fingerprint(options), VerdictStore.open(tmp_path / "idx")
    )
    events: list[dict[str, object]] = []
    with make_engine("local", workers=2) as engine:
        result = scan_artifacts(
            artifacts,
            options=options,
            engine=engine,
            store=store,
            targets=[str(p) for p in inventories],
            emit=events.append,
        )
        again = scan_artifacts(
            artifacts, options=options, engine=engine, store=store, targets=["again"]
        )
    store.close()
    assert result.errors == ()
    # 11 installed distributions listed, 6 distinct contents: each judged once
    assert (result.stats.listed, result.stats.unique, result.stats.judged) == (11, 6, 6)
    assert again.stats.judged == 0
    nodes = {e["node"]: e for e in events if e["event"] == "node"}
    assert nodes["node-a"]["blocked"] is False
    assert nodes["node-b"]["blocked"] is True
    assert {b["package"] for b in nodes["node-b"]["blocking"]} == {"evilpkg"}  # type: ignore[union-attr]


def test_fleet_content_changed_since_the_inventory_is_an_error(
    corpus: Corpus, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = make_wheel(wheels, "lib", "1.0", {"lib/__init__.py": "X = 1\n"})
    env = _node(tmp_path / "node", [wheel])
    inventory = tmp_path / "n.jsonl"
    inventory.write_text("".join(line + "\n" for line in inventory_lines(env, None, "n")))
    next(env.rglob("lib/__init__.py")).write_text(EVIL_INIT)  # swapped after the inventory
    artifacts, _ = read_inventories([inventory])
    options = corpus.options()
    store = SharedStore(tmp_path / "store", rules_fingerprint(options), None)
    with make_engine("local", workers=1) as engine:
        result = scan_artifacts(
            artifacts, options=options, engine=engine, store=store, targets=["n"]
        )
    assert len(result.errors) == 1 and "differ from the inventory" in result.errors[0]


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_streams_jsonl_writes_the_report_and_exits_1(corpus: Corpus, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    code, out, err = _cli(
        "scan-index",
        str(corpus.root),
        "--db",
        str(corpus.db),
        "--cache-dir",
        str(corpus.cache),
        "--workers",
        "1",
        "--format",
        "json",
        "-o",
        str(report),
    )
    assert code == 1, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["event"] == "plan" and events[0]["unique_sha256"] == 11
    assert sum(1 for e in events if e["event"] == "verdict") == 11
    data = json.loads(report.read_text())
    assert any(f["rule_id"] == "WS-OBF-001" for f in data["findings"])
    code2, out2, _ = _cli(
        "scan-index", str(corpus.root), "--db", str(corpus.db), "--cache-dir", str(corpus.cache)
    )
    assert code2 == 1
    assert all(json.loads(line).get("cached", True) for line in out2.splitlines())


def test_cli_bad_inputs_fail_closed_after_scanning_the_rest(corpus: Corpus, tmp_path: Path) -> None:
    whole = (corpus.root / "helper3-1.0-py3-none-any.whl").read_bytes()
    truncated = corpus.root / "cut-1.0-py3-none-any.whl"
    truncated.write_bytes(whole[: len(whole) // 3])
    manifest = tmp_path / "bad.manifest"
    manifest.write_bytes(b"\xff\xfe not a manifest\n")
    report = tmp_path / "report.json"
    code, _out, err = _cli(
        "scan-index",
        str(corpus.root),
        str(manifest),
        "--db",
        str(corpus.db),
        "--cache-dir",
        str(corpus.cache),
        "--workers",
        "1",
        "--format",
        "json",
        "-o",
        str(report),
    )
    assert code == 3
    lines = [line for line in err.splitlines() if line.startswith("wormsign: error:")]
    assert len(lines) == 2
    assert any(str(truncated) in line for line in lines)
    assert any(str(manifest) in line for line in lines)
    assert "Traceback" not in err
    data = json.loads(report.read_text())
    assert any(f["rule_id"] == "WS-OBF-001" for f in data["findings"])  # others still scanned


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _cli("scan-index")[0] == 2
    assert _cli("scan-index", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1")[0] == 2


def test_manifest_lines(corpus: Corpus, tmp_path: Path) -> None:
    wheel = corpus.root / "evilpkg-1.0-py3-none-any.whl"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    manifest = tmp_path / "m.txt"
    manifest.write_text(f"# sha256 size path\n{digest} {wheel.stat().st_size} {wheel}\n")
    listed = list_sources((str(manifest),), None)
    assert listed.errors == () and listed.artifacts[0].sha256 == digest
    manifest.write_text("nonsense\n")
    listed = list_sources((str(manifest),), None)
    assert len(listed.errors) == 1 and "line 1" in listed.errors[0]
