"""PEP 751 lock files: `pylock.toml` and `pylock.<name>.toml`, lock-version 1.x.

A package comes from exactly one place: `vcs`, `directory`, `archive`, or an
index's `sdist` and/or `wheels`; the spec makes those mutually exclusive. Every
archive, sdist and wheel must carry `hashes`, and a wheel file name may appear
only once per package: an installer could not tell which of two differently
hashed files of one name to trust, so such a file is refused, not guessed at.
`attestation-identities` and `[tool]` tables are not read.
"""

from __future__ import annotations

from pathlib import Path

from scanner.models import LockedArtifact, LockedPackage, Lockfile, PinKind, canonical
from scanner.sources._tomlish import (
    Table,
    artifact,
    hashes_table,
    header_lines,
    lines_for,
    load_toml,
    unique,
)

_SUPPORTED_MAJOR = "1"
_EXCLUSIVE = ("vcs", "directory", "archive")


def _file(entry: Table, what: str) -> LockedArtifact:
    """One `archive`, `sdist` or `wheels` entry: hashes required, url or path."""
    location = entry.string("url") or entry.string("path")
    name = entry.string("name")
    if location is None and name is None:
        entry.fail(f"{what} has neither 'url' nor 'path'")
    hashes = hashes_table(entry.table("hashes"), entry)
    if not hashes:
        entry.fail(f"{what} {name or location!r} has no 'hashes' (required by PEP 751)")
    size = entry.integer("size")
    if size is not None and size < 0:
        entry.fail(f"{what} 'size' must not be negative ({size})")
    return artifact(name, location, hashes, size, entry.timestamp("upload-time"))


def _wheels(pkg: Table) -> list[LockedArtifact]:
    wheels = [_file(w, "wheel") for w in pkg.tables("wheels")]
    seen: dict[str, LockedArtifact] = {}
    for wheel in wheels:
        key = wheel.filename or ""
        if key in seen:
            differs = seen[key].hashes != wheel.hashes
            pkg.fail(
                f"wheel {key!r} is listed more than once"
                + (" with different hashes" if differs else "")
                + "; a lock must pin exactly one file per wheel name"
            )
        seen[key] = wheel
    return wheels


def _package(pkg: Table, path: Path, line: int | None) -> LockedPackage:
    raw_name = pkg.required_string("name")
    place = (f"line {line}: " if line else "") + f"package {raw_name!r}"
    pkg = pkg.at(place)
    version = pkg.string("version")
    present = [key for key in _EXCLUSIVE if key in pkg]
    has_dists = "sdist" in pkg or "wheels" in pkg
    if len(present) > 1 or (present and has_dists):
        found = [*present, *(k for k in ("sdist", "wheels") if k in pkg)]
        pkg.fail(
            f"has {' and '.join(found)}; PEP 751 makes vcs, directory, archive and "
            "sdist/wheels mutually exclusive"
        )
    source_url: str | None = None
    artifacts: list[LockedArtifact] = []
    if "vcs" in pkg:
        vcs = pkg.required_table("vcs", f"{place}: vcs")
        vcs_type = vcs.required_string("type")
        location = vcs.string("url") or vcs.string("path")
        if location is None:
            vcs.fail("has neither 'url' nor 'path'")
        commit = vcs.required_string("commit-id")
        source_url = f"{vcs_type}+{location}@{commit}"
        if sub := vcs.string("subdirectory"):
            source_url += f"#subdirectory={sub}"
        kind = PinKind.GIT
    elif "directory" in pkg:
        directory = pkg.required_table("directory", f"{place}: directory")
        source_url = directory.required_string("path")
        kind = PinKind.EDITABLE if directory.boolean("editable") else PinKind.DIRECTORY
    elif "archive" in pkg:
        archive = pkg.required_table("archive", f"{place}: archive")
        artifacts.append(_file(archive, "archive"))
        source_url = archive.string("url") or archive.string("path")
        kind = PinKind.URL if archive.string("url") else PinKind.PATH
    elif has_dists:
        sdist = pkg.table("sdist", f"{place}: sdist")
        if sdist is not None:
            artifacts.append(_file(sdist, "sdist"))
        artifacts.extend(_wheels(pkg))
        kind = PinKind.PINNED if version is not None else PinKind.URL
    else:
        pkg.fail("names no source: one of vcs, directory, archive, sdist or wheels is needed")
    index = pkg.string("index")
    return LockedPackage(
        name=canonical(raw_name),
        version=version,
        kind=kind,
        lockfile=path,
        line=line,
        index=index,
        markers=pkg.string("marker") or None,
        artifacts=tuple(artifacts),
        source_url=source_url,
        requirement=None if kind is PinKind.PINNED else f"{raw_name} @ {source_url}",
        # PEP 751: `dependencies` is an array of tables that identify the entries depended on.
        dependencies=tuple(
            dict.fromkeys(
                canonical(n) for dep in pkg.tables("dependencies") if (n := dep.string("name"))
            )
        ),
    )


def parse_pylock(path: Path) -> Lockfile:
    """Parse a PEP 751 pylock.toml file."""
    root, text = load_toml(path)
    lock_version = root.string("lock-version")
    if lock_version is None:
        root.fail("missing required key 'lock-version' (PEP 751)")
    if lock_version.split(".")[0] != _SUPPORTED_MAJOR:
        root.fail(f"unsupported lock-version {lock_version!r} (wormsign reads 1.x)")
    created_by = root.required_string("created-by")
    if "packages" not in root:
        root.fail("missing required array 'packages' (PEP 751)")
    raw_packages = root.tables("packages")
    lines = lines_for(len(raw_packages), header_lines(text, "packages"))
    packages: list[LockedPackage] = []
    for number, (pkg, line) in enumerate(zip(raw_packages, lines, strict=True), start=1):
        place = f"line {line}" if line else f"package #{number}"
        packages.append(_package(pkg.at(place), path, line))
    options = [("lock-version", lock_version), ("created-by", created_by)]
    options.extend(("environment", env) for env in root.strings("environments"))
    if requires_python := root.string("requires-python"):
        options.append(("requires-python", requires_python))
    indexes = unique([p.index for p in packages if p.index])
    return Lockfile(
        path=path,
        format="pylock",
        packages=tuple(packages),
        indexes=indexes,
        options=tuple(options),
    )
