"""PyPI, online: is a pinned release still on the index, and not yanked? When was each of
its files uploaded (PEP 700 `upload-time`)? Is the project quarantined, archived or
deprecated (PEP 792 project status, from the JSON simple API)?

A release that the index no longer lists, or lists only as yanked, is a signal
no advisory carries on the day it matters: PyPI removes compromised releases
(lightning 2.6.2 and 2.6.3, 2026-04-30) long before a record is written. A release
uploaded hours ago is the other one (see scanner.checks.freshness).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from scanner.errors import ServiceError
from scanner.infra.http import DEFAULT_TIMEOUT, HttpClient, ResponseCache
from scanner.infra.versions import version_key

DEFAULT_PYPI_URL = "https://pypi.org"
"""PyPI's base: the JSON API (`/pypi/<name>/json`), the integrity API, project pages."""
PYPI_SIMPLE_URL = f"{DEFAULT_PYPI_URL}/simple"
"""PyPI's simple index: what pip uses when a lock names no index."""
PYPI_HOSTS = frozenset({"pypi.org", "pypi.python.org", "files.pythonhosted.org"})
"""Public PyPI's index and file hosts."""
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
PEP_792 = "https://peps.python.org/pep-0792/"


@enum.unique
class ProjectState(str, enum.Enum):
    """A project's status marker (PEP 792); ACTIVE where the index gives none."""

    ACTIVE = "active"
    ARCHIVED = "archived"
    """No new uploads expected; existing files stay."""
    QUARANTINED = "quarantined"
    """Considered unsafe (malware): the index offers no file for download."""
    DEPRECATED = "deprecated"
    """Obsolete, perhaps replaced by another project."""


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """The index's status marker for one project."""

    name: str
    state: ProjectState | None
    """None for a status this client does not know (a newer PEP)."""
    raw: str
    reason: str | None
    url: str


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
class IndexFile:
    """One file of a release as the index lists it."""

    filename: str
    yanked: bool = False
    yanked_reason: str | None = None
    upload_time: datetime | None = None
    """`upload_time_iso_8601` (PEP 700 `upload-time`), UTC; None where the index omits it."""
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Project:
    """The releases the index lists for a project: normalised version -> its files."""

    name: str
    releases: Mapping[str, tuple[IndexFile, ...]]
    """version_key(version) -> the files of that release."""
    url: str
    listed: Mapping[str, tuple[IndexFile, ...]] = field(default_factory=dict)
    """The releases as the index spells their versions (`2.0.0`, not the key `2`)."""

    def files(self, version: str) -> tuple[IndexFile, ...] | None:
        """The files of `version` (any spelling of it), None if the index lists no such
        release."""
        return self.releases.get(version_key(version))


def is_pypi(url: str) -> bool:
    """True for public PyPI's index and file hosts."""
    return (urlsplit(url).hostname or "").lower() in PYPI_HOSTS


def served_by_pypi(index: str | None, pypi_url: str = DEFAULT_PYPI_URL) -> bool:
    """A lock entry's index is PyPI (no index named, a PyPI host, or the configured
    `pypi_url`)."""
    if index is None:
        return True
    return is_pypi(index) or index.rstrip("/").startswith(pypi_url.rstrip("/"))


