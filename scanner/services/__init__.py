"""Online sources (OSV API, PyPI JSON API). Used only when the scan runs with --online."""

from __future__ import annotations

from scanner.services.http import HttpClient, ResponseCache
from scanner.services.osv_api import OsvApi, PackageQuery
from scanner.services.pypi import PyPIJson, ReleaseState, ReleaseStatus

__all__ = [
    "HttpClient",
    "OsvApi",
    "PackageQuery",
    "PyPIJson",
    "ReleaseState",
    "ReleaseStatus",
    "ResponseCache",
]
