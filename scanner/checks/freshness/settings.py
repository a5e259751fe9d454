"""The freshness check's settings: the cooldown policy and where PyPI is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from scanner.infra.http import DEFAULT_TIMEOUT
from scanner.infra.pypi import DEFAULT_PYPI_URL
from scanner.models import Severity


@dataclass(frozen=True, slots=True)
class FreshnessSettings:
    """`min-release-age` and `min-release-age-severity`, and the online source of ages."""

    min_age: timedelta | None = None
    """A locked or installed file younger than this is a finding; None = no policy."""
    severity: Severity = Severity.HIGH
    """The severity of that finding."""
    pypi_url: str = DEFAULT_PYPI_URL
    """Base of the PyPI JSON API (tests, mirrors)."""
    http_timeout: float = DEFAULT_TIMEOUT
    cache_ttl: float = 3600.0
    """Seconds an answer is reused from the disk cache."""
