"""Every real lock file of ../shared/data/lockfiles parses with the counts MANIFEST.md gives.

The corpus is real output of pip-compile, uv, Poetry, pipenv, PDM and conda-lock
from public projects. The one file that breaks its own spec (pipenv's
pylock.toml: one wheel name listed twice with different hashes) must be refused
with a one-line reason; conda environment files are not lock files and must be
refused as such.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from scanner.errors import SourceError
from scanner.models import Lockfile, PinKind, canonical
from scanner.sources.lockfiles import PARSERS, format_by_content, parse_lockfile
from tests.conftest import SHARED_DATA

MANIFEST = SHARED_DATA / "lockfiles" / "MANIFEST.md"
FORMAT_BY_FOLDER = {
    "requirements": "requirements",
    "poetry": "poetry",
    "uv": "uv",
    "pipfile": "pipfile",
    "pylock": "pylock",
    "pdm": "pdm",
    "conda": "conda-lock",
}
# Files that break their own format's spec, and what the refusal must say.
REFUSED = {
    "pylock/pypa_pipenv__pylock.toml": (
        "package 'pytz'",
        "is listed more than once",
        "different hashes",
    ),
}
# Where each format's package entries start, to check the line numbers given.
ENTRY_LINE = {
    "poetry": re.compile(r"^\[\[package\]\]$"),
    "uv": re.compile(r"^\[\[package\]\]$"),
    "pdm": re.compile(r"^\[\[package\]\]$"),
    "pylock": re.compile(r"^\[\[packages\]\]$"),
    "pipfile": re.compile(r'^\s*"[^"]+": \{$'),
    "conda-lock": re.compile(r"^- name: \S+$"),
    "requirements": re.compile(r"^[A-Za-z0-9]"),
}


@dataclass(frozen=True)
class Entry:
    """One row of MANIFEST.md."""

    path: str
    source_path: str
    kind: str
    packages: int
    hashes: str
    notes: str

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def is_environment_file(self) -> bool:
        return self.kind.startswith("environment.yml")

    @property
    def expected_format(self) -> str | None:
        return None if self.is_environment_file else FORMAT_BY_FOLDER[self.folder]


def manifest_entries() -> list[Entry]:
    if not MANIFEST.is_file():
        return []
    entries = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        path = re.match(r"`([^`]+)`", cells[0])
        source = re.match(r"`([^`]+)`", cells[2])
        assert path and source, line
        entries.append(
            Entry(
                path.group(1),
                source.group(1),
                cells[5],
                int(cells[6]),
                cells[7],
                " | ".join(cells[8:]),
            )
        )
    return entries


ENTRIES = manifest_entries()
LOCKS = [e for e in ENTRIES if not e.is_environment_file]
ENVIRONMENT_FILES = [e for e in ENTRIES if e.is_environment_file]
needs_corpus = pytest.mark.skipif(not ENTRIES, reason=f"lock corpus not found at {MANIFEST}")


def _ids(entries: list[Entry]) -> list[str]:
    return [e.path for e in entries]


@pytest.fixture(scope="session")
def requirements_layout(lock_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The requirements files at their source paths, one tree per project, so that
    `-r common.txt` finds its companion as it does in the project itself."""
    root = tmp_path_factory.mktemp("requirements-layout")
    for entry in ENTRIES:
        if entry.folder == "requirements":
            project = Path(entry.path).name.split("__", 1)[0]
            target = root / project / entry.source_path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(lock_corpus / entry.path, target)
    return root


def _located(entry: Entry, corpus: Path, layout: Path) -> Path:
    if entry.folder == "requirements":
        return layout / Path(entry.path).name.split("__", 1)[0] / entry.source_path
    return corpus / entry.path


def _own_packages(lockfile: Lockfile, path: Path) -> int:
    """Entries written in this file (a requirements file also returns its includes')."""
    return sum(1 for p in lockfile.packages if p.lockfile == path)


