"""Whether the project's pyproject.toml lets a lock reach a version: the note `wormsign
fix` adds to a uv / poetry / pdm / pipenv command when a declared constraint excludes it
(the tool would then stop short, or refuse)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from scanner.models import canonical

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_MAX_PYPROJECT = 4 * 1024 * 1024


def constraint_note(directory: Path, name: str, target: str) -> str | None:
    """A note when `directory/pyproject.toml` constrains `name` so that `target` is out."""
    path = directory / "pyproject.toml"
    try:
        if not path.is_file() or path.stat().st_size > _MAX_PYPROJECT:
            return None
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    try:
        version = Version(target)
    except InvalidVersion:
        return None
    for spec in _constraints(data, canonical(name)):
        allowed = _allows(spec, version)
        if allowed is False:
            return (
                f"pyproject.toml constrains {name} to {spec!r}, which excludes {target}: "
                "widen it first"
            )
        if allowed is None:
            return f"pyproject.toml constrains {name} to {spec!r}: check that it allows {target}"
    return None


def _constraints(data: Mapping[str, object], name: str) -> Iterator[str]:
    project = data.get("project")
    if isinstance(project, dict):
        yield from _pep508(project.get("dependencies"), name)
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for deps in optional.values():
                yield from _pep508(deps, name)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for deps in groups.values():
            yield from _pep508(deps, name)
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
        group = poetry.get("group")
        if isinstance(group, dict):
            tables += [g.get("dependencies") for g in group.values() if isinstance(g, dict)]
        for table in tables:
            if not isinstance(table, dict):
                continue
            for key, value in table.items():
                if canonical(str(key)) != name:
                    continue
                spec = value.get("version") if isinstance(value, dict) else value
                if isinstance(spec, str) and spec.strip() not in ("", "*"):
                    yield spec.strip()


def _pep508(deps: object, name: str) -> Iterator[str]:
    if not isinstance(deps, list):
        return
    for text in deps:
        if not isinstance(text, str):
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if canonical(req.name) == name and str(req.specifier):
            yield str(req.specifier)


def _allows(spec: str, version: Version) -> bool | None:
    """True / False where the constraint is understood (PEP 440, poetry's ^ and ~), None
    where it is not."""
    try:
        return SpecifierSet(_from_poetry(spec)).contains(version, prereleases=True)
    except (InvalidSpecifier, ValueError):
        return None


def _from_poetry(spec: str) -> str:
    out = []
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"([\^~])\s*(\d+(?:\.\d+)*)", part)
        if m is None:
            out.append(part if re.match(r"[<>=!~]", part) else f"=={part}")
            continue
        kind, text = m.groups()
        nums = [int(n) for n in text.split(".")]
        if kind == "^":
            first = next((i for i, n in enumerate(nums) if n != 0), len(nums) - 1)
            upper = [*nums[:first], nums[first] + 1]
        else:
            upper = [nums[0], nums[1] + 1] if len(nums) > 1 else [nums[0] + 1]
        out += [f">={text}", f"<{'.'.join(map(str, upper))}"]
    return ",".join(out)
