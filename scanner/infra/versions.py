"""Version strings as indexes and advisories spell them: PEP 440 where they parse, the
release part of a dirty string where they do not, and the one key release lists compare by.

Shared by the advisories check (OSV ranges and `versions` lists) and the PyPI client
(scanner.infra.pypi), which keys a project's releases the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

# `2.6.0-NA`, `2.6.0-cu124`, `0.2.0-alpha\.33`, `9.3.1-2.1`, `4.6.0.stable11`: a dotted
# release followed by a tag PEP 440 does not know. The release part is what the record
# means; the tag is noise. A bare number with a dash (`2024-12-04`) is a date, not a
# release, and is left unparsable on purpose.
_DIRTY_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)+)[-+_.~](.+)$|^\s*v?(\d+)[-+_.~]([A-Za-z].*)$")


@lru_cache(maxsize=65536)
def parse_version(text: str) -> tuple[Version | None, bool]:
    """(version, approximated): PEP 440 if possible, else the release part of a dirty string.

    Local labels are dropped (`2.4.0+cu121` is 2.4.0 for matching). Returns
    (None, False) for text that names no release we can compare (`2024-12-04`).
    """
    try:
        return _public(Version(text)), False
    except InvalidVersion:
        pass
    m = _DIRTY_VERSION.match(text)
    if m is None:
        return None, False
    release = m.group(1) or m.group(3)
    try:
        return Version(release), True
    except InvalidVersion:  # pragma: no cover - the regex only lets digits and dots through
        return None, False


def _public(version: Version) -> Version:
    return Version(version.public) if version.local is not None else version


_PLAIN_RELEASE = re.compile(r"\d+(?:\.\d+)*")


@lru_cache(maxsize=1 << 18)
def version_key(text: str) -> str:
    """The form `versions` lists are compared in: normalised public PEP 440, else the text."""
    if _PLAIN_RELEASE.fullmatch(text):
        # Fast path for the common `1.2.0` (most of the ~600k listed versions): the same
        # result as canonicalize_version, without building a Version.
        parts = [str(int(p)) for p in text.split(".")]
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return ".".join(parts)
    version, approximated = parse_version(text)
    if version is None or approximated:
        return text.strip()
    # Canonical form: 2.6 and 2.6.0 are one release, as PEP 440 compares them.
    return canonicalize_version(version)
