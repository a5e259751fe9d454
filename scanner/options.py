"""Options every check may read, with each check's typed settings. Built by the CLI or by
`scanner.gate`; the config (scanner.policy) fills in what the caller left unset."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scanner.checks.advisories.settings import AdvisorySettings
from scanner.checks.freshness.settings import FreshnessSettings
from scanner.checks.metadata.settings import MetadataSettings
from scanner.checks.models.settings import ModelSettings
from scanner.checks.provenance.settings import ProvenancePolicy
from scanner.models import Severity


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What the user asked for, independent of how they asked (CLI, config, API)."""

    fail_on: Severity = Severity.HIGH
    online: bool = False
    """Use network sources (OSV API, PyPI JSON, integrity API). Off by default."""
    db_path: Path | None = None
    """OSV database (SQLite) or an OSV export zip; None = the default cache location."""
    use_cache: bool = True
    """Use the hash cache and the verdict store; `--no-cache` turns both off."""
    cache_dir: Path | None = None
    """Override the user cache directory (`--cache-dir`, config `cache-dir`)."""
    jobs: int | None = None
    """Worker processes for content analysis (`--jobs`); None = one per CPU core."""
    wheelhouses: tuple[Path, ...] = ()
    """Directories with the locked artifacts, to verify against lock hashes."""
    attestations_dir: Path | None = None
    checks: frozenset[str] | None = None
    """Names of the checks to run; None = all."""
    verbose: bool = False
    progress: bool = False
    """Show a progress bar on stderr (the CLI sets it when stderr is a TTY)."""
    # Typed settings of the checks that have any; the config's tables fill them in
    # (scanner.policy.apply_config) where the caller left the defaults.
    advisories: AdvisorySettings = field(default_factory=AdvisorySettings)
    metadata: MetadataSettings = field(default_factory=MetadataSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    provenance: ProvenancePolicy = field(default_factory=ProvenancePolicy)
    """The publisher policy, `[tool.wormsign.provenance]`."""
    freshness: FreshnessSettings = field(default_factory=FreshnessSettings)
    """The cooldown policy, `min-release-age`."""
    as_of: datetime | None = None
    """The reference time for ages and expiry dates (`--as-of`); None = now."""
    exclude: tuple[str, ...] = ()
    """Globs of paths a project walk passes over (`--exclude`, config `exclude`): matched
    against the path relative to the walked directory, or the bare name for a glob
    without `/`. Targets named on the command line are always read."""
    ignore_vulns: tuple[str, ...] = ()
    """Advisory ids (or aliases) whose WS-ADV-VULN findings are suppressed
    (`--ignore-vuln`); a config `[[ignore]]` still needs a reason and an expiry."""
