"""scan-index under stress (issue 18): a run killed mid-way resumes, results stream as
shards finish, an existing Dask scheduler is used and left running, workers receive no
secrets, a manifest's sha256 is checked against the bytes, shards balance by bytes, the
store writes each verdict once and never an incomplete one."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import ScannerError
from scanner.infra.verdict_store import VerdictStore
from scanner.models import Severity
from scanner.options import ScanOptions
from scanner.scale.artifacts import Artifact, Job, Outcome, Shard
from scanner.scale.engines import Engine, make_engine
from scanner.scale.index_source import list_sources
from scanner.scale.run import rules_fingerprint, scan_artifacts
from scanner.scale.shards import make_shards
from scanner.scale.store import SharedStore
from scanner.verdicts import ContentFinding, Verdict
from tests.scale.conftest import Corpus, make_sdist
from tests.scale.test_scan_index import run

REPO = Path(__file__).resolve().parents[2]


class _Watch:
    """A real engine, watched: what it was sent, and the stream at each shard's end."""

    def __init__(self, inner: Engine, events: list[dict[str, object]] | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.workers = inner.workers
        self.events = events
        self.sent: list[bytes] = []
        self.streamed_before_next: list[tuple[int, int]] = []

    def map_shards(self, shards: Sequence[Shard], options: ScanOptions) -> Iterator[list[Outcome]]:
        self.sent.append(pickle.dumps((tuple(shards), options)))
        yielded = 0
        for outcomes in self.inner.map_shards(shards, options):
            yielded += len(outcomes)
            yield outcomes
            # the consumer has handled this shard: its lines are out before the next one
            if self.events is not None:
                fresh = [e for e in self.events if e["event"] == "verdict" and not e["cached"]]
                self.streamed_before_next.append((yielded, len(fresh)))

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> _Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _verdict_lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:  # the last line, cut by the kill
            continue
        if event.get("event") == "verdict":
            out.append(event)
    return out


def test_a_killed_run_resumes_judging_nothing_twice_and_losing_nothing(
    corpus: Corpus, tmp_path: Path
) -> None:
    """SIGKILL the whole process group (the command and its pool) mid-run, rerun."""
    (corpus.root / "more").mkdir()
    for i in range(30):  # enough work that the kill lands in the middle
        make_sdist(corpus.root / "more", f"extra{i}", "1.0", {"setup.py": f"X = {i}\n" * (i + 1)})
    store, jsonl = tmp_path / "store", tmp_path / "first.jsonl"
    common = ["--db", str(corpus.db), "--cache-dir", str(corpus.cache), "--store", str(store)]
    command = [sys.executable, "-m", "scanner", "scan-index", str(corpus.root), *common]
    command += ["--workers", "1", "--shard-size", "1", "--jsonl", str(jsonl)]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 120
        while len(_verdict_lines(jsonl)) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, "no verdict streamed in 120 s"
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    first = {str(e["sha256"]) for e in _verdict_lines(jsonl) if not e["cached"]}
    listed = list_sources((str(corpus.root),), None).artifacts
    unique = {a.sha256 for a in listed}
    assert 3 <= len(first) < len(unique)  # killed in the middle, lines streamed before

    code, out, err = _cli("scan-index", str(corpus.root), *common, "--workers", "1")
    assert code == 1, err
    second = [json.loads(line) for line in out.splitlines()]
    verdicts = [e for e in second if e["event"] == "verdict"]
    judged_again = {str(e["sha256"]) for e in verdicts if not e["cached"]}
    assert not first & judged_again  # nothing judged twice
    assert {str(e["sha256"]) for e in verdicts} == unique  # nothing lost
    assert all(e["complete"] for e in verdicts)
    # the resumed run reports what an uninterrupted one does
    reference = tmp_path / "reference.json"
    code_ref, _, _ = _cli(
        "scan-index",
        str(corpus.root),
        *common[:4],
        "--store",
        str(tmp_path / "fresh-store"),
        "--no-cache",
        "--workers",
        "1",
        "--format",
        "json",
        "-o",
        str(reference),
    )
    resumed = tmp_path / "resumed.json"
    _cli("scan-index", str(corpus.root), *common, "--format", "json", "-o", str(resumed))
    assert code_ref == 1
    ref_findings = json.loads(reference.read_text())["findings"]
    assert json.loads(resumed.read_text())["findings"] == ref_findings


def test_results_stream_as_each_shard_finishes(corpus: Corpus, tmp_path: Path) -> None:
    events: list[dict[str, object]] = []
    with make_engine("local", workers=2) as local:
        watch = _Watch(local, events)
        run(corpus, watch, tmp_path / "store", shard_size=2, events=events)
    assert len(watch.streamed_before_next) == 6  # 11 contents in shards of 2
    for judged, streamed in watch.streamed_before_next:
        assert streamed == judged  # every judged content is on the stream already
    assert events[0]["event"] == "plan"


def test_an_existing_dask_scheduler_is_used_and_left_running(
    corpus: Corpus, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address="127.0.0.1:0",
        silence_logs=40,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        common = ["--db", str(corpus.db), "--cache-dir", str(corpus.cache), "--format", "json"]
        report = tmp_path / "dask.json"
        code, out, err = _cli(
            "scan-index",
            str(corpus.root),
            *common,
            "--engine",
            "dask",
            "--scheduler",
            address,
            "--store",
            str(tmp_path / "s1"),
            "-o",
            str(report),
        )
        assert code == 1, err
        plan = json.loads(out.splitlines()[0])
        assert plan["engine"] == "dask" and plan["workers"] == 1
        with distributed.Client(address, timeout=10) as client:  # still up, still ours
            assert len(client.scheduler_info()["workers"]) == 1
    local_report = tmp_path / "local.json"
    code2, _, _ = _cli(
        "scan-index",
        str(corpus.root),
        *common,
        "--store",
        str(tmp_path / "s2"),
        "--workers",
        "1",
        "-o",
        str(local_report),
    )
    assert code2 == 1
    got = json.loads(report.read_text())["findings"]
    assert got and got == json.loads(local_report.read_text())["findings"]


def test_an_unreachable_scheduler_is_one_error_line() -> None:
    pytest.importorskip("distributed")
    from scanner.scale.engines.dask import DaskEngine

    with pytest.raises(ScannerError) as caught:
        DaskEngine(scheduler="tcp://127.0.0.1:1", connect_timeout=1)
    line = caught.value.diagnostics()
    assert line.startswith("tcp://127.0.0.1:1: cannot reach the Dask scheduler")
    assert "\n" not in line
    code, _out, err = _cli("scan-index", ".", "--engine", "dask", "--scheduler", "udp://x:1")
    assert code == 2 and err.count("\n") == 1 and "--scheduler udp://x:1" in err


SECRET = "s3cret-t0ken"


@pytest.fixture
def private_index(corpus: Corpus) -> Iterator[tuple[str, list[str | None]]]:
    """A PEP 691 index whose pages need basic auth (user `ci`, password SECRET); its
    files are served without (as from a CDN), as workers fetch them. Yields the index URL
    with the credentials, and the Authorization header of every file download."""
    wanted = "Basic " + base64.b64encode(f"ci:{SECRET}".encode()).decode()
    wheel = corpus.root / "evilpkg-1.0-py3-none-any.whl"
    data = wheel.read_bytes()
    entry = {
        "filename": wheel.name,
        "url": f"/files/{wheel.name}",
        "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
        "size": len(data),
    }
    pages = {
        "/simple/": {"meta": {"api-version": "1.0"}, "projects": [{"name": "evilpkg"}]},
        "/simple/evilpkg/": {"meta": {"api-version": "1.0"}, "name": "evilpkg", "files": [entry]},
    }
    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == f"/files/{wheel.name}":
                seen.append(self.headers.get("Authorization"))
                body, kind = data, "application/octet-stream"
            elif self.path in pages:
                if self.headers.get("Authorization") != wanted:
                    self.send_error(401)
                    return
                body, kind = json.dumps(pages[self.path]).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://ci:{SECRET}@127.0.0.1:{server.server_address[1]}/simple/", seen
    finally:
        server.shutdown()
        server.server_close()


def test_workers_receive_no_secrets(
    corpus: Corpus, private_index: tuple[str, list[str | None]], tmp_path: Path
) -> None:
    url, downloads = private_index
    listed = list_sources((url,), None)
    assert listed.errors == () and len(listed.artifacts) == 1
    options = corpus.options()
    store = SharedStore(tmp_path / "store", rules_fingerprint(options), None)
    with make_engine("local", workers=1) as local:
        watch = _Watch(local)
        result = scan_artifacts(
            listed.artifacts, options=options, engine=watch, store=store, targets=["index"]
        )
    assert result.errors == ()
    assert any(f.rule_id == "WS-OBF-001" for f in result.report.findings)
    (sent,) = watch.sent
    assert SECRET.encode() not in sent
    shards, worker_options = pickle.loads(sent)
    assert worker_options.db_path is None and worker_options.cache_dir is None
    assert not worker_options.online
    assert all("@" not in job.artifact.location for shard in shards for job in shard.jobs)
    assert SECRET not in json.dumps([f.path for f in result.report.findings])
    assert downloads == [None]  # the worker fetched the file without any credential

    code, out, err = _cli(
        "scan-index",
        url,
        "--db",
        str(corpus.db),
        "--cache-dir",
        str(corpus.cache),
        "--workers",
        "1",
        "--format",
        "json",
        "-o",
        str(tmp_path / "r.json"),
    )
    assert code == 1, err
    assert SECRET not in out + err + (tmp_path / "r.json").read_text()


def test_a_wrong_index_password_is_one_line_without_it(
    corpus: Corpus, private_index: tuple[str, list[str | None]]
) -> None:
    wrong = private_index[0].replace(SECRET, "nope-wrong")
    code, _out, err = _cli("scan-index", wrong, "--db", str(corpus.db), "--workers", "1")
    assert code == 3
    (line,) = [x for x in err.splitlines() if x.startswith("wormsign: error:")]
    assert "HTTP 401" in line and "nope-wrong" not in err
    assert "127.0.0.1" in line


def test_a_manifest_is_judged_and_its_sha256_checked_against_the_bytes(
    corpus: Corpus, tmp_path: Path
) -> None:
    evil = corpus.root / "evilpkg-1.0-py3-none-any.whl"
    plain = corpus.root / "helper0-1.0-py3-none-any.whl"
    evil_sha = hashlib.sha256(evil.read_bytes()).hexdigest()
    plain_sha = hashlib.sha256(plain.read_bytes()).hexdigest()
    manifest = corpus.root.parent / "registry.manifest"
    relative = os.path.relpath(evil, manifest.parent)
    manifest.write_text(
        f"{evil_sha} {evil.stat().st_size} {relative}\n"
        # lies: the evil wheel's address, and a made-up one, for the plain wheel's bytes
        f"{evil_sha} {plain.stat().st_size} {plain}\n"
        f"{'1' * 64} {plain.stat().st_size} {plain}\n"
    )
    options = corpus.options()
    store = tmp_path / "store"
    with make_engine("local", workers=1) as local:
        listed = list_sources((str(manifest),), None)
        assert listed.errors == () and len(listed.artifacts) == 3
        first = scan_artifacts(
            listed.artifacts,
            options=options,
            engine=local,
            store=SharedStore(store, rules_fingerprint(options), None),
            targets=[str(manifest)],
        )
        again = scan_artifacts(
            listed.artifacts,
            options=options,
            engine=local,
            store=SharedStore(store, rules_fingerprint(options), None),
            targets=[str(manifest)],
        )
    assert any(f.rule_id == "WS-OBF-001" for f in first.report.findings)
    assert len(first.errors) == 2
    assert all(plain_sha in e and str(plain) in e for e in first.errors)
    assert any(evil_sha in e for e in first.errors) and any("1" * 64 in e for e in first.errors)
    assert again.stats.judged == 2  # a lie is an error each time, never a verdict
    assert again.errors == first.errors
    stored = [p.name for p in store.rglob("*.json")]
    assert len(stored) == 1 and stored[0].startswith(evil_sha)


def _job(key: str, size: int) -> Job:
    artifact = Artifact(location=key, filename=f"{key}.whl", kind="wheel", sha256=key, size=size)
    return Job(key, artifact)


def test_shards_carry_several_artifacts_balanced_by_bytes_largest_first() -> None:
    sizes = [1000, 10, 900, 20, 500, 500, 30, 400, 1, 2, 3, 600]
    jobs = [_job(f"k{i:02d}", size) for i, size in enumerate(sizes)]
    shards = make_shards(jobs, per_shard=4)
    assert len(shards) == 3 and all(len(s.jobs) <= 4 for s in shards)
    assert sorted(j.key for s in shards for j in s.jobs) == sorted(j.key for j in jobs)
    totals = [s.size for s in shards]
    assert totals == sorted(totals, reverse=True)  # the largest shard starts first
    # balanced: cutting the sorted list into runs of 4 would give 3,000 / 930 / 36
    assert max(totals) <= 1.1 * sum(sizes) / len(totals)
    for shard in shards:
        inside = [j.artifact.size for j in shard.jobs]
        assert inside == sorted(inside, reverse=True)
    assert [s.index for s in shards] == [0, 1, 2]
    assert len(make_shards(jobs, per_shard=1)) == len(jobs)
    assert make_shards([], per_shard=64) == []


def test_the_store_writes_once_and_never_an_incomplete_verdict(tmp_path: Path) -> None:
    finding = ContentFinding(rule_id="WS-X", severity=Severity.HIGH, message="m")
    whole = Verdict(kind="scan-index", findings=(finding,), complete=True)
    partial = Verdict(kind="scan-index", findings=(), complete=False)
    sha_a, sha_b = "a" * 64, "b" * 64
    store = SharedStore(tmp_path / "s", "f" * 64, VerdictStore.open(tmp_path / "idx"))
    assert store.put_many([("ka", sha_a, whole), ("kb", sha_b, partial)]) == 1
    files = sorted(p for p in (tmp_path / "s").rglob("*") if p.is_file())
    assert [p.name for p in files] == [f"{sha_a}.ka.json"]
    assert files[0].parent.parent.name == "f" * 16  # under the rules fingerprint
    other = Verdict(kind="scan-index", findings=(), complete=True)
    store.put_many([("ka", sha_a, other)])  # a second writer: the first file stays
    assert Verdict.from_json(files[0].read_text()) == whole
    (files[0].parent / ".tmp-crashed").write_text("{")  # a writer killed mid-write
    store.close()
    fresh = SharedStore(tmp_path / "s", "f" * 64, None)
    assert fresh.get_many([("ka", sha_a), ("kb", sha_b)]) == {"ka": whole}
    assert SharedStore(tmp_path / "s", "e" * 64, None).get_many([("ka", sha_a)]) == {}
