"""WS-TYPO-001 judged on evidence, not on the name alone: a near-popular name that an
established distribution declares as a dependency (in the same environment or lock)
passes; a look-alike that nothing established requires still blocks, whatever its
metadata claims. Environments are built from real wheels; locks are written in each
format that records dependency edges (uv, poetry, pdm, pylock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.checks.interface import CheckContext
from scanner.checks.metadata.check import TYPO_RULE, check_metadata, repository_of
from scanner.models import Finding, Severity
from scanner.sources.discover import collect
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel

H = "b" * 64


def _dist(
    tmp_path: Path,
    site: Path,
    name: str,
    requires: tuple[str, ...] = (),
    *,
    home: str | None = None,
    author: str | None = None,
) -> None:
    lines = [f"Requires-Dist: {r}\n" for r in requires]
    if home:
        lines.append(f"Project-URL: Source, {home}\n")
    if author:
        lines.append(f"Author-email: {author}\n")
    module = name.replace("-", "_")
    wheel = make_wheel(
        tmp_path, name, "1.0", {f"{module}/__init__.py": ""}, metadata_extra="".join(lines)
    )
    install_wheel(wheel, site)


def _typos(*targets: Path) -> list[Finding]:
    inventory = collect(list(targets))
    result = check_metadata(inventory, CheckContext())
    return [f for f in result.findings if f.rule_id == TYPO_RULE]


@pytest.fixture
def venv(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "venv"
    return root, make_site_packages(root)


# -- installed environments ------------------------------------------------------------


def test_dependency_of_an_established_distribution_passes(
    tmp_path: Path, venv: tuple[Path, Path]
) -> None:
    root, site = venv
    # huggingface_hub 2.x requires httpx2, which requires httpcore2 (both near httpx/httpcore)
    _dist(tmp_path, site, "huggingface-hub", ("httpx2<3,>=2.0.0", 'tqdm; extra == "cli"'))
    _dist(tmp_path, site, "httpx2", ("httpcore2==2.16.2; sys_platform != 'emscripten'",))
    _dist(tmp_path, site, "httpcore2", ("h11>=0.16",))
    assert _typos(root) == []


def test_the_same_names_with_nothing_established_requiring_them_block(
    tmp_path: Path, venv: tuple[Path, Path]
) -> None:
    root, site = venv
    _dist(tmp_path, site, "httpx2", ("httpcore2==2.16.2",))
    _dist(tmp_path, site, "httpcore2")
    found = {f.package: f for f in _typos(root)}
    assert set(found) == {"httpx2", "httpcore2"}
    assert all(f.severity is Severity.HIGH for f in found.values())
    assert "nothing here requires it" in found["httpx2"].message
    assert "required only by httpx2 1.0" in found["httpcore2"].message


def test_a_lookalike_required_by_an_unknown_package_still_blocks(
    tmp_path: Path, venv: tuple[Path, Path]
) -> None:
    root, site = venv
    # the attacker ships the requirer too: it is no established distribution
    _dist(tmp_path, site, "totally-useful-helper", ("reqeusts>=2",))
    _dist(tmp_path, site, "reqeusts")
    (finding,) = _typos(root)
    assert finding.package == "reqeusts" and finding.severity is Severity.HIGH
    assert "totally-useful-helper 1.0" in finding.message


def test_copied_metadata_is_reported_never_a_pass(tmp_path: Path, venv: tuple[Path, Path]) -> None:
    root, site = venv
    home, author = "https://github.com/psf/requests", "me@kennethreitz.org"
    _dist(tmp_path, site, "requests", home=home, author=author)
    _dist(tmp_path, site, "reqeusts", home=f"{home}/tree/main", author=author)
    (finding,) = _typos(root)
    assert finding.package == "reqeusts" and finding.severity is Severity.HIGH
    assert "github.com/psf/requests" in (finding.evidence or "")
    assert "names requests's own repository" in (finding.evidence or "")


def test_an_established_requirer_vouches_only_in_its_own_environment(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _dist(tmp_path, make_site_packages(first), "huggingface-hub", ("httpx2",))
    _dist(tmp_path, make_site_packages(second), "httpx2")
    found = _typos(first, second)
    assert [(f.package, Path(f.path or "").parents[3].name) for f in found] == [("httpx2", "b")]


def test_a_lookalike_requirer_vouches_for_nothing(tmp_path: Path, venv: tuple[Path, Path]) -> None:
    root, site = venv
    # reqeusts (a look-alike nobody established requires) cannot vouch for its own helper
    _dist(tmp_path, site, "reqeusts", ("httpx2",))
    _dist(tmp_path, site, "httpx2")
    assert sorted(f.package or "" for f in _typos(root)) == ["httpx2", "reqeusts"]


# -- lock files ------------------------------------------------------------------------


def _uv(deps_of_hub: str) -> str:
    return f"""\
version = 1
revision = 2
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [{{ name = "huggingface-hub" }}, {{ name = "reqeusts" }}]

