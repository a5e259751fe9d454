"""The advisories check's settings: where its online services are and how long to wait."""

from __future__ import annotations

from dataclasses import dataclass

from scanner.checks.advisories.osv_api import DEFAULT_OSV_API_URL
from scanner.infra.http import DEFAULT_TIMEOUT
from scanner.infra.pypi import DEFAULT_PYPI_URL


@dataclass(frozen=True, slots=True)
class AdvisorySettings:
    """Service base URLs (tests, mirrors), the HTTP timeout and the response cache's TTL."""

    pypi_url: str = DEFAULT_PYPI_URL
    osv_api_url: str = DEFAULT_OSV_API_URL
    http_timeout: float = DEFAULT_TIMEOUT
    """Seconds per request."""
    cache_ttl: float = 3600.0
    """Seconds an online answer is reused from the disk cache."""
