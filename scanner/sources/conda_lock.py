"""The pip section of conda-lock.yml (unified format, `version: 1`).

conda-lock lists every package once per platform. Only `manager: pip` entries
are Python packages this scanner verifies; conda packages are counted (option
`conda-packages`) but not inventoried. The same name and version on several
platforms becomes one LockedPackage with each platform's wheel as an artifact
and a marker naming those platforms; distinct versions stay distinct.

YAML is read with PyYAML's safe loader (no object construction), and numbers
are left as strings so `version: 1.10` is not turned into 1.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scanner.errors import SourceError
from scanner.models import LockedArtifact, LockedPackage, Lockfile, PinKind, canonical
from scanner.sources._tomlish import Table, artifact, hashes_table, read_text, type_name

_SUPPORTED_VERSION = "1"
_PLATFORM_MARKERS = {
    "linux-64": "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "linux-aarch64": "sys_platform == 'linux' and platform_machine == 'aarch64'",
    "linux-ppc64le": "sys_platform == 'linux' and platform_machine == 'ppc64le'",
    "osx-64": "sys_platform == 'darwin' and platform_machine == 'x86_64'",
    "osx-arm64": "sys_platform == 'darwin' and platform_machine == 'arm64'",
    "win-64": "sys_platform == 'win32' and platform_machine == 'AMD64'",
    "win-arm64": "sys_platform == 'win32' and platform_machine == 'ARM64'",
}
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")


_MAX_DEPTH = 64
"""conda-lock nests four levels deep; hostile nesting is refused long before recursion hurts."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose plain scalars never become numbers or dates, with bounded nesting."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {_MAX_DEPTH} levels deep", self.get_mark()
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_STRING_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NUMBER_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.yaml_implicit_resolvers = _STRING_RESOLVERS

_FastLoader: type[yaml.CSafeLoader] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        """libyaml's safe loader (about 7x faster), same string-only scalars."""

    _CLoader.yaml_implicit_resolvers = _STRING_RESOLVERS
    _FastLoader = _CLoader


def _nesting_bound(text: str) -> tuple[int, int]:
    """(deepest bracket nesting, an upper bound on the document's nesting depth).

    Linear, on the raw text: block nesting needs deeper indentation or another
    `- ` / `key: ` / `? ` on the same line, so indentation plus those markers
    plus bracket depth bounds it.
    """
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    indent = markers = 0
    for line in text.splitlines():
        indent = max(indent, len(line) - len(line.lstrip(" ")))
        markers = max(markers, line.count("- ") + line.count(": ") + line.count("? "))
    return deepest, deepest + indent + markers + 1


@dataclass
class _Merged:
    """One pip package gathered over the platforms that list it."""

    raw_name: str
    version: str
    line: int | None
    artifacts: list[LockedArtifact] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def _load(path: Path) -> tuple[object, list[int]]:
    """The parsed document and the 1-based line of each `package:` item."""
    text = read_text(path)
    # PyYAML's scanner looks ahead across a whole flow collection, which is
    # quadratic on hostile `[[[[...`: bound bracket nesting in one linear pass first.
    brackets, bound = _nesting_bound(text)
    if brackets > _MAX_DEPTH:
        raise SourceError(
            f"invalid YAML: brackets nested more than {_MAX_DEPTH} levels deep", path=str(path)
        )
    # libyaml composes recursively in C with no depth check: use it only where
    # the depth is known to be small; otherwise the Python loader, which counts.
    loader: yaml.SafeLoader | yaml.CSafeLoader = (
        _FastLoader(text) if _FastLoader is not None and bound <= 4 * _MAX_DEPTH else _Loader(text)
    )
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SourceError(
            f"invalid YAML: {err.problem or err.context}{where}", path=str(path)
        ) from err
    except yaml.YAMLError as err:
        raise SourceError(f"invalid YAML: {err}", path=str(path)) from err
    except RecursionError as err:
        raise SourceError("invalid YAML: nested too deeply", path=str(path)) from err
    finally:
        loader.dispose()
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "package"
                and isinstance(value, yaml.SequenceNode)
            ):
                lines = [item.start_mark.line + 1 for item in value.value]
    return data, lines


def _markers(platforms: list[str], all_platforms: list[str]) -> str | None:
    """A marker for the platforms a package is locked on; None where it is on all."""
    if not platforms or set(all_platforms) <= set(platforms):
        return None
    if any(p not in _PLATFORM_MARKERS for p in platforms):
        return None  # a platform PEP 508 cannot name: do not guess
    parts = [f"({_PLATFORM_MARKERS[p]})" for p in platforms]
    return " or ".join(parts) if len(parts) > 1 else _PLATFORM_MARKERS[platforms[0]]


def parse_conda_lock(path: Path) -> Lockfile:
    """Parse a conda-lock.yml file; its pip-managed entries become packages."""
    data, lines = _load(path)
    if not isinstance(data, dict):
        raise SourceError(f"the top level must be a mapping, not {type_name(data)}", path=str(path))
    root = Table(data, path)
    version = root.raw("version")
    if "dependencies" in root and "package" not in root:
        root.fail("a conda environment file (an unlocked spec) is not a lock file")
    if version is None:
        root.fail("missing 'version' (is this a conda-lock file?)")
    if str(version) != _SUPPORTED_VERSION:
        root.fail(f"unsupported conda-lock version {version!r} (wormsign reads version 1)")
    if "package" not in root:
        root.fail("missing 'package' list (is this a conda-lock file?)")
    metadata = root.table("metadata", "metadata")
    all_platforms = metadata.strings("platforms") if metadata else []
    entries = root.tables("package")
    if len(lines) != len(entries):
        lines = []
    merged: dict[tuple[str, str], _Merged] = {}
    conda_count = pip_count = 0
    for number, entry in enumerate(entries, start=1):
        line = lines[number - 1] if lines else None
        place = f"line {line}" if line else f"package #{number}"
        entry = entry.at(place)
        raw_name = entry.required_string("name")
        entry = entry.at(f"{place}: package {raw_name!r}")
        manager = entry.required_string("manager")
        if manager != "pip":
            conda_count += 1
            continue
        pip_count += 1
        version = entry.required_string("version")
        url = entry.required_string("url")
        hashes = hashes_table(entry.table("hash"), entry)
        key = (canonical(raw_name), version)
        item = merged.setdefault(key, _Merged(raw_name, version, line))
        found = artifact(None, url, hashes)
        if found not in item.artifacts:
            item.artifacts.append(found)
        if (platform := entry.string("platform")) and platform not in item.platforms:
            item.platforms.append(platform)
        if (category := entry.string("category")) and category not in item.groups:
            item.groups.append(category)
    packages = tuple(
        LockedPackage(
            name=name,
            version=item.version,
            kind=PinKind.PINNED,
            lockfile=path,
            line=item.line,
            markers=_markers(item.platforms, all_platforms),
            artifacts=tuple(item.artifacts),
            groups=tuple(item.groups),
        )
        for (name, _), item in merged.items()
    )
    options = [("conda-packages", str(conda_count)), ("pip-entries", str(pip_count))]
    options.extend(("platform", p) for p in all_platforms)
    return Lockfile(path=path, format="conda-lock", packages=packages, options=tuple(options))
