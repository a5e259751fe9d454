"""Pipfile.lock (pipfile-spec 6): JSON with `_meta` and one object per package category.

`default` and `develop` are the usual categories; pipenv also allows custom
ones, so every top-level key other than `_meta` is read as a category (the
entry's group). `_meta.sources` lists the indexes by name; an entry's `index`
names one of them. Entries that are not `==` pins from an index (editable,
`path`, `file`, `git` / `hg` / `svn` / `bzr`) are kept with their PinKind.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from scanner.models import LockedArtifact, LockedPackage, Lockfile, PinKind, canonical
from scanner.sources._tomlish import Table, artifact, load_json, parse_hash, unique
from scanner.sources.requirements import ARCHIVE_SUFFIXES

_VCS_KEYS = ("git", "hg", "svn", "bzr")
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def json_key_lines(text: str) -> dict[tuple[str, str], int]:
    """1-based line of every key two levels deep: (category, package) -> line.

    A small scanner over the JSON text (strings and braces only), because the
    json module does not report positions of what it parsed.
    """
    found: dict[tuple[str, str], int] = {}
    depth = 0
    line = 1
    top_key = ""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == '"':
            match = _KEY.match(text, i)
            end = _string_end(text, i)
            if match and depth in (1, 2):
                try:
                    key = json.loads(text[i:end])
                except ValueError:
                    key = None
                if isinstance(key, str):
                    if depth == 1:
                        top_key = key
                    else:
                        found.setdefault((top_key, key), line)
            line += text.count("\n", i, end)
            i = end
            continue
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        i += 1
    return found


def _string_end(text: str, start: int) -> int:
    """Index just past the JSON string that starts at `start`."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    return len(text)


def _sources(meta: Table) -> dict[str, str]:
    """Source name -> index URL, in file order."""
    out: dict[str, str] = {}
    for source in meta.tables("sources"):
        src = source.at("_meta.sources")
        out[src.required_string("name")] = src.required_string("url")
    return out


def _entry(
    raw_name: str, entry: Table, group: str, line: int | None, path: Path, sources: dict[str, str]
) -> LockedPackage:
    name = canonical(raw_name)
    hashes = tuple(parse_hash(h, entry) for h in entry.strings("hashes"))
    artifacts = (LockedArtifact(filename=None, hashes=hashes),) if hashes else ()
    spec = entry.string("version")
    version: str | None = None
    if spec is not None:
        stripped = spec.strip()
        if stripped.startswith("==="):
            version = stripped[3:].strip()
        elif stripped.startswith("==") and "*" not in stripped:
            version = stripped[2:].strip()
    vcs = [key for key in _VCS_KEYS if key in entry]
    source_url: str | None = None
    if vcs:
        ref = entry.string("ref")
        source_url = f"{vcs[0]}+{entry.required_string(vcs[0])}" + (f"@{ref}" if ref else "")
        kind = PinKind.GIT
    elif "path" in entry:
        source_url = entry.required_string("path")
        kind = PinKind.PATH if source_url.endswith(ARCHIVE_SUFFIXES) else PinKind.DIRECTORY
    elif "file" in entry:
        source_url = entry.required_string("file")
        kind = PinKind.URL if "://" in source_url else PinKind.PATH
        artifacts = (artifact(None, source_url, hashes),) if hashes else artifacts
    else:
        kind = PinKind.PINNED if version is not None else PinKind.UNPINNED
    if source_url and (sub := entry.string("subdirectory")):
        source_url += f"#subdirectory={sub}"
    if entry.boolean("editable"):
        kind = PinKind.EDITABLE
    index_name = entry.string("index")
    index: str | None = None
    if index_name is not None:
        if index_name not in sources:
            entry.fail(
                f"index {index_name!r} is not among _meta.sources ({', '.join(sources) or 'none'})"
            )
        index = sources[index_name]
    elif kind is PinKind.PINNED and len(sources) == 1:
        # With one source pipenv has nowhere else to install from; with several
        # and no `index`, any of them may serve it, so none is recorded.
        index = next(iter(sources.values()))
    requirement = None
    if kind is not PinKind.PINNED:
        requirement = f"{raw_name} @ {source_url}" if source_url else f"{raw_name}{spec or ''}"
    return LockedPackage(
        name=name,
        version=version,
        kind=kind,
        lockfile=path,
        line=line,
        index=index,
        markers=entry.string("markers") or None,
        extras=tuple(sorted(entry.strings("extras"))),
        artifacts=artifacts,
        source_url=source_url,
        groups=(group,),
        requirement=requirement,
    )


def parse_pipfile_lock(path: Path) -> Lockfile:
    """Parse a Pipfile.lock file."""
    root, text = load_json(path)
    meta = root.table("_meta", "_meta")
    if meta is None:
        root.fail("missing '_meta' (is this a Pipfile.lock?)")
    spec = meta.integer("pipfile-spec")
    sources = _sources(meta)
    lines = json_key_lines(text)
    packages: list[LockedPackage] = []
    for group, section in root.items():
        if group == "_meta":
            continue
        table = root.wrap(section, group, f"{group!r}")
        for raw_name, value in table.items():
            line = lines.get((group, raw_name))
            place = (f"line {line}: " if line else "") + f"{group} package {raw_name!r}"
            entry = table.wrap(value, raw_name, place)
            packages.append(_entry(raw_name, entry, group, line, path, sources))
    options = [("pipfile-spec", str(spec))] if spec is not None else []
    return Lockfile(
        path=path,
        format="pipfile",
        packages=tuple(packages),
        indexes=unique(list(sources.values())),
        options=tuple(options),
    )
