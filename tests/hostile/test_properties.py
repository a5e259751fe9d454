"""Malformed everything: for each parser the only outcomes are a result or the typed error.

Inputs are valid seeds mutated at the byte level and at the structure level (values
replaced by random JSON of another type, keys dropped, entries duplicated), plus raw
random bytes. Example counts stay small so the suite stays fast; `fuzz/` runs the same
parsers for as long as you like.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import struct
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.checks.advisories.database import AdvisoryDatabase, build_database
from scanner.checks.advisories.osv import match_version
from scanner.checks.interface import CheckContext
from scanner.checks.models.model_files import scan_model_file, validate_safetensors
from scanner.checks.models.pickle_scan import PickleScan, scan_pickle_bytes
from scanner.errors import ConfigError, ScannerError, SourceError
from scanner.models import Inventory, Lockfile
from scanner.options import ScanOptions
from scanner.policy import Config, load_config, parse_config
from scanner.sources.environment import collect_environment, parse_entry_points, parse_record
from scanner.sources.lockfiles import PARSERS, parse_lockfile
from tests.hostile.canaries import pickle_exec_proto0, pickle_exec_proto4, torch_zip
from tests.hostile.strategies import JSON, byte_mutations, perturbed, toml_document
from tests.sources.test_conda_lock import CONDA
from tests.sources.test_pdm import PDM
from tests.sources.test_pipfile import TEXT as PIPFILE
from tests.sources.test_poetry import V2 as POETRY
from tests.sources.test_pylock import PYLOCK
from tests.sources.test_uv import UV

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Examples per property: small by default so the suite stays fast; raise it by hand with
# WORMSIGN_EXAMPLES=5000 (fuzz/ is the place for long runs).
EXAMPLES = int(os.environ.get("WORMSIGN_EXAMPLES", "100"))
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

H = "a" * 64
REQUIREMENTS = (
    "--index-url https://pypi.org/simple\n--extra-index-url https://download.pytorch.org/whl\n"
    f"torch==2.4.0+cu121 --hash=sha256:{H} \\\n    --hash=sha256:{'b' * 64}\n"
    "numpy==1.26.4 ; python_version >= '3.10'\n-e git+https://github.com/x/y.git#egg=y\n"
    "requests[socks]>=2\n-r other.txt\n./local/pkg\nfoo @ https://files.example/foo-1.0.tar.gz\n"
)
SEEDS: dict[str, str] = {
    "requirements": REQUIREMENTS,
    "poetry": POETRY,
    "uv": UV,
    "pipfile": PIPFILE,
    "pylock": PYLOCK,
    "pdm": PDM,
    "conda-lock": CONDA,
}
TOML_FORMATS = ("poetry", "uv", "pylock", "pdm")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


@contextlib.contextmanager
def fresh_dir(root: Path) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def one_line(err: ScannerError) -> None:
    line = err.diagnostics()
    assert "\n" not in line and "\r" not in line
    assert line


def test_every_lock_format_has_a_seed() -> None:
    assert set(SEEDS) == set(PARSERS)


# -- lock files ---------------------------------------------------------------------------


def _structured(fmt: str, data: Any) -> str:
    if fmt in TOML_FORMATS:
        return toml_document(data if isinstance(data, dict) else {"root": data})
    if fmt == "pipfile":
        return json.dumps(data)
    if fmt == "conda-lock":
        return yaml.safe_dump(data)
    raise AssertionError(fmt)


def _load(fmt: str, text: str) -> Any:
    if fmt in TOML_FORMATS:
        return tomllib.loads(text)
    if fmt == "pipfile":
        return json.loads(text)
    return yaml.safe_load(text)


def _lock_outcome(path: Path, fmt: str | None) -> Lockfile | None:
    try:
        result = parse_lockfile(path, fmt)
    except SourceError as err:
        one_line(err)
        assert err.path == str(path)
        return None
    assert isinstance(result, Lockfile)
    return result


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@FAST
@given(data=st.data())
def test_lock_parser_bytes(fmt: str, workdir: Path, data: st.DataObject) -> None:
    blob = data.draw(byte_mutations(SEEDS[fmt].encode()) | st.binary(max_size=300))
    path = workdir / f"bytes-{fmt}.lock"
    path.write_bytes(blob)
    _lock_outcome(path, fmt)


@pytest.mark.parametrize("fmt", sorted(set(SEEDS) - {"requirements"}))
@FAST
@given(data=st.data())
def test_lock_parser_structure(fmt: str, workdir: Path, data: st.DataObject) -> None:
    tree = data.draw(perturbed(_load(fmt, SEEDS[fmt])))
    path = workdir / f"structure-{fmt}.lock"
    path.write_text(_structured(fmt, tree), encoding="utf-8", errors="surrogatepass")
    _lock_outcome(path, fmt)


@FAST
@given(blob=st.binary(max_size=400) | st.sampled_from([s.encode() for s in SEEDS.values()]))
def test_lock_format_sniffing(workdir: Path, blob: bytes) -> None:
    path = workdir / "some-file"
    path.write_bytes(blob)
    _lock_outcome(path, None)


# -- installed environments: RECORD, METADATA, entry points, .pth ---------------------------


RECORD = (
    f"demo/__init__.py,sha256={'A' * 43},12\ndemo/x.py,sha256={'_' * 43},0\n"
    "demo-1.0.dist-info/RECORD,,\n../../bin/demo,sha256=" + "-" * 43 + ",5\n"
)
METADATA = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nSummary: x\n\nlong text\n"
ENTRY_POINTS = "[console_scripts]\ndemo = demo:main\n[demo.plugins]\na = demo.a:b [extra]\n"
PTH = "import os; os.system('x')\n/abs/path\nrelative\n# comment\nimport sys\n"


@FAST
@given(
    text=st.text(max_size=300)
    | byte_mutations(RECORD.encode()).map(lambda b: b.decode("utf-8", "replace"))
)
def test_parse_record(text: str) -> None:
    try:
        entries = parse_record(text)
    except ValueError as err:  # parse_record's contract: the caller names the file
        assert str(err)
        return
    for e in entries:
        assert e.path and (e.sha256 is None or len(e.sha256) == 64)


@FAST
@given(
    text=st.text(max_size=300)
    | byte_mutations(ENTRY_POINTS.encode()).map(lambda b: b.decode("utf-8", "replace"))
)
def test_parse_entry_points_never_raises(text: str) -> None:
    for ep in parse_entry_points(text):
        assert isinstance(ep.value, str)


def _mutated_text(seed: str) -> st.SearchStrategy[bytes]:
    return byte_mutations(seed.encode()) | st.binary(max_size=200)


DIST_DIRS = [
    "demo-1.0.dist-info",
    "demo.dist-info",
    "-.dist-info",
    "demo-1.0-py3.egg-info",
    "..-...dist-info",
    "d\u00e9mo-1.0.dist-info",
    "demo-1.0.dist-info.dist-info",
]


@FAST
@given(
    dirname=st.sampled_from(DIST_DIRS),
    metadata=_mutated_text(METADATA),
    record=_mutated_text(RECORD),
    entry_points=_mutated_text(ENTRY_POINTS),
    pth=_mutated_text(PTH),
    egg_file=st.booleans(),
)
def test_environment_source_and_checks(
    workdir: Path,
    dirname: str,
    metadata: bytes,
    record: bytes,
    entry_points: bytes,
    pth: bytes,
    egg_file: bool,
) -> None:
    """A site-packages of malformed metadata: collected (or refused), then checked."""
    with fresh_dir(workdir) as root:
        site = root / "lib" / "python3.11" / "site-packages"
        meta = site / dirname
        if egg_file and dirname.endswith(".egg-info"):
            site.mkdir(parents=True)
            meta.write_bytes(metadata)
        else:
            meta.mkdir(parents=True)
            (meta / ("PKG-INFO" if dirname.endswith(".egg-info") else "METADATA")).write_bytes(
                metadata
            )
            (meta / "RECORD").write_bytes(record)
            (meta / "entry_points.txt").write_bytes(entry_points)
        (site / "demo").mkdir()
        (site / "demo" / "__init__.py").write_bytes(b"x = 1\n")
        (site / "evil.pth").write_bytes(pth)
        try:
            env = collect_environment(site)
        except SourceError as err:
            one_line(err)
            return
        inventory = Inventory(environments=(env,))
        options = ScanOptions(use_cache=False)
        for check in _environment_checks():
            _run_check(check, inventory, options)


def _run_check(check: Any, inventory: Inventory, options: ScanOptions) -> None:
    try:
        check(inventory, CheckContext(options))
    except ScannerError as err:
        one_line(err)


def _environment_checks() -> list[Any]:
    from scanner.checks.integrity.check import check_integrity

    checks: list[Any] = [check_integrity]
    try:
        from scanner.checks.heuristics.content import check_heuristics
    except ImportError:  # pragma: no cover - not in every build yet
        return checks
    return [*checks, check_heuristics]


@FAST
@given(pth=_mutated_text(PTH) | st.text(max_size=200).map(str.encode))
def test_pth_rules_never_raise(pth: bytes) -> None:
    heuristics = pytest.importorskip("scanner.checks.heuristics.check")
    view = heuristics.view_of_files(
        [("evil.pth", pth), ("sitecustomize.py", pth)], kind="installed"
    )
    for finding in heuristics.evaluate(view):
        assert finding.rule_id


# -- configuration ----------------------------------------------------------------------------


CONFIG = """\
fail-on = "medium"
checks = ["advisories", "integrity"]
offline = true
[[ignore]]
rule = "WS-PICKLE-001"
path = "models/*.pt"
reason = "vetted"
expires = 2099-03-01
[[allow]]
path = "models/a.pt"
sha256 = "%s"
reason = "ours"
[provenance]
require = "any"
""" % ("0" * 64)


@FAST
@given(data=st.data())
def test_config_file(workdir: Path, data: st.DataObject) -> None:
    path = workdir / "wormsign.toml"
    if data.draw(st.booleans()):
        path.write_bytes(data.draw(_mutated_text(CONFIG)))
    else:
        tree = data.draw(perturbed(tomllib.loads(CONFIG)))
        text = toml_document(tree if isinstance(tree, dict) else {"x": tree})
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        config = load_config(workdir, path)
    except ConfigError as err:
        one_line(err)
        return
    assert isinstance(config, Config)


@FAST
@given(
    table=st.dictionaries(
        st.sampled_from(
            [
                "fail-on",
                "checks",
                "offline",
                "online",
                "db",
                "ignore",
                "allow",
                "provenance",
                "models",
            ]
        ),
        JSON,
        max_size=5,
    )
)
def test_config_table(table: dict[str, Any]) -> None:
    try:
        parse_config(table, Path("wormsign.toml"))
    except ConfigError as err:
        one_line(err)


# -- OSV records -------------------------------------------------------------------------------


OSV = {
    "id": "PYSEC-2099-1",
    "modified": "2026-01-01T00:00:00Z",
    "published": "2025-01-01T00:00:00Z",
    "aliases": ["CVE-2099-1", "GHSA-xxxx-yyyy-zzzz"],
    "summary": "bad",
    "details": "worse",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Demo_Pkg"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]},
                {"type": "GIT", "events": [{"introduced": "abc"}]},
            ],
            "versions": ["1.0", "1.1", "2.6.0-cu124"],
            "database_specific": {"malicious": True},
        }
    ],
    "references": [{"type": "WEB", "url": "https://example.org"}],
}
VERSIONS = st.sampled_from(
    [
        "1.0",
        "1.1.0",
        "1.2",
        "0",
        "2.6.0-NA",
        "1.0+local",
        "v1",
        "",
        " ",
        "1!2.0",
        "1.0.post1.dev2",
        "9" * 40,
    ]
) | st.text(max_size=12)


@FAST
@given(records=st.lists(perturbed(OSV) | JSON, min_size=1, max_size=3), version=VERSIONS)
def test_osv_import_and_match(workdir: Path, records: list[Any], version: str) -> None:
    with fresh_dir(workdir) as root:
        raw = [(f"r{i}.json", json.dumps(r).encode()) for i, r in enumerate(records)]
        target = root / "osv.sqlite"
        try:
            build_database(iter(raw), target, source="hypothesis")
        except SourceError as err:
            one_line(err)
            return
        with AdvisoryDatabase(target) as db:
            for name in ("demo-pkg", "Demo_Pkg", ""):
                result = match_version(db.advisories_for(name), name, version)
                assert result is not None


@FAST
@given(blob=st.binary(max_size=300) | byte_mutations(json.dumps(OSV).encode()))
def test_osv_raw_bytes(workdir: Path, blob: bytes) -> None:
    with fresh_dir(workdir) as root:
        try:
            build_database(iter([("x.json", blob)]), root / "osv.sqlite", source="bytes")
        except SourceError as err:
            one_line(err)


# -- pickles and model files --------------------------------------------------------------------


PICKLES = [pickle.dumps({"a": [1, 2.5, "x", b"y", (None, True)]}, protocol=p) for p in range(6)]
PICKLES += [
    pickle_exec_proto0("print(1)"),
    pickle_exec_proto4("print(1)"),
    pickle.dumps(io.BytesIO, protocol=2),
    pickle.dumps(set(range(5)), protocol=4),
]


@FAST
@given(blob=st.sampled_from(PICKLES).flatmap(byte_mutations) | st.binary(max_size=200))
def test_pickle_scanner_never_raises(blob: bytes) -> None:
    scan = scan_pickle_bytes(blob)
    assert isinstance(scan, PickleScan)


def _safetensors(header: Any, buffer: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + buffer


SAFETENSORS_HEADER = {
    "__metadata__": {"format": "pt"},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b": {"dtype": "I8", "shape": [4], "data_offsets": [16, 20]},
}


@FAST
@given(header=perturbed(SAFETENSORS_HEADER), buffer=st.binary(max_size=40))
def test_safetensors_header(header: Any, buffer: bytes) -> None:
    data = _safetensors(header, buffer)
    problems = validate_safetensors(io.BytesIO(data), len(data))
    assert all(isinstance(p, str) for p in problems)


def _npy(header: str, body: bytes = b"") -> bytes:
    raw = header.encode("latin-1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw)) + raw + body


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


MODEL_SEEDS = [
    (".pt", torch_zip(PICKLES[4])),
    (".pkl", PICKLES[2]),
    (".npy", _npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n", PICKLES[3])),
    (
        ".npz",
        _zip(
            {
                "a.npy": _npy(
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 4
                )
            }
        ),
    ),
    (
        ".keras",
        _zip({"config.json": b'{"class_name": "Lambda", "config": {}}', "metadata.json": b"{}"}),
    ),
    (".safetensors", _safetensors(SAFETENSORS_HEADER, b"\0" * 20)),
    (".joblib", __import__("zlib").compress(PICKLES[4])),
]


@FAST
@given(seed=st.sampled_from(MODEL_SEEDS), data=st.data())
def test_model_files(workdir: Path, seed: tuple[str, bytes], data: st.DataObject) -> None:
    from scanner.checks.models.check import default_policy, judge_model

    suffix, blob = seed
    path = workdir / f"model{suffix}"
    path.write_bytes(data.draw(byte_mutations(blob)))
    try:
        model = scan_model_file(path)
    except SourceError as err:
        one_line(err)
        return
    for finding in judge_model(model, default_policy()):
        assert finding.rule_id
