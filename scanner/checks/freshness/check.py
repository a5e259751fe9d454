"""The freshness check: locked and installed files younger than `min-release-age`.

Rule ids:
- WS-AGE-001  a locked or installed file uploaded less than the minimum release age
              before the reference time (`--as-of`, default now): high by default
              (`min-release-age-severity`); the age and the upload time in the message.

Nothing happens without a policy (`min-release-age` in `[tool.wormsign]`, or
`--min-release-age`). Offline, upload times come from the lock files (uv.lock,
pylock.toml); with `--online`, PyPI's JSON API dates the rest (cached). Releases whose
age stays unknown are named in the result's notes.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from scanner.checks.freshness.engine import Assessment, assess
from scanner.checks.interface import CheckContext, CheckResult
from scanner.infra.http import response_cache_dir
from scanner.infra.pypi import pypi_client
from scanner.models import Inventory
from scanner.options import ScanOptions

RELEASES_DATED = "releases_dated"
"""Counter: pinned releases whose age is known."""


def assess_inventory(inventory: Inventory, options: ScanOptions) -> Assessment:
    """The age assessment the check reports (empty without a policy)."""
    settings = options.freshness
    if settings.min_age is None:
        return Assessment((), (), 0, 0, 0)
    as_of = options.as_of or datetime.now(UTC)
    if not options.online:
        return assess(inventory, settings, as_of, None)
    cache_dir = response_cache_dir(options.cache_dir) if options.use_cache else None
    client = pypi_client(
        settings.pypi_url,
        cache_dir=cache_dir,
        ttl=settings.cache_ttl,
        timeout=settings.http_timeout,
        service="PyPI's JSON API",
    )
    with contextlib.closing(client) as pypi:
        return assess(inventory, settings, as_of, pypi)


def check_freshness(inventory: Inventory, context: CheckContext) -> CheckResult:
    """WS-AGE-001 for every file younger than the minimum release age; notes for the
    releases whose age is unknown."""
    found = assess_inventory(inventory, context.options)
    return CheckResult.of(
        found.findings, notes=found.notes, counters=[(RELEASES_DATED, found.dated)]
    )
