"""Metadata check: typosquats, dependency confusion (offline and against a local PyPI),
sdist-only pins."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scanner.catalog import CatalogRule, load_catalog
from scanner.checks.interface import CheckContext
from scanner.checks.metadata.check import (
    CONFUSION_PUBLIC_RULE,
    CONFUSION_STRATEGY_RULE,
    CONFUSION_UNBOUND_RULE,
    CONFUSION_UNHASHED_RULE,
    SDIST_RULE,
    TYPO_RULE,
    TyposquatIndex,
    check_confusion_online,
    check_metadata,
    default_index,
    edit_distance,
    fetch_public_release,
    load_established_names,
    load_name_list,
    rules_dir,
    skeleton,
)
from scanner.checks.metadata.settings import MetadataSettings
from scanner.errors import RuleError, ServiceError, SourceError
from scanner.infra.pypi import pypi_client
from scanner.models import (
    DistributionFile,
    Environment,
    Finding,
    Hash,
    InstalledDistribution,
    Inventory,
    LockedArtifact,
    LockedPackage,
    Lockfile,
    PinKind,
    Severity,
    canonical,
)
from scanner.options import ScanOptions
from scanner.sources.lockfiles import parse_lockfile
from scanner.sources.requirements import parse_requirements

LOCK = Path("requirements.txt")
SHA = "a" * 64


def pin(
    name: str,
    version: str = "1.0",
    *,
    index: str | None = None,
    hashed: bool = True,
    kind: PinKind = PinKind.PINNED,
    files: tuple[str, ...] = ("x-1.0-py3-none-any.whl",),
    url: str | None = None,
) -> LockedPackage:
    artifacts = tuple(
        LockedArtifact(filename=f, url=url, hashes=(Hash("sha256", SHA),) if hashed else ())
        for f in files
    )
    return LockedPackage(
        name=name,
        version=version if kind is PinKind.PINNED else None,
        kind=kind,
        lockfile=LOCK,
        line=3,
        index=index,
        artifacts=artifacts,
    )


def lock(
    *packages: LockedPackage,
    fmt: str = "uv",
    indexes: tuple[str, ...] = (),
    options: tuple[tuple[str, str], ...] = (),
) -> Inventory:
    return Inventory(
        lockfiles=(
            Lockfile(path=LOCK, format=fmt, packages=packages, indexes=indexes, options=options),
        )
    )


def findings(inventory: Inventory) -> list[Finding]:
    return list(check_metadata(inventory, CheckContext(ScanOptions())).findings)


# --- typosquats -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "popular"),
    [
        ("pytorch-lightening", "pytorch-lightning"),
        ("torchvison", "torchvision"),
        ("transfomers", "transformers"),
        ("tensorfow", "tensorflow"),
        ("nump y", "numpy"),  # a space, invisible once read
        ("torch-vision", "torchvision"),  # a separator
        ("Torch_Vision", "torchvision"),
        ("t0rch", "torch"),  # a digit for a letter
        ("requеsts", "requests"),  # Cyrillic е
        ("hugginface-hub", "huggingface-hub"),
        ("sci-kit-learn", "scikit-learn"),
        ("boto33", "boto3"),
        ("trasnformers", "transformers"),  # two letters swapped
        ("py-torch", "pytorch"),
    ],
)
def test_typosquats_of_popular_names_are_found(name: str, popular: str) -> None:
    found = default_index().match(name)
    assert found is not None, name
    assert found.popular == popular


@pytest.mark.parametrize(
    "name",
    [
        "torch",
        "torchvision",
        "torchaudio",
        "torchtext",
        "torchdata",
        "numpy",
        "transformers",
        "pytorch-lightning",
        "lightning",
        "huggingface-hub",
        "Huggingface_Hub",
        "boto3",
        "botocore",
        # near a popular name, but among PyPI's most downloaded projects: established
        "psycopg-binary",
        "authlib",
        "dataset",
        "markdown2",
        "torch-summary",
        "fastai",
        # short names: one edit makes another word, never a squat by distance alone
        "six",
        "sip",
        "tox",
        "type",
        "tombi",
        # far from everything
        "my-internal-trainer",
        "zzzz",
        # family siblings and plugins
        "nvidia-cusparse-cu13",
        "jax-cuda13-plugin",
        "opt-einsum-fx",
        "x-transformers",
        "gsutil",  # a new first letter is another project (psutil)
    ],
)
def test_legitimate_names_are_not_flagged(name: str) -> None:
    assert default_index().match(name) is None


def test_a_name_on_the_list_is_never_flagged_even_if_close_to_another() -> None:
    index = TyposquatIndex(["torchtext", "torchtest"])
    assert index.match("torchtext") is None
    assert index.match("torchtest") is None
    assert index.match("torchtexts") is not None


def test_an_established_name_is_exempt_but_no_target() -> None:
    index = TyposquatIndex(["torchvision"], established=["Torch_VisionX", "mlflowpipes"])
    assert index.match("torch.visionx") is None  # canonicalised like any name
    assert index.match("torch-visionx") is None
    assert TyposquatIndex(["torchvision"]).match("torch-visionx") is not None
    # exact names only: another spelling is another project, still judged by distance
    assert index.match("torchvisionx") is not None
    # an established name is no popular name: a near-copy of it is not judged against it
    assert index.match("mlflowpipe") is None


@pytest.mark.parametrize(
    "name", ["psycopg-binary", "authlib", "markdownify", "torch-summary", "pbs-installer", "fastai"]
)
def test_established_near_neighbours_are_not_flagged_because_established(name: str) -> None:
    """Each of these is within reach of a popular name (psycopg2-binary, authlib ~ ...):
    the distance rule alone flags it, and only the established list exempts it."""
    index = default_index()
    assert name in load_established_names()
    assert TyposquatIndex(index.popular).match(name) is not None, name
    assert index.match(name) is None


@pytest.mark.parametrize(
    ("name", "popular"),
    [
        ("torchvison", "torchvision"),
        ("pytorch-lightening", "pytorch-lightning"),
        ("transfomers", "transformers"),
        ("numpyy", "numpy"),
        ("reqeusts", "requests"),
        ("deprecat", "deprecated"),  # a real project, but an obscure one: still within reach
    ],
)
def test_a_name_near_a_popular_one_and_not_established_is_flagged(name: str, popular: str) -> None:
    assert name not in load_established_names()
    found = default_index().match(name)
    assert found is not None and found.popular == popular


def test_shipped_established_list_is_a_generated_download_ranking() -> None:
    path = rules_dir() / "typosquat" / "established-names.txt"
    text = path.read_text(encoding="utf-8")
    assert "scripts/gen_established_names.py" in text and "Generated on " in text
    names = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(names) == len(set(names)) >= 10000
    assert all(name == canonical(name) for name in names)
    # most downloaded first: the head of the ranking is infrastructure everybody installs
    assert {"boto3", "urllib3", "certifi", "requests"} <= set(names[:50])
    assert set(names) == load_established_names()


def test_established_names_are_read_from_the_rules_dir_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "typosquat").mkdir()
    (tmp_path / "typosquat" / "popular-names.txt").write_text("torchvision\n")
    (tmp_path / "typosquat" / "established-names.txt").write_text("# ranked\ntorchvison\n")
    index = default_index(tmp_path)
    assert index.established == {"torchvison"}
    assert index.match("torchvison") is None
    assert index.match("torchvisio") is not None
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "typosquat").mkdir()
    (tmp_path / "other" / "typosquat" / "popular-names.txt").write_text("torchvision\n")
    with pytest.raises(RuleError, match="cannot read"):
        default_index(tmp_path / "other")


# --- scripts/gen_established_names.py ----------------------------------------------------


def _generator() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "gen_established_names.py"
    spec = importlib.util.spec_from_file_location("gen_established_names", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def _generated(tmp_path: Path, name: str, text: str, *args: str) -> list[str]:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "established-names.txt"
    assert _generator().main([str(source), "--output", str(out), *args]) == 0
    return out.read_text(encoding="utf-8").splitlines()


def test_generator_reads_a_ranked_tsv_in_rank_order(tmp_path: Path) -> None:
    tsv = (
        "name\tversion\tmonth\trank_among_15000_most_downloaded\tsummary\n"
        "Zope.Interface\t1\t2026-10\t3\tx\n"
        "unranked\t1\t2026-11\t\tnot among the most downloaded\n"
        "Boto3\t1\t2026-11\t1\tx\n"
        "requests\t1\t2025-01\t2\tx\n"
    )
    lines = _generated(tmp_path, "pypi.tsv", tsv)
    assert [line for line in lines if not line.startswith("#")] == [
        "boto3",
        "requests",
        "zope-interface",
    ]
    header = "\n".join(line for line in lines if line.startswith("#"))
    assert "pypi.tsv" in header and "releases up to 2026-11" in header
    assert "gen_established_names.py" in header and "Generated on " in header
    top_two = _generated(tmp_path, "pypi.tsv", tsv, "--top", "2")
    assert [line for line in top_two if not line.startswith("#")] == ["boto3", "requests"]


def test_generator_reads_top_pypi_packages_json_and_plain_lists(tmp_path: Path) -> None:
    document = {
        "last_update": "2026-11-01 07:00:00",
        "rows": [
            {"project": "numpy", "download_count": 50},
            {"project": "Boto3", "download_count": 900},
            {"project": "boto3", "download_count": 10},
            {"project": "six", "download_count": 70},
        ],
    }
    lines = _generated(tmp_path, "top.json", json.dumps(document))
    assert [line for line in lines if not line.startswith("#")] == ["boto3", "six", "numpy"]
    assert any("last_update 2026-11-01" in line for line in lines if line.startswith("#"))
    plain = _generated(tmp_path, "names.txt", "# most downloaded first\nBoto3\nsix  # x\n\n")
    assert [line for line in plain if not line.startswith("#")] == ["boto3", "six"]


def test_generator_refuses_what_is_no_ranking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": [{"name": "x"}]}')
    out = tmp_path / "out.txt"
    assert _generator().main([str(bad), "--output", str(out)]) == 1
    no_rank = tmp_path / "bad.tsv"
    no_rank.write_text("name\tversion\nx\t1\n")
    assert _generator().main([str(no_rank), "--output", str(out)]) == 1
    assert not out.exists()
    assert "no rank column" in capsys.readouterr().err


def test_edit_distance_counts_a_transposition_as_one() -> None:
    assert edit_distance("abcd", "abdc", 3) == 1
    assert edit_distance("kitten", "sitting", 5) == 3
    assert edit_distance("kitten", "sitting", 1) == 2  # capped at limit + 1
    assert edit_distance("", "abc", 5) == 3


def test_skeleton_folds_separators_and_lookalikes() -> None:
    assert skeleton("Py-Torch_Lightning.") == "pytorchlightning"
    assert skeleton("c0l0rama") == "colorama"
    assert skeleton("rnatplotlib") == "matplotlib"


def test_shipped_popular_list_holds_the_torch_family_and_no_duplicates() -> None:
    path = rules_dir() / "typosquat" / "popular-names.txt"
    names = [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(names) == len(set(names))
    assert len(names) >= 300
    assert {
        "torch",
        "torchvision",
        "torchaudio",
        "torchtext",
        "transformers",
        "numpy",
        "boto3",
        "requests",
        "urllib3",
        "cryptography",
        "colorama",
    } <= set(names)


def test_name_list_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load_name_list(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n")
    with pytest.raises(RuleError, match="empty") as err:
        load_name_list(empty)
    assert err.value.path == str(empty)


def test_typosquat_findings_in_locks_environments_and_files(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    inventory = Inventory(
        lockfiles=lock(pin("torchvison"), pin("torch")).lockfiles,
        environments=(
            Environment(
                site_packages=site,
                distributions=(
                    InstalledDistribution(
                        name="transfomers",
                        version="4.0",
                        metadata_dir=site / "m",
                        site_packages=site,
                        metadata_kind="dist-info",
                        record=(),
                    ),
                ),
            ),
        ),
        distribution_files=(
            DistributionFile(
                path=tmp_path / "tensorfow-1.0.tar.gz",
                kind="sdist",
                name="tensorfow",
                version="1.0",
                sha256=SHA,
                size=1,
            ),
        ),
    )
    typo = [f for f in findings(inventory) if f.rule_id == TYPO_RULE]
    assert sorted(str(f.package) for f in typo) == ["tensorfow", "torchvison", "transfomers"]
    assert all(f.severity is Severity.HIGH for f in typo)
    lock_finding = next(f for f in typo if f.package == "torchvison")
    assert lock_finding.path == str(LOCK) and lock_finding.line == 3
    assert "torchvision" in lock_finding.message


def test_url_and_path_entries_are_not_judged_by_name() -> None:
    inventory = lock(pin("torchvison", kind=PinKind.PATH), pin("transfomers", kind=PinKind.GIT))
    assert not [f for f in findings(inventory) if f.rule_id == TYPO_RULE]


def test_benign_lists_raise_no_typosquat(shared_data: Path) -> None:
    index = default_index()
    for listing in sorted((shared_data / "benign").glob("*.txt")):
        for line in listing.read_text().splitlines():
            name = line.split("==")[0].strip()
            if name and not name.startswith("#"):
                assert index.match(name) is None, (listing.name, name)


@pytest.fixture(scope="module")
def corpus_lockfiles(lock_corpus: Path) -> list[Lockfile]:
    """Every corpus file a parser accepts (environment.yml files and files whose -r
    includes were flattened away are refused by the parsers, and skipped here)."""
    parsed = []
    for path in sorted(p for p in lock_corpus.rglob("*") if p.is_file()):
        if "LICENSE" in path.name or path.suffix == ".md":
            continue
        try:
            parsed.append(parse_lockfile(path))
        except SourceError:
            continue
    return parsed


def test_real_lock_corpus_raises_no_typosquat(corpus_lockfiles: list[Lockfile]) -> None:
    parsed = corpus_lockfiles
    assert len(parsed) >= 10
    inventory = Inventory(lockfiles=tuple(parsed))
    assert len(inventory.locked_packages) > 1000
    typo = [f for f in findings(inventory) if f.rule_id == TYPO_RULE]
    assert typo == []


def test_real_lock_corpus_confusion_findings_only_where_indexes_mix(
    corpus_lockfiles: list[Lockfile],
) -> None:
    for lockfile in corpus_lockfiles:
        got = [
            f
            for f in findings(Inventory(lockfiles=(lockfile,)))
            if f.rule_id.startswith("WS-CONFUSION")
        ]
        # uv locks bind torch to download.pytorch.org with hashes: no finding.
        if lockfile.format == "uv":
            assert got == [], lockfile.path.name


# --- dependency confusion, offline -------------------------------------------------------


def test_requirements_with_extra_index_and_no_hashes_is_high(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(
        "--extra-index-url https://download.pytorch.org/whl/nightly/cu118\n"
        "torch==2.0.0.dev20221230\ntorchtriton==2.0.0\n"
    )
    got = findings(Inventory(lockfiles=(parse_requirements(req),)))
    high = [f for f in got if f.rule_id == CONFUSION_UNHASHED_RULE]
    assert sorted(str(f.package) for f in high) == ["torch", "torchtriton"]
    assert all(f.severity is Severity.HIGH for f in high)
    assert "download.pytorch.org" in (high[0].evidence or "")


def test_hashed_requirements_under_two_indexes_is_one_medium(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(
        "--extra-index-url https://download.pytorch.org/whl/cu121\n"
        f"torch==2.4.0 --hash=sha256:{SHA}\nnumpy==1.26.4 --hash=sha256:{SHA}\n"
    )
    got = [
        f
        for f in findings(Inventory(lockfiles=(parse_requirements(req),)))
        if f.rule_id.startswith("WS-CONFUSION")
    ]
    assert [f.rule_id for f in got] == [CONFUSION_UNBOUND_RULE]
    assert got[0].severity is Severity.MEDIUM
    assert "not which" in got[0].message and "numpy" in (got[0].evidence or "")


def test_single_index_is_no_confusion(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("--index-url https://pypi.org/simple\ntorch==2.4.0\n")
    assert not [
        f
        for f in findings(Inventory(lockfiles=(parse_requirements(req),)))
        if f.rule_id.startswith("WS-CONFUSION")
    ]


def test_same_index_spelled_twice_is_one_index() -> None:
    inventory = lock(
        pin("torch", hashed=False, index="https://PyPI.org/simple/"),
        fmt="requirements",
        indexes=("https://pypi.org/simple",),
    )
    assert not [f for f in findings(inventory) if f.rule_id.startswith("WS-CONFUSION")]


def test_uv_lock_bound_and_hashed_is_clean_but_unsafe_strategy_is_flagged() -> None:
    packages = (
        pin("torch", "2.7.0+cu128", index="https://download.pytorch.org/whl/cu128"),
        pin("numpy", index="https://pypi.org/simple"),
    )
    assert not [f for f in findings(lock(*packages)) if f.rule_id.startswith("WS-CONFUSION")]
    unsafe = findings(lock(*packages, options=(("index-strategy", "unsafe-best-match"),)))
    assert [f.rule_id for f in unsafe] == [CONFUSION_STRATEGY_RULE]
    assert unsafe[0].severity is Severity.MEDIUM


def test_unbound_entry_in_multi_index_lock_is_medium_and_unhashed_is_high() -> None:
    inventory = lock(
        pin("torch", index="https://download.pytorch.org/whl/cu128"),
        pin("numpy"),
        pin("tqdm", hashed=False, index="https://pypi.org/simple"),
        pin("scipy", kind=PinKind.UNPINNED, hashed=False),
        pin("mine", kind=PinKind.PATH, hashed=False),
        fmt="poetry",
    )
    got = {(f.rule_id, f.package) for f in findings(inventory)}
    assert (CONFUSION_UNHASHED_RULE, "tqdm") in got
    assert (CONFUSION_UNHASHED_RULE, "scipy") in got
    assert (CONFUSION_UNBOUND_RULE, None) in got
    assert not any(p in {"torch", "mine"} for r, p in got if r == CONFUSION_UNHASHED_RULE)


def test_find_links_count_as_a_second_source() -> None:
    inventory = Inventory(
        lockfiles=(
            Lockfile(
                path=LOCK,
                format="requirements",
                packages=(pin("torch", hashed=False),),
                indexes=("https://pypi.org/simple",),
                find_links=("https://example.org/wheels/",),
            ),
        )
    )
    assert [f.rule_id for f in findings(inventory)] == [CONFUSION_UNHASHED_RULE]


# --- dependency confusion, online against a local PyPI ------------------------------------

PUBLIC = {
    # the torchtriton shape: the public name never published the private version
    "torchtriton": {"3.0.0": [{"yanked": False}]},
    # a vendor that publishes to both indexes
    "torch": {"2.4.0": [{"yanked": False}], "2.9.1": [{"yanked": False}]},
    # only a yanked higher release
    "yanked-only": {"0.1.0": [{"yanked": False}], "9.0.0": [{"yanked": True}]},
    "broken": None,
}


class _PyPI(BaseHTTPRequestHandler):
    requests_seen: list[str] = []  # noqa: RUF012 - shared on purpose, reset per test

    def do_GET(self) -> None:
        _PyPI.requests_seen.append(self.path)
        name = self.path.removeprefix("/pypi/").removesuffix("/json")
        if name not in PUBLIC:
            self.send_error(404)
            return
        releases = PUBLIC[name]
        body = (
            b"not json"
            if releases is None
            else json.dumps({"info": {"name": name}, "releases": releases}).encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        del args


@pytest.fixture
def local_pypi() -> Iterator[str]:
    _PyPI.requests_seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PyPI)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


PRIVATE = "https://download.pytorch.org/whl/nightly/cu118"


def online(inventory: Inventory, url: str) -> list[Finding]:
    return list(
        check_confusion_online(
            inventory, ScanOptions(online=True, metadata=MetadataSettings(pypi_url=url))
        )
    )


def test_private_name_public_at_higher_version_is_critical(local_pypi: str) -> None:
    got = online(lock(pin("torchtriton", "2.0.0+0d7e753227", index=PRIVATE)), local_pypi)
    assert [f.rule_id for f in got] == [CONFUSION_PUBLIC_RULE]
    assert got[0].severity is Severity.CRITICAL
    assert "3.0.0" in got[0].message and "never published 2.0.0" in got[0].message


def test_vendor_publishing_the_same_release_publicly_is_not_critical(local_pypi: str) -> None:
    assert online(lock(pin("torch", "2.4.0+cu121", index=PRIVATE)), local_pypi) == []


def test_private_only_names_and_yanked_releases_are_fine(local_pypi: str) -> None:
    inventory = lock(
        pin("our-internal-lib", index=PRIVATE), pin("yanked-only", "0.1.0", index=PRIVATE)
    )
    assert online(inventory, local_pypi) == []


def test_pypi_names_are_not_queried(local_pypi: str) -> None:
    assert (
        online(lock(pin("torchtriton", index="https://pypi.org/simple"), pin("numpy")), local_pypi)
        == []
    )
    assert _PyPI.requests_seen == []


def test_private_artifact_url_counts_as_private_source(local_pypi: str) -> None:
    entry = pin("torchtriton", "2.0.0", url=f"{PRIVATE}/torchtriton-2.0.0-cp310-linux.whl")
    assert [f.rule_id for f in online(lock(entry), local_pypi)] == [CONFUSION_PUBLIC_RULE]


def test_each_name_is_queried_once(local_pypi: str) -> None:
    online(
        lock(pin("torchtriton", index=PRIVATE), pin("torchtriton", "1.0", index=PRIVATE)),
        local_pypi,
    )
    assert _PyPI.requests_seen == ["/pypi/torchtriton/json"]


def test_malformed_answer_and_unreachable_pypi_are_service_errors(local_pypi: str) -> None:
    client = pypi_client(local_pypi)
    with contextlib.closing(client), pytest.raises(ServiceError, match="not JSON"):
        fetch_public_release("broken", client)
    client = pypi_client("http://127.0.0.1:9")
    with contextlib.closing(client), pytest.raises(ServiceError, match="unreachable"):
        fetch_public_release("torch", client)


def test_check_metadata_goes_online_only_when_asked(local_pypi: str) -> None:
    inventory = lock(pin("torchtriton", "2.0.0", index=PRIVATE))
    offline = list(
        check_metadata(
            inventory, CheckContext(ScanOptions(metadata=MetadataSettings(pypi_url=local_pypi)))
        ).findings
    )
    assert CONFUSION_PUBLIC_RULE not in {f.rule_id for f in offline}
    assert _PyPI.requests_seen == []
    on = list(
        check_metadata(
            inventory,
            CheckContext(ScanOptions(online=True, metadata=MetadataSettings(pypi_url=local_pypi))),
        ).findings
    )
    assert CONFUSION_PUBLIC_RULE in {f.rule_id for f in on}


# --- sdist-only pins ------------------------------------------------------------------------


def test_sdist_only_pin_in_a_lock_with_wheels_is_low() -> None:
    inventory = lock(pin("numpy"), pin("oldlib", files=("oldlib-1.0.tar.gz",)))
    got = [f for f in findings(inventory) if f.rule_id == SDIST_RULE]
    assert [(f.package, f.severity) for f in got] == [("oldlib", Severity.LOW)]


def test_sdist_only_lock_without_any_wheel_is_not_flagged() -> None:
    inventory = lock(pin("a", files=("a-1.0.tar.gz",)), pin("b", files=("b-1.0.zip",)))
    assert not [f for f in findings(inventory) if f.rule_id == SDIST_RULE]


# --- the rule files' own examples ------------------------------------------------------------

METADATA_RULES = [r for r in load_catalog() if r.engine == "metadata"]


def test_every_rule_id_the_check_emits_is_catalogued() -> None:
    assert {r.id for r in METADATA_RULES} == {
        TYPO_RULE,
        CONFUSION_UNHASHED_RULE,
        CONFUSION_UNBOUND_RULE,
        CONFUSION_STRATEGY_RULE,
        CONFUSION_PUBLIC_RULE,
        SDIST_RULE,
    }


def _example_inventory(example: Mapping[str, Any], tmp_path: Path) -> Inventory:
    if "package" in example:
        return lock(pin(example["package"]))
    path = tmp_path / example["lock_name"]
    path.write_text(example["lock"], encoding="utf-8")
    return Inventory(lockfiles=(parse_lockfile(path),))


@pytest.mark.parametrize("rule", METADATA_RULES, ids=lambda r: r.id)
def test_rule_file_examples(
    rule: CatalogRule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rule.examples, "every metadata rule can be shown by example"
    for n, example in enumerate(rule.examples):
        inventory = _example_inventory(example, tmp_path)
        public = example.get("public")
        if public is not None:
            for name, versions in public.items():
                monkeypatch.setitem(PUBLIC, name, {v: [{"yanked": False}] for v in versions})
            server = ThreadingHTTPServer(("127.0.0.1", 0), _PyPI)
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            try:
                url = f"http://127.0.0.1:{server.server_address[1]}"
                got = list(
                    check_metadata(
                        inventory,
                        CheckContext(
                            ScanOptions(online=True, metadata=MetadataSettings(pypi_url=url))
                        ),
                    ).findings
                )
            finally:
                server.shutdown()
                server.server_close()
                thread.join()
        else:
            got = list(check_metadata(inventory, CheckContext(ScanOptions())).findings)
        hits = [f for f in got if f.rule_id == rule.id]
        assert bool(hits) == (example["expect"] == "match"), (n, example.get("note"), got)
        assert all(f.severity is rule.severity for f in hits)