def _upload_time(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _index_file(raw: Mapping[str, object]) -> IndexFile:
    digests = raw.get("digests")
    sha256 = digests.get("sha256") if isinstance(digests, Mapping) else None
    reason = raw.get("yanked_reason")
    return IndexFile(
        filename=str(raw.get("filename") or ""),
        yanked=bool(raw.get("yanked")),
        yanked_reason=reason if isinstance(reason, str) and reason else None,
        upload_time=_upload_time(raw.get("upload_time_iso_8601") or raw.get("upload_time")),
        sha256=sha256.lower() if isinstance(sha256, str) else None,
    )


class PyPIJson:
    """A client for PyPI's JSON API (`/pypi/<name>/json`) at `base_url`; each project is
    fetched once per client (and cached on disk by the HttpClient's cache)."""

    def __init__(self, http: HttpClient, base_url: str = DEFAULT_PYPI_URL) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._projects: dict[str, Project | None] = {}
        self._statuses: dict[str, ProjectStatus | None] = {}

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()

    def project(self, name: str) -> Project | None:
        """The project's releases, or None if the index does not know it (404)."""
        if name not in self._projects:
            self._projects[name] = self._fetch(name)
        return self._projects[name]

    def _fetch(self, name: str) -> Project | None:
        url = f"{self.base_url}/pypi/{quote(name, safe='')}/json"
        data = self.http.get_json(url, not_found_ok=True)
        if data is None:
            return None
        releases = data.get("releases") if isinstance(data, Mapping) else None
        if not isinstance(releases, Mapping):
            raise ServiceError("PyPI JSON has no 'releases' mapping", path=url)
        out: dict[str, tuple[IndexFile, ...]] = {}
        listed: dict[str, tuple[IndexFile, ...]] = {}
        for version, files in releases.items():
            found = tuple(
                _index_file(f)
                for f in (files if isinstance(files, list) else [])
                if isinstance(f, Mapping)
            )
            listed[str(version)] = found
            key = version_key(str(version))
            out[key] = out.get(key, ()) + found
        return Project(name=name, releases=out, url=url, listed=listed)

    def project_status(self, name: str) -> ProjectStatus | None:
        """The project's PEP 792 status from the JSON simple API (`/simple/<name>/`), None
        if the index does not know the project (404)."""
        if name not in self._statuses:
            self._statuses[name] = self._fetch_status(name)
        return self._statuses[name]

    def _fetch_status(self, name: str) -> ProjectStatus | None:
        url = f"{self.base_url}/simple/{quote(name, safe='')}/"
        data = self.http.get_json(url, not_found_ok=True, accept=SIMPLE_JSON)
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise ServiceError("the simple API answer is not a JSON object", path=url)
        marker = data.get("project-status")
        if marker is None:
            return ProjectStatus(name, ProjectState.ACTIVE, "active", None, url)
        if isinstance(marker, str):  # tolerate a bare string
            marker = {"status": marker}
        if not isinstance(marker, Mapping) or not isinstance(marker.get("status"), str):
            raise ServiceError("the simple API's 'project-status' has no status", path=url)
        raw = str(marker["status"]).strip().lower()
        reason = marker.get("reason")
        known = {s.value: s for s in ProjectState}
        return ProjectStatus(
            name,
            known.get(raw),
            raw,
            reason.strip() if isinstance(reason, str) and reason.strip() else None,
            url,
        )

    def release_status(self, name: str, version: str) -> ReleaseStatus:
        """Whether `name==version` is listed, yanked, emptied, gone, or unknown to the index."""
        project = self.project(name)
        if project is None:
            return ReleaseStatus(
                name, version, ReleaseState.NO_PROJECT, url=f"{self.base_url}/project/{name}/"
            )
        page = f"{self.base_url}/project/{name}/{version}/"
        files = project.files(version)
        if files is None:
            return ReleaseStatus(name, version, ReleaseState.GONE, url=page)
        if not files:
            return ReleaseStatus(name, version, ReleaseState.NO_FILES, url=page)
        if all(f.yanked for f in files):
            reasons = sorted({f.yanked_reason for f in files if f.yanked_reason})
            return ReleaseStatus(
                name,
                version,
                ReleaseState.YANKED,
                yanked_reason="; ".join(reasons) or None,
                url=page,
            )
        return ReleaseStatus(name, version, ReleaseState.LISTED, url=page)


def pypi_client(
    base_url: str = DEFAULT_PYPI_URL,
    *,
    cache_dir: Path | None = None,
    ttl: float = 3600.0,
    timeout: float = DEFAULT_TIMEOUT,
    service: str = "PyPI",
) -> PyPIJson:
    """A PyPI client whose answers are cached under `cache_dir` (None: not cached) for
    `ttl` seconds. Close it with `close()`."""
    cache = ResponseCache(cache_dir, ttl=ttl) if cache_dir is not None else None
    return PyPIJson(HttpClient(service, timeout=timeout, cache=cache), base_url)