[[package]]
name = "huggingface-hub"
version = "2.4.0"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [{deps_of_hub}]
wheels = [{{ url = "https://files.example/hub.whl", hash = "sha256:{H}" }}]

[[package]]
name = "httpx2"
version = "2.16.2"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [{{ name = "httpcore2" }}]
wheels = [{{ url = "https://files.example/httpx2.whl", hash = "sha256:{H}" }}]

[[package]]
name = "httpcore2"
version = "2.16.2"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://files.example/httpcore2.whl", hash = "sha256:{H}" }}]

[[package]]
name = "reqeusts"
version = "1.0"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://files.example/reqeusts.whl", hash = "sha256:{H}" }}]
"""


def _poetry(deps_of_hub: str) -> str:
    return f"""\
[[package]]
name = "huggingface-hub"
version = "2.4.0"
optional = false
python-versions = ">=3.10"
files = [{{file = "hub.whl", hash = "sha256:{H}"}}]

[package.dependencies]
{deps_of_hub}
filelock = "*"

[[package]]
name = "httpx2"
version = "2.16.2"
optional = false
python-versions = ">=3.11"
files = [{{file = "httpx2.whl", hash = "sha256:{H}"}}]

[package.dependencies]
httpcore2 = "2.16.2"

[[package]]
name = "httpcore2"
version = "2.16.2"
optional = false
python-versions = ">=3.11"
files = [{{file = "httpcore2.whl", hash = "sha256:{H}"}}]

[[package]]
name = "reqeusts"
version = "1.0"
optional = false
python-versions = "*"
files = [{{file = "reqeusts.whl", hash = "sha256:{H}"}}]

[metadata]
lock-version = "2.1"
python-versions = ">=3.11"
content-hash = "{H}"
"""


def _pdm(deps_of_hub: str) -> str:
    return f"""\
[metadata]
groups = ["default"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:{H}"

[[package]]
name = "huggingface-hub"
version = "2.4.0"
dependencies = [{deps_of_hub}]
files = [{{file = "hub.whl", hash = "sha256:{H}"}}]

[[package]]
name = "httpx2"
version = "2.16.2"
dependencies = ["httpcore2==2.16.2; sys_platform != \\"emscripten\\""]
files = [{{file = "httpx2.whl", hash = "sha256:{H}"}}]

[[package]]
name = "httpcore2"
version = "2.16.2"
files = [{{file = "httpcore2.whl", hash = "sha256:{H}"}}]

[[package]]
name = "reqeusts"
version = "1.0"
files = [{{file = "reqeusts.whl", hash = "sha256:{H}"}}]
"""


def _pylock(deps_of_hub: str) -> str:
    def entry(name: str, version: str, deps: str = "") -> str:
        return f"""
[[packages]]
name = "{name}"
version = "{version}"
index = "https://pypi.org/simple"
dependencies = [{deps}]
wheels = [{{ url = "https://files.example/{name}.whl", hashes = {{ sha256 = "{H}" }} }}]
"""

    return (
        'lock-version = "1.0"\ncreated-by = "hand"\n'
        + entry("huggingface-hub", "2.4.0", deps_of_hub)
        + entry("httpx2", "2.16.2", '{ name = "httpcore2" }')
        + entry("httpcore2", "2.16.2")
        + entry("reqeusts", "1.0")
    )


LOCKS = {
    "uv.lock": (_uv, '{ name = "httpx2" }, { name = "filelock" }', '{ name = "filelock" }'),
    "poetry.lock": (_poetry, 'httpx2 = ">=2.0.0,<3"', ""),
    "pdm.lock": (_pdm, '"httpx2<3,>=2.0.0", "filelock>=3.10"', '"filelock>=3.10"'),
    "pylock.toml": (_pylock, '{ name = "httpx2" }', ""),
}


@pytest.mark.parametrize("filename", sorted(LOCKS))
def test_lock_edges_vouch_like_requires_dist(tmp_path: Path, filename: str) -> None:
    make, with_edge, without_edge = LOCKS[filename]
    lock = tmp_path / "with" / filename
    lock.parent.mkdir()
    lock.write_text(make(with_edge), encoding="utf-8")
    # httpx2 and httpcore2 are vouched for by huggingface-hub; reqeusts, which only the
    # project itself (or nothing) asks for, is not
    assert [f.package for f in _typos(lock)] == ["reqeusts"]

    bare = tmp_path / "without" / filename
    bare.parent.mkdir()
    bare.write_text(make(without_edge), encoding="utf-8")
    assert sorted(f.package or "" for f in _typos(bare)) == ["httpcore2", "httpx2", "reqeusts"]


def test_repository_of() -> None:
    assert repository_of("https://github.com/Pydantic/httpx2/blob/main/x.md") == (
        "github.com/pydantic/httpx2"
    )
    assert repository_of("https://www.github.com/encode/httpx.git") == "github.com/encode/httpx"
    assert repository_of("https://www.encode.io/httpcore/") == "encode.io/httpcore"
    assert repository_of("UNKNOWN") is None
