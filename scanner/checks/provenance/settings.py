"""The provenance check's settings: the parsed publisher policy, `[tool.wormsign.provenance]`.

Parsed once, when the config loads (scanner.policy); the check only reads the result.
See scanner.checks.provenance.check for the table's keys.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlparse

from scanner.checks.provenance.attestations import DEFAULT_INDEX_URL, PublisherKind, PublisherSpec
from scanner.errors import ConfigError
from scanner.models import canonical

DEFAULT_DRIFT_WINDOW = 3
MAX_DRIFT_WINDOW = 20


@enum.unique
class Requirement(str, enum.Enum):
    """What a missing attestation means for a package."""

    IGNORE = "ignore"
    WARN = "warn"
    REQUIRE = "require"


@dataclass(frozen=True, slots=True)
class ProvenancePolicy:
    """The parsed `[tool.wormsign.provenance]` table."""

    default: Requirement = Requirement.IGNORE
    required: frozenset[str] = frozenset()
    """Canonical names of packages that must be attested."""
    publishers: Mapping[str, tuple[PublisherSpec, ...]] = field(default_factory=dict, hash=False)
    """Canonical name -> the publishers it may come from (any one)."""
    regression: bool = True
    """Online: compare each release's publishing with the releases before it (drift)."""
    drift_window: int = DEFAULT_DRIFT_WINDOW
    """How many earlier releases it is compared with."""
    index_url: str = DEFAULT_INDEX_URL
    refresh_trust_root: bool = False

    def requirement_for(self, package: str | None) -> Requirement:
        """How strictly `package` (canonical name) must be attested."""
        if package is not None and (package in self.required or package in self.publishers):
            return Requirement.REQUIRE
        return self.default


_POLICY_KEYS = {
    "default",
    "require",
    "publishers",
    "regression",
    "drift-window",
    "index-url",
    "refresh-trust-root",
}
_PUBLISHER_KEYS: dict[str, set[str]] = {
    "github": {"kind", "repository", "workflow", "environment"},
    "gitlab": {"kind", "repository", "workflow", "environment"},
    "google": {"kind", "email"},
}


def parse_provenance_policy(raw: object, *, path: str | None = None) -> ProvenancePolicy:
    """Parse `[tool.wormsign.provenance]` (None = the default policy); raise ConfigError.

    `path` (the config file) is named in the error, where the caller knows it.
    """
    if raw is None:
        return ProvenancePolicy()
    try:
        return _parse_policy(raw)
    except ConfigError as err:
        if path is None or err.path is not None:
            raise
        raise ConfigError(err.message, path=path, hint=err.hint) from None


def _parse_policy(raw: object) -> ProvenancePolicy:
    table = _table(raw, "tool.wormsign.provenance")
    unknown = set(table) - _POLICY_KEYS
    if unknown:
        raise _config_error(
            f"unknown key(s) {', '.join(sorted(unknown))}",
            "",
            f"expected {', '.join(sorted(_POLICY_KEYS))}",
        )
    default_text = table.get("default", Requirement.IGNORE.value)
    try:
        default = Requirement(default_text)
    except ValueError:
        raise _config_error(
            f"default = {default_text!r} is not one of ignore, warn, require", "default"
        ) from None
    required_raw = table.get("require", [])
    if not isinstance(required_raw, list) or not all(
        isinstance(n, str) and n.strip() for n in required_raw
    ):
        raise _config_error("must be a list of package names", "require")
    publishers_raw = _table(table.get("publishers", {}), "tool.wormsign.provenance.publishers")
    publishers = {
        canonical(name): _parse_publishers(name, value) for name, value in publishers_raw.items()
    }
    index_url = table.get("index-url", DEFAULT_INDEX_URL)
    if not isinstance(index_url, str) or urlparse(index_url).scheme not in ("http", "https"):
        raise _config_error("must be an http(s) URL", "index-url")
    window = table.get("drift-window", DEFAULT_DRIFT_WINDOW)
    if (
        isinstance(window, bool)
        or not isinstance(window, int)
        or not 1 <= window <= MAX_DRIFT_WINDOW
    ):
        raise _config_error(f"must be a whole number from 1 to {MAX_DRIFT_WINDOW}", "drift-window")
    return ProvenancePolicy(
        default=default,
        drift_window=window,
        required=frozenset(canonical(n) for n in required_raw),
        publishers=publishers,
        regression=_bool(table, "regression", default=True),
        index_url=index_url,
        refresh_trust_root=_bool(table, "refresh-trust-root", default=False),
    )


def _parse_publishers(package: str, value: object) -> tuple[PublisherSpec, ...]:
    where = f"publishers.{package}"
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _config_error("needs at least one publisher", where)
    return tuple(_parse_publisher(_table(item, where), where) for item in items)


def _parse_publisher(table: dict[str, object], where: str) -> PublisherSpec:
    kind = str(table.get("kind", "")).lower()
    if kind not in _PUBLISHER_KEYS:
        raise _config_error(
            f"kind = {table.get('kind')!r} is not one of github, gitlab, google", where
        )
    unknown = set(table) - _PUBLISHER_KEYS[kind]
    if unknown:
        raise _config_error(f"unknown key(s) {', '.join(sorted(unknown))} for kind {kind}", where)
    values: dict[str, str | None] = {}
    for key in _PUBLISHER_KEYS[kind] - {"kind"}:
        item = table.get(key)
        if item is not None and (not isinstance(item, str) or not item.strip()):
            raise _config_error(f"{key} must be a non-empty string", where)
        values[key] = item.strip() if isinstance(item, str) else None
    if kind == "google":
        if not values["email"]:
            raise _config_error("a google publisher needs email", where)
        return PublisherSpec("google", email=values["email"])
    repository = values["repository"]
    if not repository or repository.count("/") < 1 or "://" in repository:
        raise _config_error("repository must look like owner/name", where)
    workflow = values["workflow"]
    if kind == "github" and workflow and "/" in workflow:
        raise _config_error(
            "workflow is the file name in .github/workflows (release.yml), not a path", where
        )
    return PublisherSpec(
        cast("PublisherKind", kind),
        repository=repository,
        workflow=workflow,
        environment=values["environment"],
    )


def _table(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigError(f"[{where}] must be a table", hint="see the provenance docs")
    return {str(k).replace("_", "-"): v for k, v in value.items()}


def _bool(table: Mapping[str, object], key: str, *, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise _config_error("must be true or false", key)
    return value


def _config_error(message: str, key: str, hint: str | None = None) -> ConfigError:
    where = f"tool.wormsign.provenance.{key}" if key else "tool.wormsign.provenance"
    return ConfigError(f"[{where}] {message}", hint=hint)
