"""uv.lock: `version = 1`, revisions 1 to 3.

Every `[[package]]` names its source: `registry` (an index URL, or a local
directory used as one), `git`, `url`, `path`, `directory`, `editable` or
`virtual` (a workspace root that is never installed). One name may appear at
several versions (torch `2.9.1`, `2.9.1+cpu`, `2.9.1+cu128` from different
indexes, chosen by fork markers): every entry is kept. uv puts no marker on a
package itself, only on the edges that lead to it and, for forked packages, in
`resolution-markers`, which is what `markers` carries here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

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

_SUPPORTED_VERSION = 1
_SOURCE_KINDS = {
    "registry": PinKind.PINNED,
    "git": PinKind.GIT,
    "url": PinKind.URL,
    "path": PinKind.PATH,
    "directory": PinKind.DIRECTORY,
    "editable": PinKind.EDITABLE,
    "virtual": PinKind.VIRTUAL,
}
# Tables of dependency edges inside a package; their `extra` lists say which
# extras of the target were asked for.
_EDGE_ARRAYS = ("dependencies", "dev-dependencies", "optional-dependencies")


def _file(entry: Table, fallback_name: str | None) -> LockedArtifact:
    digest = entry.string("hash")
    size = entry.integer("size")
    if size is not None and size < 0:
        entry.fail(f"'size' must not be negative ({size})")
    location = entry.string("url") or entry.string("path")
    name = entry.string("filename") or fallback_name
    hashes = (parse_hash(digest, entry),) if digest else ()
    found = artifact(None, location, hashes, size, entry.timestamp("upload-time"))
    if found.filename is None and name:
        found = dataclasses.replace(found, filename=name)
    return found


def _source(pkg: Table) -> tuple[PinKind, str, str | None]:
    """(kind, the source's value, subdirectory) of `source = { kind = value }`."""
    source = pkg.required_table("source")
    kinds = [k for k in source.names() if k in _SOURCE_KINDS]
    if len(kinds) != 1:
        pkg.fail(
            "'source' must name exactly one of "
            + ", ".join(sorted(_SOURCE_KINDS))
            + f" (found {', '.join(source.names()) or 'nothing'})"
        )
    value = source.required_string(kinds[0])
    return _SOURCE_KINDS[kinds[0]], value, source.string("subdirectory")


def _requested_extras(packages: list[Table]) -> dict[str, set[str]]:
    """Canonical name -> extras some edge in the lock asks of it."""
    wanted: dict[str, set[str]] = {}

    def collect(edges: list[Table]) -> None:
        for edge in edges:
            extras = edge.strings("extra")
            if extras:
                wanted.setdefault(canonical(edge.required_string("name")), set()).update(extras)

    for pkg in packages:
        place = pkg.at(f"package {pkg.raw('name')!r}")
        collect(place.tables("dependencies"))
        for key in _EDGE_ARRAYS[1:]:
            groups = place.table(key)
            for group, edges in groups.items() if groups else ():
                collect(place.as_tables(edges, f"{key}.{group}"))
    return wanted


def _dependencies(pkg: Table) -> tuple[str, ...]:
    """Canonical names of every edge out of a package (dependencies, optional and dev)."""
    edges = list(pkg.tables("dependencies"))
    for key in _EDGE_ARRAYS[1:]:
        groups = pkg.table(key)
        for group, raw in groups.items() if groups else ():
            edges.extend(pkg.as_tables(raw, f"{key}.{group}"))
    names = (edge.string("name") for edge in edges)
    return tuple(dict.fromkeys(canonical(n) for n in names if n))


def _options(root: Table) -> list[tuple[str, str]]:
    """`[options]` and `[manifest]` entries, flattened to (key, text)."""
    out: list[tuple[str, str]] = []
    options = root.table("options", "[options]")
    for key, value in options.items() if options else ():
        if isinstance(value, dict):
            out.extend((f"{key}.{k}", str(v)) for k, v in value.items())
        elif isinstance(value, list):
            out.extend((key, str(v)) for v in value)
        else:
            out.append((key, str(value)))
    manifest = root.table("manifest", "[manifest]")
    if manifest is None:
        return out
    out.extend(("manifest-members", member) for member in manifest.strings("members"))
    for key in ("requirements", "constraints", "overrides", "build-constraints"):
        for req in manifest.tables(key):
            text = req.required_string("name")
            if spec := req.string("specifier"):
                text += spec
            if url := req.string("url"):
                text += f" @ {url}"
            if marker := req.string("marker"):
                text += f" ; {marker}"
            out.append((f"manifest-{key}", text))
    return out


def parse_uv_lock(path: Path) -> Lockfile:
    """Parse a uv.lock file."""
    root, text = load_toml(path)
    lock_version = root.integer("version")
    if lock_version is None:
        root.fail("missing required key 'version' (is this a uv.lock?)")
    if lock_version != _SUPPORTED_VERSION:
        root.fail(f"unsupported uv.lock version {lock_version} (wormsign reads version 1)")
    revision = root.integer("revision") or 0
    raw_packages = root.tables("package")
    lines = lines_for(len(raw_packages), header_lines(text, "package"))
    extras_wanted = _requested_extras(raw_packages)

    packages: list[LockedPackage] = []
    indexes: list[str] = []
    for number, (pkg, line) in enumerate(zip(raw_packages, lines, strict=True), start=1):
        place = f"line {line}" if line else f"package #{number}"
        raw_name = pkg.at(place).required_string("name")
        pkg = pkg.at(f"{place}: package {raw_name!r}")
        name = canonical(raw_name)
        version = pkg.string("version")
        kind, location, subdirectory = _source(pkg)
        index = location if kind is PinKind.PINNED else None
        if index is not None:
            indexes.append(index)
            if version is None:
                pkg.fail("a package from a registry must have a 'version'")
        source_url: str | None = None
        if kind is not PinKind.PINNED:
            source_url = f"git+{location}" if kind is PinKind.GIT else location
            if subdirectory:
                source_url += f"#subdirectory={subdirectory}"
        # A direct-URL sdist carries only its hash: its file is the source URL's.
        fallback = location if kind in (PinKind.URL, PinKind.PATH) else None
        fallback_name = artifact(None, fallback).filename if fallback else None
        artifacts: list[LockedArtifact] = []
        sdist = pkg.table("sdist")
        if sdist is not None:
            artifacts.append(_file(sdist, fallback_name))
        artifacts.extend(_file(wheel, None) for wheel in pkg.tables("wheels"))
        fork_markers = pkg.strings("resolution-markers")
        markers = (
            " or ".join(f"({m})" for m in fork_markers)
            if len(fork_markers) > 1
            else (fork_markers[0] if fork_markers else None)
        )
        packages.append(
            LockedPackage(
                name=name,
                version=version,
                kind=kind,
                lockfile=path,
                line=line,
                index=index,
                markers=markers,
                extras=tuple(sorted(extras_wanted.get(name, ()))),
                artifacts=tuple(artifacts),
                source_url=source_url,
                requirement=None if kind is PinKind.PINNED else f"{raw_name} @ {source_url}",
                dependencies=_dependencies(pkg),
            )
        )
    options = [("revision", str(revision)), *_options(root)]
    return Lockfile(
        path=path,
        format="uv",
        packages=tuple(packages),
        indexes=unique(indexes),
        options=tuple(options),
    )
