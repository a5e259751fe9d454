"""poetry.lock: lock-version 1.x (hashes in `[metadata.files]`) and 2.x (per-package `files`).

A package without `[package.source]` comes from PyPI. `[package.source]` types:
`legacy` (a named index: the package is still pinned, from that URL), `git`, `url`
(a direct archive), `directory` (`develop = true` means editable) and `file` (a
local archive). Poetry records which extras a package offers, not which were
asked for; the extras requested of a package are gathered from the dependency
tables of the packages that depend on it.
"""

from __future__ import annotations

from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from scanner.infra.pypi import PYPI_SIMPLE_URL
from scanner.models import LockedArtifact, LockedPackage, Lockfile, PinKind, canonical
from scanner.sources._tomlish import (
    Table,
    artifact,
    header_lines,
    lines_for,
    load_toml,
    parse_hash,
    unique,
)

_SUPPORTED_MAJORS = ("1", "2")


def _files(entries: list[Table]) -> tuple[LockedArtifact, ...]:
    out: list[LockedArtifact] = []
    for entry in entries:
        digest = entry.string("hash")
        out.append(
            artifact(
                entry.string("file"),
                entry.string("url"),
                (parse_hash(digest, entry),) if digest else (),
            )
        )
    return tuple(out)


def _file_version(filename: str | None) -> Version | None:
    """The version a wheel or sdist file name carries, where it parses."""
    if not filename:
        return None
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def _same_version(filename: str | None, version: str) -> bool:
    found = _file_version(filename)
    try:
        return found is not None and found == Version(version)
    except InvalidVersion:
        return False


def _legacy_files(root: Table) -> dict[str, list[Table]]:
    """lock-version 1.x: `[metadata.files]` maps each name to the files of all its versions."""
    metadata = root.table("metadata", "[metadata]")
    files = metadata.table("files", "[metadata.files]") if metadata else None
    if files is None:
        return {}
    return {canonical(name): files.tables(name) for name in files.names()}


def _markers(pkg: Table) -> str | None:
    raw = pkg.raw("markers")
    if raw is None or isinstance(raw, str):
        return raw or None
    # Poetry 2 writes one marker per group when they differ: the package is
    # needed wherever any of them holds.
    per_group = pkg.wrap(raw, "markers")
    parts = [f"({value})" for _, value in per_group.items() if isinstance(value, str) and value]
    if len(parts) != len(per_group.names()):
        pkg.fail("'markers' must be a string or a table of strings")
    return " or ".join(parts) if parts else None


def _requested_extras(packages: list[Table]) -> dict[str, set[str]]:
    """Canonical name -> extras some locked package asks of it."""
    wanted: dict[str, set[str]] = {}
    for pkg in packages:
        deps = pkg.table("dependencies", f"package {pkg.raw('name')!r}: [package.dependencies]")
        if deps is None:
            continue
        for dep_name, spec in deps.items():
            specs = spec if isinstance(spec, list) else [spec]
            for one in specs:
                if isinstance(one, str):
                    continue
                constraint = deps.wrap(one, dep_name)
                extras = constraint.strings("extras")
                if extras:
                    wanted.setdefault(canonical(dep_name), set()).update(extras)
    return wanted


def _source(
    pkg: Table, name: str, version: str, develop: bool
) -> tuple[PinKind, str | None, str | None]:
    """(kind, index URL, source URL) from `[package.source]`."""
    source = pkg.table("source")
    if source is None:
        return PinKind.PINNED, PYPI_SIMPLE_URL, None
    kind = source.required_string("type")
    url = source.required_string("url")
    if kind == "legacy":
        return PinKind.PINNED, url, None
    if kind == "git":
        ref = source.string("resolved_reference") or source.string("reference")
        location = f"git+{url}" + (f"@{ref}" if ref else "")
        sub = source.string("subdirectory")
        return PinKind.GIT, None, location + (f"#subdirectory={sub}" if sub else "")
    if kind == "url":
        return PinKind.URL, None, url
    if kind == "directory":
        return (PinKind.EDITABLE if develop else PinKind.DIRECTORY), None, url
    if kind == "file":
        return PinKind.PATH, None, url
    pkg.fail(f"unknown [package.source] type {kind!r} for {name} {version}")


def _dependencies(pkg: Table) -> tuple[str, ...]:
    """Canonical names of `[package.dependencies]` (poetry keeps optional ones there too)."""
    deps = pkg.table("dependencies", "[package.dependencies]")
    return tuple(dict.fromkeys(canonical(name) for name, _ in deps.items())) if deps else ()


def parse_poetry_lock(path: Path) -> Lockfile:
    """Parse a poetry.lock file."""
    root, text = load_toml(path)
    metadata = root.table("metadata", "[metadata]")
    if metadata is None:
        # Poetry always writes [metadata] (content-hash, python-versions).
        root.fail("missing [metadata] (is this a poetry.lock?)")
    lock_version = metadata.string("lock-version")
    if lock_version is not None and lock_version.split(".")[0] not in _SUPPORTED_MAJORS:
        root.fail(f"unsupported poetry lock-version {lock_version!r} (wormsign reads 1.x and 2.x)")
    raw_packages = root.tables("package")
    lines = lines_for(len(raw_packages), header_lines(text, "package"))
    legacy_files = _legacy_files(root)
    names_seen: dict[str, int] = {}
    for pkg in raw_packages:
        key = canonical(pkg.string("name") or "")
        names_seen[key] = names_seen.get(key, 0) + 1
    extras_wanted = _requested_extras(raw_packages)

    packages: list[LockedPackage] = []
    indexes: list[str] = []
    for number, (pkg, line) in enumerate(zip(raw_packages, lines, strict=True), start=1):
        place = f"line {line}" if line else f"package #{number}"
        pkg = pkg.at(place)
        raw_name = pkg.required_string("name")
        name = canonical(raw_name)
        pkg = pkg.at(f"{place}: package {raw_name!r}")
        version = pkg.required_string("version")
        kind, index, source_url = _source(pkg, name, version, pkg.boolean("develop"))
        if "files" in pkg:
            artifacts = _files(pkg.tables("files"))
        else:
            candidates = legacy_files.get(name, [])
            if names_seen.get(name, 0) > 1:
                candidates = [c for c in candidates if _same_version(c.string("file"), version)]
            artifacts = _files([c.at(f"[metadata.files] {raw_name!r}") for c in candidates])
        if kind is PinKind.URL and len(artifacts) == 1 and artifacts[0].url is None:
            only = artifacts[0]
            artifacts = (LockedArtifact(only.filename, source_url, only.hashes, only.size),)
        groups = pkg.strings("groups") or ([c] if (c := pkg.string("category")) else [])
        if index is not None:
            indexes.append(index)
        packages.append(
            LockedPackage(
                name=name,
                version=version,
                kind=kind,
                lockfile=path,
                line=line,
                index=index,
                markers=_markers(pkg),
                extras=tuple(sorted(extras_wanted.get(name, ()))),
                artifacts=artifacts,
                source_url=source_url,
                groups=tuple(groups),
                requirement=None if kind is PinKind.PINNED else f"{raw_name} @ {source_url}",
                dependencies=_dependencies(pkg),
            )
        )
    options = [("lock-version", lock_version)] if lock_version else []
    return Lockfile(
        path=path,
        format="poetry",
        packages=tuple(packages),
        indexes=unique(indexes),
        options=tuple(options),
    )
