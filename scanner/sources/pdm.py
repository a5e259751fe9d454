"""pdm.lock, lock_version 4.x.

Each `[[package]]` carries its `groups`, an optional `marker` (strategy
`inherit_metadata`), `files` with hashes (`file` names, or `url`s under the
`static_urls` strategy), and for non-index entries `git`/`hg`/`svn`/`bzr` with
`ref` and `revision`, `path` (with `editable`), or `url`. PDM writes one entry
per set of extras (`name = "requests"`, `extras = ["socks"]`); each is kept.
`[[metadata.targets]]` and `[[source]]` (where a lock has them) are recorded.
"""

from __future__ import annotations

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
from scanner.sources.environment import requirement_name
from scanner.sources.requirements import ARCHIVE_SUFFIXES

_SUPPORTED_MAJOR = "4"
_VCS_KEYS = ("git", "hg", "svn", "bzr")


def _files(pkg: Table) -> tuple[LockedArtifact, ...]:
    out: list[LockedArtifact] = []
    for entry in pkg.tables("files"):
        digest = entry.string("hash")
        name, url = entry.string("file"), entry.string("url")
        if name is None and url is None:
            entry.fail("a 'files' entry has neither 'file' nor 'url'")
        out.append(artifact(name, url, (parse_hash(digest, entry),) if digest else ()))
    return tuple(out)


def _source(pkg: Table) -> tuple[PinKind, str | None]:
    """(kind, source URL or path) of one entry."""
    vcs = [key for key in _VCS_KEYS if key in pkg]
    location: str | None
    if vcs:
        ref = pkg.string("revision") or pkg.string("ref")
        location = f"{vcs[0]}+{pkg.required_string(vcs[0])}" + (f"@{ref}" if ref else "")
        kind = PinKind.GIT
    elif "path" in pkg:
        location = pkg.required_string("path")
        kind = PinKind.PATH if location.endswith(ARCHIVE_SUFFIXES) else PinKind.DIRECTORY
    elif "url" in pkg:
        location = pkg.required_string("url")
        kind = PinKind.URL
    else:
        return PinKind.PINNED, None
    if sub := pkg.string("subdirectory"):
        location += f"#subdirectory={sub}"
    if pkg.boolean("editable"):
        kind = PinKind.EDITABLE
    return kind, location


def _options(metadata: Table, lock_version: str) -> list[tuple[str, str]]:
    out = [("lock-version", lock_version)]
    out.extend(("strategy", s) for s in metadata.strings("strategy"))
    for target in metadata.tables("targets"):
        parts = [f"{key}={value}" for key, value in target.items() if isinstance(value, str)]
        out.append(("target", " ".join(parts)))
    return out


def parse_pdm_lock(path: Path) -> Lockfile:
    """Parse a pdm.lock file."""
    root, text = load_toml(path)
    metadata = root.table("metadata", "[metadata]")
    if metadata is None:
        root.fail("missing [metadata] (is this a pdm.lock?)")
    lock_version = metadata.required_string("lock_version")
    if lock_version.split(".")[0] != _SUPPORTED_MAJOR:
        root.fail(f"unsupported pdm lock_version {lock_version!r} (wormsign reads 4.x)")
    indexes: list[str] = []
    find_links: list[str] = []
    for source in root.tables("source"):
        src = source.at("[[source]]")
        url = src.required_string("url")
        (find_links if src.string("type") == "find_links" else indexes).append(url)

    raw_packages = root.tables("package")
    lines = lines_for(len(raw_packages), header_lines(text, "package"))
    packages: list[LockedPackage] = []
    for number, (pkg, line) in enumerate(zip(raw_packages, lines, strict=True), start=1):
        place = f"line {line}" if line else f"package #{number}"
        raw_name = pkg.at(place).required_string("name")
        pkg = pkg.at(f"{place}: package {raw_name!r}")
        version = pkg.string("version")
        kind, source_url = _source(pkg)
        if kind is PinKind.PINNED and version is None:
            pkg.fail("an index package must have a 'version'")
        packages.append(
            LockedPackage(
                name=canonical(raw_name),
                version=version,
                kind=kind,
                lockfile=path,
                line=line,
                # A single [[source]] is the only index the lock could have used.
                index=indexes[0] if kind is PinKind.PINNED and len(indexes) == 1 else None,
                markers=pkg.string("marker") or None,
                extras=tuple(sorted(pkg.strings("extras"))),
                artifacts=_files(pkg),
                source_url=source_url,
                groups=tuple(pkg.strings("groups")),
                requirement=None if kind is PinKind.PINNED else f"{raw_name} @ {source_url}",
                dependencies=tuple(
                    dict.fromkeys(
                        n for d in pkg.strings("dependencies") if (n := requirement_name(d))
                    )
                ),
            )
        )
    return Lockfile(
        path=path,
        format="pdm",
        packages=tuple(packages),
        indexes=unique(indexes),
        find_links=unique(find_links),
        options=tuple(_options(metadata, lock_version)),
    )
