"""Distribution file names: what a wheel's or an sdist's name says it is.

- `parse_dist_filename`: the name and version as packaging parses them (PEP 427 wheels,
  PEP 625 sdists), for the checks that compare them with a lock or an index;
- `distribution_kind`: whether discovery should treat a file as a distribution at all,
  by name alone. It is more tolerant on purpose (`.tgz`, `.tar.bz2`, `.tar.xz` sdists,
  versions packaging rejects), so a walk never mistakes an old sdist for a lock file.
"""

from __future__ import annotations

import re

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from scanner.models import canonical

_SDIST_RE = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*?)\.(tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$")
_WHEEL_RE = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def parse_dist_filename(filename: str) -> tuple[str, str] | None:
    """(canonical name, normalised version) of a wheel (`.whl`) or sdist file name, None
    where packaging does not read it as one."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return str(name), str(version)


def distribution_kind(filename: str) -> tuple[str, str | None, str | None] | None:
    """(wheel|sdist, name, version) if the file name is a distribution's, else None."""
    if (m := _WHEEL_RE.match(filename)) is not None:
        return "wheel", canonical(m["name"]), m["version"]
    if (m := _SDIST_RE.match(filename)) is not None:
        return "sdist", canonical(m["name"]), m["version"]
    return None
