"""PyPI's JSON API, online: is a pinned release still on the index, and not yanked?

A release that the index no longer lists, or lists only as yanked, is a signal
no advisory carries on the day it matters: PyPI removes compromised releases
(lightning 2.6.2 and 2.6.3, 2026-04-30) long before a record is written.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from scanner.checks.advisories.osv import version_key
from scanner.errors import ServiceError
from scanner.infra.http import HttpClient

DEFAULT_PYPI_URL = "https://pypi.org"


@enum.unique
class ReleaseState(str, enum.Enum):
    """What the index says about one pinned release."""

    LISTED = "listed"
    YANKED = "yanked"
    """Every file of the release is yanked (PEP 592)."""
    NO_FILES = "no-files"
    """The release is listed but has no files left."""
    GONE = "gone"
    """The project exists but no longer lists the release."""
    NO_PROJECT = "no-project"
    """The index does not know the project (removed, or it lives on another index)."""


@dataclass(frozen=True, slots=True)
class ReleaseStatus:
    """The index's answer for one (name, version)."""

    name: str
    version: str
    state: ReleaseState
    yanked_reason: str | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Project:
    """The releases the index lists for a project: normalised version -> file states."""

    name: str
    releases: Mapping[str, tuple[tuple[bool, str | None], ...]]
    """version_key(version) -> ((yanked, yanked_reason), ...) per file."""
    url: str


class PyPIJson:
    """A client for PyPI's JSON API (`/pypi/<name>/json`) at `base_url`."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_PYPI_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def project(self, name: str) -> Project | None:
        """The project's releases, or None if the index does not know it (404)."""
        url = f"{self.base_url}/pypi/{quote(name, safe='')}/json"
        data = self.http.get_json(url, not_found_ok=True)
        if data is None:
            return None
        releases = data.get("releases") if isinstance(data, Mapping) else None
        if not isinstance(releases, Mapping):
            raise ServiceError("PyPI JSON has no 'releases' mapping", path=url)
        out: dict[str, tuple[tuple[bool, str | None], ...]] = {}
        for version, files in releases.items():
            states = tuple(
                (bool(f.get("yanked")), f.get("yanked_reason") or None)
                for f in (files if isinstance(files, list) else [])
                if isinstance(f, Mapping)
            )
            out[version_key(str(version))] = out.get(version_key(str(version)), ()) + states
        return Project(name=name, releases=out, url=url)

    def release_status(self, name: str, version: str) -> ReleaseStatus:
        """Whether `name==version` is listed, yanked, emptied, gone, or unknown to the index."""
        project = self.project(name)
        if project is None:
            return ReleaseStatus(
                name, version, ReleaseState.NO_PROJECT, url=f"{self.base_url}/project/{name}/"
            )
        page = f"{self.base_url}/project/{name}/{version}/"
        files = project.releases.get(version_key(version))
        if files is None:
            return ReleaseStatus(name, version, ReleaseState.GONE, url=page)
        if not files:
            return ReleaseStatus(name, version, ReleaseState.NO_FILES, url=page)
        if all(yanked for yanked, _ in files):
            reasons = sorted({r for _, r in files if r})
            return ReleaseStatus(
                name,
                version,
                ReleaseState.YANKED,
                yanked_reason="; ".join(reasons) or None,
                url=page,
            )
        return ReleaseStatus(name, version, ReleaseState.LISTED, url=page)
