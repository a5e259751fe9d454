"""Release age online: a local PyPI on 127.0.0.1 serving PEP 700 upload times for the
formats that record none (poetry.lock, requirements files) and installed environments."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scanner.checks.freshness.check import assess_inventory
from scanner.checks.freshness.settings import FreshnessSettings
from scanner.errors import ServiceError
from scanner.models import Environment, InstalledDistribution, Inventory
from scanner.options import ScanOptions
from scanner.sources.lockfiles import parse_lockfile
from tests.advisories.conftest import LocalServer, local_server  # noqa: F401  (fixture)

AS_OF = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
POETRY = "poetry/python-poetry_poetry__poetry.lock"
ANYIO_WHEEL = "anyio-4.13.0-py3-none-any.whl"
ANYIO_SDIST = "anyio-4.13.0.tar.gz"
ANYIO_SDIST_SHA = "334b70e641fd2221c1505b3890c69882fe4a2df910cba14d97019b90b24439dc"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pypi_file(filename: str, uploaded: datetime, sha256: str = "00" * 32) -> dict[str, Any]:
    return {
        "filename": filename,
        "upload_time": uploaded.strftime("%Y-%m-%dT%H:%M:%S"),
        "upload_time_iso_8601": iso(uploaded),
        "digests": {"sha256": sha256},
        "yanked": False,
    }


def serve(server: LocalServer, name: str, releases: dict[str, list[dict[str, Any]]]) -> None:
    server.json("GET", f"/pypi/{name}/json", {"info": {"name": name}, "releases": releases})


def online(server: LocalServer, cache: Path | None = None, age: str = "P3D") -> ScanOptions:
    from scanner.checks.freshness.duration import parse_duration

    return ScanOptions(
        online=True,
        use_cache=cache is not None,
        cache_dir=cache,
        as_of=AS_OF,
        freshness=FreshnessSettings(
            min_age=parse_duration(age), pypi_url=server.url, http_timeout=5
        ),
    )


def poetry_inventory(lock_corpus: Path, tmp_path: Path) -> Inventory:
    lock = tmp_path / "poetry.lock"
    shutil.copyfile(lock_corpus / POETRY, lock)
    return Inventory(lockfiles=(parse_lockfile(lock),))


def test_a_real_poetry_lock_is_dated_by_pypi(
    lock_corpus: Path,
    tmp_path: Path,
    local_server: LocalServer,  # noqa: F811
) -> None:
    serve(
        local_server,
        "anyio",
        {
            "4.12.0": [pypi_file("anyio-4.12.0.tar.gz", AS_OF - timedelta(days=90))],
            "4.13.0": [
                pypi_file(ANYIO_WHEEL, AS_OF - timedelta(hours=9)),
                pypi_file(ANYIO_SDIST, AS_OF - timedelta(hours=9, minutes=1), ANYIO_SDIST_SHA),
            ],
        },
    )
    serve(local_server, "certifi", {"2026.1.4": [pypi_file("x.whl", AS_OF - timedelta(days=30))]})
    result = assess_inventory(poetry_inventory(lock_corpus, tmp_path), online(local_server))
    [finding] = result.findings
    assert (finding.package, finding.version) == ("anyio", "4.13.0")
    assert "uploaded 9 hours ago" in finding.message and ANYIO_WHEEL in finding.message
    assert "from PyPI" in (finding.evidence or "")
    # Every other package is unknown to this PyPI: their age is unknown, and said so.
    [note] = result.notes
    assert note.startswith("age unknown: PyPI gives no upload time for ")
    assert ("GET", "/pypi/anyio/json", b"") in local_server.requests


def test_a_hash_only_pin_is_matched_by_sha256(
    tmp_path: Path,
    local_server: LocalServer,  # noqa: F811
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(f"anyio==4.13.0 --hash=sha256:{ANYIO_SDIST_SHA}\n", encoding="utf-8")
    serve(
        local_server,
        "anyio",
        {
            "4.13.0": [
                pypi_file(ANYIO_WHEEL, AS_OF - timedelta(days=20)),
                pypi_file(ANYIO_SDIST, AS_OF - timedelta(hours=2), ANYIO_SDIST_SHA),
            ]
        },
    )
    inventory = Inventory(lockfiles=(parse_lockfile(req),))
    [finding] = assess_inventory(inventory, online(local_server)).findings
    assert ANYIO_SDIST in finding.message and "2 hours ago" in finding.message


def test_an_installed_distribution_is_dated_by_its_release(
    tmp_path: Path,
    local_server: LocalServer,  # noqa: F811
) -> None:
    site = tmp_path / "site-packages"
    dist = InstalledDistribution(
        name="mistralai",
        version="2.4.6",
        metadata_dir=site / "mistralai-2.4.6.dist-info",
        site_packages=site,
        metadata_kind="dist-info",
        record=(),
    )
    old = InstalledDistribution(
        name="idna",
        version="3.10",
        metadata_dir=site / "idna-3.10.dist-info",
        site_packages=site,
        metadata_kind="dist-info",
        record=(),
    )
    serve(
        local_server,
        "mistralai",
        {
            "2.4.5": [pypi_file("mistralai-2.4.5.tar.gz", AS_OF - timedelta(days=40))],
            "2.4.6": [
                pypi_file("mistralai-2.4.6-py3-none-any.whl", AS_OF - timedelta(hours=3)),
                pypi_file("mistralai-2.4.6.tar.gz", AS_OF - timedelta(hours=2)),
            ],
        },
    )
    serve(
        local_server,
        "idna",
        {"3.10": [pypi_file("idna-3.10-py3-none-any.whl", AS_OF - timedelta(days=400))]},
    )
    inventory = Inventory(environments=(Environment(site, (dist, old)),))
    result = assess_inventory(inventory, online(local_server))
    [finding] = result.findings
    assert finding.package == "mistralai" and finding.path == str(dist.metadata_dir)
    # The release's first upload stands for it: the installed file is not named.
    assert "3 hours ago" in finding.message
    assert "PyPI (first file)" in (finding.evidence or "")
    assert result.notes == ()


def test_answers_are_cached(
    lock_corpus: Path,
    tmp_path: Path,
    local_server: LocalServer,  # noqa: F811
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(f"anyio==4.13.0 --hash=sha256:{ANYIO_SDIST_SHA}\n", encoding="utf-8")
    serve(local_server, "anyio", {"4.13.0": [pypi_file(ANYIO_SDIST, AS_OF, ANYIO_SDIST_SHA)]})
    inventory = Inventory(lockfiles=(parse_lockfile(req),))
    cache = tmp_path / "cache"
    first = assess_inventory(inventory, online(local_server, cache))
    second = assess_inventory(inventory, online(local_server, cache))
    assert first.findings == second.findings and len(first.findings) == 1
    assert len(local_server.requests) == 1


def test_another_index_is_not_asked(
    tmp_path: Path,
    local_server: LocalServer,  # noqa: F811
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(
        "--index-url https://download.pytorch.org/whl/cu121\n"
        f"torch==2.4.0+cu121 --hash=sha256:{'1' * 64}\n",
        encoding="utf-8",
    )
    result = assess_inventory(Inventory(lockfiles=(parse_lockfile(req),)), online(local_server))
    assert result.findings == ()
    [note] = result.notes
    assert "another index than PyPI" in note and "torch 2.4.0+cu121" in note
    assert local_server.requests == []


def test_a_failing_index_fails_the_scan_closed(
    tmp_path: Path,
    local_server: LocalServer,  # noqa: F811
) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text(f"anyio==4.13.0 --hash=sha256:{ANYIO_SDIST_SHA}\n", encoding="utf-8")
    local_server.json("GET", "/pypi/anyio/json", {"message": "down"}, status=503)
    with pytest.raises(ServiceError, match="HTTP 503"):
        assess_inventory(Inventory(lockfiles=(parse_lockfile(req),)), online(local_server))