@needs_corpus
def test_manifest_covers_the_whole_corpus(lock_corpus: Path) -> None:
    on_disk = {
        str(p.relative_to(lock_corpus))
        for p in lock_corpus.rglob("*")
        if p.is_file() and "__LICENSE" not in p.name
    }
    assert on_disk == {e.path for e in ENTRIES}
    assert len(ENTRIES) == 37
    # The refusal list and the manifest agree on which file breaks its spec.
    flagged = {e.path for e in ENTRIES if "NON-CONFORMANT" in e.notes}
    assert flagged == set(REFUSED)


@needs_corpus
@pytest.mark.parametrize("entry", LOCKS, ids=_ids(LOCKS))
def test_lock_parses_with_manifest_count_or_is_refused(
    entry: Entry, lock_corpus: Path, requirements_layout: Path
) -> None:
    path = _located(entry, lock_corpus, requirements_layout)
    fmt = entry.expected_format
    assert fmt is not None
    if entry.path in REFUSED:
        with pytest.raises(SourceError) as info:
            parse_lockfile(path, fmt)
        line = info.value.diagnostics()
        assert "\n" not in line and str(path) in line
        for fragment in REFUSED[entry.path]:
            assert fragment in line
        return
    lockfile = parse_lockfile(path, fmt)
    assert lockfile.format == fmt
    if fmt == "conda-lock":
        options = dict(lockfile.options)
        pip = re.search(r"pip×(\d+)", entry.notes)
        pip_entries = int(pip.group(1)) if pip else 0
        # MANIFEST counts every `package:` entry, conda and pip, once per platform.
        assert int(options["pip-entries"]) == pip_entries
        assert int(options["conda-packages"]) + pip_entries == entry.packages
        # An independent count: every scalar a string, as written.
        data = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader)
        )
        distinct = {
            (canonical(p["name"]), p["version"]) for p in data["package"] if p["manager"] == "pip"
        }
        assert len(lockfile.packages) == len(distinct)
    else:
        assert _own_packages(lockfile, path) == entry.packages

    text_lines = path.read_text(encoding="utf-8").splitlines()
    for pkg in lockfile.packages:
        assert pkg.name == canonical(pkg.name)
        if pkg.lockfile != path:
            continue
        assert pkg.line is not None, pkg
        assert ENTRY_LINE[fmt].match(text_lines[pkg.line - 1]), (pkg.line, pkg.name)
        if pkg.kind is PinKind.PINNED:
            assert pkg.version
        if entry.hashes.startswith("yes") and pkg.kind is PinKind.PINNED:
            assert pkg.hashes, f"{pkg.name} {pkg.version} has no hash"


@needs_corpus
@pytest.mark.parametrize("entry", ENVIRONMENT_FILES, ids=_ids(ENVIRONMENT_FILES))
def test_environment_files_are_not_lock_files(entry: Entry, lock_corpus: Path) -> None:
    path = lock_corpus / entry.path
    assert format_by_content(path) is None
    with pytest.raises(SourceError) as info:
        parse_lockfile(path)
    assert "not a lock" in info.value.diagnostics()
    with pytest.raises(SourceError) as info:
        PARSERS["conda-lock"](path)
    assert "conda environment file" in info.value.diagnostics()


@needs_corpus
@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_format_is_recognised_by_content_under_a_neutral_name(
    entry: Entry, lock_corpus: Path, tmp_path: Path
) -> None:
    neutral = tmp_path / "input.data"
    shutil.copyfile(lock_corpus / entry.path, neutral)
    assert format_by_content(neutral) == entry.expected_format
    if entry.expected_format is None or entry.path in REFUSED:
        return
    if entry.folder == "requirements" and re.search(
        r"^-r", neutral.read_text(encoding="utf-8"), re.M
    ):
        return  # its includes are not next to the neutral copy
    lockfile = parse_lockfile(neutral)
    assert lockfile.format == entry.expected_format
    if entry.expected_format != "conda-lock":
        assert len(lockfile.packages) == entry.packages
