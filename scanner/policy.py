"""Policy: the project's `[tool.wormsign]` config, and the filter it puts on findings.

Config lives in `wormsign.toml` (top-level keys) or in `[tool.wormsign]` of
`pyproject.toml`, found from the scanned project upward (a `wormsign.toml` wins over a
`pyproject.toml` in the same directory), or named with `--config`::

    fail-on = "high"
    checks = ["lock", "advisories", "metadata"]
    offline = true
    db = ".wormsign/osv.sqlite"          # relative to the config file
    exclude = ["tests/fixtures", "*.ipynb"] # globs a project walk passes over
    min-release-age = "P3D"                # ISO 8601: a file uploaded less than 3 days ago
    min-release-age-severity = "high"      # is a finding of this severity (default high)

    [[ignore]]                             # at least one of rule / id / package / path
    rule = "WS-TYPO-001"
    package = "torchvison-internal"
    reason = "our own fork, vetted by security"
    expires = 2027-03-01                   # a TOML date; the day itself still counts

    [[allow]]                              # a vetted file, by path glob and sha256
    path = "models/*.pt"
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    reason = "checkpoint reviewed 2026-11"

    [provenance]                           # the publisher policy: see
                                           # scanner.checks.provenance.check
    [[models.allow]]                       # pickle globals allowed in one vetted model file
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    globals = ["mypkg.config.TrainConfig"] # (and/or path = "models/*.pt")
    reason = "our own config class"

Every mistake is a ConfigError (exit 2) naming the file, the key and the problem.
Policy only filters: an ignore never changes a finding, it moves it to `suppressed`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import re
import sys
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import NoReturn

from scanner.checks.models.settings import ModelAllow, ModelSettings
from scanner.checks.provenance.settings import ProvenancePolicy, parse_provenance_policy
from scanner.errors import ConfigError
from scanner.infra.hashing import sha256_file
from scanner.models import Finding, Severity, Suppression, canonical
from scanner.options import ScanOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILE = "wormsign.toml"
PYPROJECT_FILE = "pyproject.toml"
TOOL_TABLE = "tool.wormsign"

_TOP_KEYS = frozenset(
    {
        "fail-on",
        "checks",
        "offline",
        "online",
        "db",
        "cache-dir",
        "jobs",
        "ignore",
        "allow",
        "provenance",
        "models",
        "min-release-age",
        "min-release-age-severity",
        "exclude",
    }
)
_IGNORE_KEYS = frozenset({"rule", "id", "package", "path", "reason", "expires"})
_IGNORE_SELECTORS = ("rule", "id", "package", "path")
_ALLOW_KEYS = frozenset({"path", "sha256", "reason", "rule", "expires"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MODELS_KEYS = frozenset({"allow"})
_MODEL_ALLOW_KEYS = frozenset({"sha256", "path", "globals", "reason"})


@dataclass(frozen=True, slots=True)
class Ignore:
    """One `[[ignore]]` entry: every selector it gives must match a finding."""

    source: Path
    position: int
    """1-based position among the file's `[[ignore]]` entries."""
    reason: str
    expires: date
    """The last day the ignore applies."""
    rule: str | None = None
    """A rule id; `*` and `?` globs allowed (`WS-CONFUSION-*`)."""
    id: str | None = None
    """An advisory id or alias (GHSA-..., CVE-..., PYSEC-..., MAL-...)."""
    package: str | None = None
    path: str | None = None
    """A glob over the finding's path, relative to the config file's directory."""

    def describe(self) -> str:
        """`ignore #2 (rule=WS-TYPO-001, package=foo) in /x/wormsign.toml`."""
        chosen = ", ".join(
            f"{k}={getattr(self, k)}" for k in _IGNORE_SELECTORS if getattr(self, k) is not None
        )
        return f"ignore #{self.position} ({chosen}) in {self.source}"

    def matches(self, finding: Finding, base: Path | None) -> bool:
        """True when every selector this ignore gives matches the finding."""
        if self.rule is not None and not fnmatch.fnmatchcase(
            finding.rule_id.upper(), self.rule.upper()
        ):
            return False
        if self.id is not None:
            wanted = self.id.upper()
            if wanted not in {i.upper() for i in (*finding.references, *finding.aliases)}:
                return False
        if self.package is not None and (
            finding.package is None or canonical(finding.package) != canonical(self.package)
        ):
            return False
        return self.path is None or path_matches(finding.path, self.path, base)


@dataclass(frozen=True, slots=True)
class Allow:
    """One `[[allow]]` entry: a vetted file, allowed while its bytes are the vetted ones."""

    source: Path
    position: int
    path: str
    """A glob over the finding's path, relative to the config file's directory."""
    sha256: str
    reason: str
    rule: str | None = None
    """Limit the allowance to one rule id (glob); None allows every finding on the file."""
    expires: date | None = None

    def describe(self) -> str:
        """`allow #1 (path=models/*.pt) in /x/wormsign.toml`."""
        return f"allow #{self.position} (path={self.path}) in {self.source}"


@dataclass(frozen=True, slots=True)
class Config:
    """The project's policy. Fields left None were not set: the CLI or defaults decide."""

    source: Path | None = None
    """The file it came from; None when no config was found."""
    fail_on: Severity | None = None
    checks: frozenset[str] | None = None
    online: bool | None = None
    db_path: Path | None = None
    cache_dir: Path | None = None
    jobs: int | None = None
    ignores: tuple[Ignore, ...] = ()
    allows: tuple[Allow, ...] = ()
    provenance: ProvenancePolicy | None = None
    """The `[provenance]` table, parsed: the provenance check's policy."""
    models: ModelSettings | None = None
    """The `[models]` table, parsed: the models check's allowlist."""
    min_release_age: timedelta | None = None
    release_age_severity: Severity | None = None
    exclude: tuple[str, ...] = ()
    """Globs of paths project walks pass over (see ScanOptions.exclude)."""

    @property
    def base_dir(self) -> Path | None:
        """Where relative paths in the config are anchored."""
        return self.source.parent if self.source is not None else None


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """Findings after policy, and what humans must be told about the policy itself."""

    kept: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    """What the allows and ignores set aside, each with the entry and its reason."""
    notes: tuple[str, ...]
    """Expired and stale ignores, allowlisted files that changed."""

    @property
    def suppressed(self) -> tuple[Finding, ...]:
        """The findings set aside."""
        return tuple(s.finding for s in self.suppressions)


# ---------------------------------------------------------------------------------------
# Finding and reading the file


def _read_toml(path: Path) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config: {err}", path=str(path)) from err
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", path=str(path)) from err
    except RecursionError as err:  # `a = [[[[...` thousands deep: tomllib recurses
        raise ConfigError("not valid TOML: nested too deeply", path=str(path)) from err


def _tool_table(data: Mapping[str, object], path: Path) -> Mapping[str, object] | None:
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError("`tool` must be a table", path=str(path))
    table = tool.get("wormsign")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"`{TOOL_TABLE}` must be a table", path=str(path))
    return table


def find_config(start: Path) -> Path | None:
    """The nearest `wormsign.toml`, or `pyproject.toml` with a `[tool.wormsign]` table, in
    `start` (a file's directory if it is a file) or any directory above it."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT_FILE
        # Only a pyproject that mentions us is parsed: a scanned project's broken
        # pyproject.toml is not our configuration error.
        if (
            pyproject.is_file()
            and _mentions_us(pyproject)
            and _tool_table(_read_toml(pyproject), pyproject) is not None
        ):
            return pyproject
    return None


def _mentions_us(path: Path) -> bool:
    try:
        return "wormsign" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def load_config(start: Path, explicit: Path | None = None) -> Config:
    """The policy for a scan of `start`: from `explicit` (`--config`) if given, else the
    nearest config file above `start`, else an empty Config."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError("config file does not exist", path=str(explicit))
        path = explicit
    else:
        found = find_config(start)
        if found is None:
            return Config()
        path = found
    data = _read_toml(path)
    if path.name == PYPROJECT_FILE:
        table = _tool_table(data, path)
        if table is None:
            raise ConfigError(f"no [{TOOL_TABLE}] table", path=str(path))
        return parse_config(table, path, prefix=f"{TOOL_TABLE}.")
    return parse_config(data, path)


# ---------------------------------------------------------------------------------------
# Validating the table


class _Reader:
    """Typed access to one table, with errors that name the file and the full key."""

    def __init__(self, table: Mapping[str, object], source: Path, prefix: str) -> None:
        self.source = source
        self.prefix = prefix
        # `fail_on` and `fail-on` are the same key, as in the provenance table.
        self.table: dict[str, object] = {}
        for key, value in table.items():
            norm = str(key).replace("_", "-")
            if norm in self.table:
                self.fail(norm, "is given twice (with `-` and `_`)")
            self.table[norm] = value

    def fail(self, key: str, problem: str, hint: str | None = None) -> NoReturn:
        raise ConfigError(f"`{self.prefix}{key}` {problem}", path=str(self.source), hint=hint)

    def reject_unknown(self, known: Collection[str]) -> None:
        for key in sorted(set(self.table) - set(known)):
            self.fail(key, "is not a known key", hint="known keys: " + ", ".join(sorted(known)))

    def string(self, key: str, *, required: bool = False) -> str | None:
        value = self.table.get(key)
        if value is None:
            if required:
                self.fail(key, "is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
        return str(value).strip()

    def boolean(self, key: str) -> bool | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
        return value

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.table.get(key)
        if value is None:
            if required:
                self.fail(
                    key,
                    "is missing",
                    hint="every ignore needs an expiry date: expires = 2027-03-01",
                )
            return None
        if isinstance(value, datetime):
            return value.date()
        if not isinstance(value, date):
            self.fail(key, "must be a TOML date", hint="write it unquoted: expires = 2027-03-01")
        return value

    def tables(self, key: str) -> list[Mapping[str, object]]:
        value = self.table.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, "must be an array of tables", hint=f"write [[{self.prefix}{key}]]")
        return [v for v in value if isinstance(v, dict)]

    def raw_table(self, key: str) -> Mapping[str, object] | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        return value


def parse_config(table: Mapping[str, object], source: Path, prefix: str = "") -> Config:
    """Validate a config table (top level of wormsign.toml, or `[tool.wormsign]`)."""
    top = _Reader(table, source, prefix)
    top.reject_unknown(_TOP_KEYS)
    fail_on = _severity(top, "fail-on")
    min_release_age: timedelta | None = None
    if (text := top.string("min-release-age")) is not None:
        from scanner.checks.freshness.duration import parse_duration

        try:
            min_release_age = parse_duration(text)
        except ValueError as err:
            top.fail("min-release-age", f"is not a duration: {err}", hint='e.g. "P3D"')
    exclude: tuple[str, ...] = ()
    if "exclude" in top.table:
        value = top.table["exclude"]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            top.fail("exclude", "must be a list of globs", hint='exclude = ["tests/fixtures"]')
        exclude = tuple(str(v).strip() for v in value)
    checks: frozenset[str] | None = None
    if "checks" in top.table:
        value = top.table["checks"]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            top.fail("checks", "must be a list of check names")
        checks = frozenset(str(v).strip() for v in value)
    offline, online = top.boolean("offline"), top.boolean("online")
    if offline is not None and online is not None and offline == online:
        top.fail(
            "online",
            f"= {str(online).lower()} contradicts `{prefix}offline` = {str(offline).lower()}",
        )
    network = online if online is not None else (None if offline is None else not offline)
    db_path: Path | None = None
    if (db := top.string("db")) is not None:
        db_path = Path(db).expanduser()
        if not db_path.is_absolute():
            db_path = source.parent / db_path
    cache_dir: Path | None = None
    if (text := top.string("cache-dir")) is not None:
        cache_dir = Path(text).expanduser()
        if not cache_dir.is_absolute():
            cache_dir = source.parent / cache_dir
    jobs = top.table.get("jobs")
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        top.fail("jobs", "must be a whole number of at least 1")
    ignores = tuple(
        _parse_ignore(entry, source, prefix, n)
        for n, entry in enumerate(top.tables("ignore"), start=1)
    )
    allows = tuple(
        _parse_allow(entry, source, prefix, n)
        for n, entry in enumerate(top.tables("allow"), start=1)
    )
    # The checks' tables are parsed here, once: a bad one is a configuration error before
    # anything is scanned.
    provenance = top.raw_table("provenance")
    models = top.raw_table("models")
    where = str(source)
    return Config(
        source=source,
        fail_on=fail_on,
        checks=checks,
        online=network,
        db_path=db_path,
        cache_dir=cache_dir,
        jobs=jobs,
        ignores=ignores,
        allows=allows,
        provenance=None if provenance is None else parse_provenance_policy(provenance, path=where),
        models=None if models is None else _parse_models(models, source, prefix),
        min_release_age=min_release_age,
        release_age_severity=_severity(top, "min-release-age-severity"),
        exclude=exclude,
    )


def _parse_models(table: Mapping[str, object], source: Path, prefix: str) -> ModelSettings:
    reader = _Reader(table, source, f"{prefix}models.")
    reader.reject_unknown(_MODELS_KEYS)
    allows = tuple(
        _parse_model_allow(entry, source, f"{prefix}models.allow[{n}].")
        for n, entry in enumerate(reader.tables("allow"), start=1)
    )
    return ModelSettings(allow=allows)


def _parse_model_allow(entry: Mapping[str, object], source: Path, prefix: str) -> ModelAllow:
    reader = _Reader(entry, source, prefix)
    reader.reject_unknown(_MODEL_ALLOW_KEYS)
    names = reader.table.get("globals")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and n.strip() for n in names)
    ):
        reader.fail(
            "globals",
            "must be a non-empty list of qualified names",
            hint='globals = ["mypkg.config.TrainConfig", "mypkg.layers.*"]',
        )
    digest = reader.string("sha256")
    path = reader.string("path")
    if digest is None and path is None:
        reader.fail("sha256", "is missing: an entry must select the file by sha256 or path")
    if digest is not None:
        digest = _sha256(reader, digest)
    return ModelAllow(
        globals=tuple(str(n).strip() for n in names),
        sha256=digest,
        path=path,
        reason=reader.string("reason", required=True),
    )


def _severity(top: _Reader, key: str) -> Severity | None:
    if (text := top.string(key)) is None:
        return None
    try:
        return Severity.parse(text)
    except ValueError as err:
        top.fail(key, f"is not a severity: {err}")


def _parse_ignore(entry: Mapping[str, object], source: Path, prefix: str, n: int) -> Ignore:
    reader = _Reader(entry, source, f"{prefix}ignore[{n}].")
    reader.reject_unknown(_IGNORE_KEYS)
    selectors = {k: reader.string(k) for k in _IGNORE_SELECTORS}
    if not any(selectors.values()):
        reader.fail(
            "rule",
            "is missing: an ignore must name what it ignores",
            hint="give rule, id, package or path",
        )
    reason = reader.string("reason", required=True)
    expires = reader.day("expires", required=True)
    assert reason is not None and expires is not None  # required=True raised otherwise
    return Ignore(source=source, position=n, reason=reason, expires=expires, **selectors)


def _parse_allow(entry: Mapping[str, object], source: Path, prefix: str, n: int) -> Allow:
    reader = _Reader(entry, source, f"{prefix}allow[{n}].")
    reader.reject_unknown(_ALLOW_KEYS)
    path = reader.string("path", required=True)
    digest = reader.string("sha256", required=True)
    reason = reader.string("reason", required=True)
    assert path is not None and digest is not None and reason is not None
    return Allow(
        source=source,
        position=n,
        path=path,
        sha256=_sha256(reader, digest),
        reason=reason,
        rule=reader.string("rule"),
        expires=reader.day("expires"),
    )


def _sha256(reader: _Reader, digest: str) -> str:
    """A config sha256 in lower-case hex (an `sha256:` prefix is allowed)."""
    digest = digest.lower().removeprefix("sha256:")
    if not _SHA256.match(digest):
        reader.fail("sha256", "must be 64 hexadecimal characters")
    return digest


# ---------------------------------------------------------------------------------------
# Applying it


def apply_config(
    options: ScanOptions, config: Config, overridden: Collection[str] = ()
) -> ScanOptions:
    """`options` with the config's settings filled in, except the ScanOptions fields named
    in `overridden` (those the user set on the command line, which win)."""
    changes: dict[str, object] = {}
    if config.fail_on is not None and "fail_on" not in overridden:
        changes["fail_on"] = config.fail_on
    if config.checks is not None and "checks" not in overridden:
        changes["checks"] = config.checks
    if config.online is not None and "online" not in overridden:
        changes["online"] = config.online
    if config.db_path is not None and "db_path" not in overridden:
        changes["db_path"] = config.db_path
    if config.cache_dir is not None and "cache_dir" not in overridden:
        changes["cache_dir"] = config.cache_dir
    if config.jobs is not None and "jobs" not in overridden:
        changes["jobs"] = config.jobs
    # The checks' settings: the config's, unless the caller already gave its own.
    if config.provenance is not None and options.provenance == ProvenancePolicy():
        changes["provenance"] = config.provenance
    if config.models is not None and options.models == ModelSettings():
        changes["models"] = config.models
    freshness = options.freshness
    if config.min_release_age is not None and "min_release_age" not in overridden:
        freshness = dataclasses.replace(freshness, min_age=config.min_release_age)
    if config.release_age_severity is not None:
        freshness = dataclasses.replace(freshness, severity=config.release_age_severity)
    if freshness != options.freshness:
        changes["freshness"] = freshness
    if config.exclude:
        changes["exclude"] = tuple(dict.fromkeys((*options.exclude, *config.exclude)))
    return dataclasses.replace(options, **changes)  # type: ignore[arg-type]


COMMAND_LINE = Path("the command line")
"""The `source` of ignores given with `--ignore-vuln`."""


def with_command_line_ignores(config: Config, ids: Iterable[str]) -> Config:
    """`config` with one ignore per `--ignore-vuln ID`: the WS-ADV-VULN findings of that
    advisory (by id or alias) are suppressed, with the flag as their reason. Only
    vulnerabilities: a malicious-package finding is never ignored from the command line."""
    extra = tuple(
        Ignore(
            source=COMMAND_LINE,
            position=n,
            reason=f"--ignore-vuln {vuln_id} on the command line",
            expires=date.max,
            rule="WS-ADV-VULN",
            id=vuln_id,
        )
        for n, vuln_id in enumerate(dict.fromkeys(i.strip() for i in ids if i.strip()), 1)
    )
    return dataclasses.replace(config, ignores=(*config.ignores, *extra)) if extra else config


def _path_forms(finding_path: str, base: Path | None) -> list[str]:
    """The finding's path as given, and relative to the config's directory where it is
    inside it, in POSIX form."""
    forms = [PurePosixPath(Path(finding_path).as_posix()).as_posix()]
    if base is not None:
        path = Path(finding_path)
        absolute = path if path.is_absolute() else Path.cwd() / path
        with contextlib.suppress(ValueError, OSError):
            forms.append(absolute.resolve().relative_to(base.resolve()).as_posix())
    return forms


def path_matches(finding_path: str | None, pattern: str, base: Path | None) -> bool:
    """Whether a finding's path matches a config glob; a pattern without `/` also matches
    the file name alone (`*.pth`)."""
    if finding_path is None:
        return False
    pattern = pattern.removeprefix("./")
    for form in _path_forms(finding_path, base):
        if fnmatch.fnmatchcase(form, pattern):
            return True
        if "/" not in pattern and fnmatch.fnmatchcase(PurePosixPath(form).name, pattern):
            return True
    return False


def _file_on_disk(finding_path: str, base: Path | None) -> Path | None:
    path = Path(finding_path)
    candidates = [path] if path.is_absolute() else [path, *([base / path] if base else [])]
    return next((c for c in candidates if c.is_file()), None)


class _Hashes:
    """sha256 of the files allow entries look at, hashed once each."""

    def __init__(self) -> None:
        self._seen: dict[Path, str | None] = {}

    def of(self, path: Path) -> str | None:
        if path not in self._seen:
            try:
                self._seen[path] = sha256_file(path)[0]
            except OSError:
                self._seen[path] = None
        return self._seen[path]


def apply_policy(findings: Iterable[Finding], config: Config, today: date) -> PolicyResult:
    """Split findings into kept and suppressed by the config's allows and ignores, and say
    which ignores expired, which matched nothing, and which allowed files changed."""
    base = config.base_dir
    notes: list[str] = []
    ignores: list[Ignore] = []
    for ignore in config.ignores:
        if ignore.expires < today:
            notes.append(
                f"{ignore.describe()} expired on {ignore.expires.isoformat()} and "
                f"no longer applies (reason was: {ignore.reason})"
            )
        else:
            ignores.append(ignore)
    allows: list[Allow] = []
    for allow in config.allows:
        if allow.expires is not None and allow.expires < today:
            notes.append(
                f"{allow.describe()} expired on {allow.expires.isoformat()} and "
                f"no longer applies (reason was: {allow.reason})"
            )
        else:
            allows.append(allow)
    used: set[int] = set()  # id() of the entries that suppressed something
    hashes = _Hashes()
    changed: dict[tuple[int, str], str] = {}
    kept: list[Finding] = []
    suppressed: list[Suppression] = []
    for finding in findings:
        entry: Allow | Ignore | None = _allowed_by(finding, allows, base, hashes, changed)
        if entry is None:
            entry = next((i for i in ignores if i.matches(finding, base)), None)
        if entry is None:
            kept.append(finding)
        else:
            used.add(id(entry))
            suppressed.append(Suppression(finding, entry.reason, entry.describe()))
    notes.extend(changed.values())
    notes.extend(
        f"stale ignore: {i.describe()} matched no finding (reason: {i.reason}); "
        "remove it if the problem is gone"
        for i in ignores
        if id(i) not in used
    )
    notes.extend(
        f"stale allow: {a.describe()} matched no finding"
        for a in allows
        if id(a) not in used and not any(k[0] == id(a) for k in changed)
    )
    return PolicyResult(
        kept=tuple(kept), suppressions=tuple(suppressed), notes=tuple(dict.fromkeys(notes))
    )


def _allowed_by(
    finding: Finding,
    allows: Iterable[Allow],
    base: Path | None,
    hashes: _Hashes,
    changed: dict[tuple[int, str], str],
) -> Allow | None:
    """The allow entry that covers this finding's file with the vetted bytes, if any."""
    if finding.path is None:
        return None
    for allow in allows:
        if allow.rule is not None and not fnmatch.fnmatchcase(
            finding.rule_id.upper(), allow.rule.upper()
        ):
            continue
        if not path_matches(finding.path, allow.path, base):
            continue
        on_disk = _file_on_disk(finding.path, base)
        actual = hashes.of(on_disk) if on_disk is not None else None
        if actual == allow.sha256:
            return allow
        what = (
            f"now has sha256 {actual}"
            if actual is not None
            else "cannot be read to compare its sha256"
        )
        changed.setdefault(
            (id(allow), finding.path),
            f"{finding.path} matches {allow.describe()} but {what}, not the "
            f"vetted {allow.sha256}: it is no longer allowed",
        )
    return None


# ---------------------------------------------------------------------------------------
# A config that weakens the gate is said so; one found inside a target governs only it


_PROBE_RULES = ("WS-INT-001", "WS-PTH-001", "WS-MODEL-001", "WS-ADV-MAL", "WS-ADV-VULN")


def weakening_notes(config: Config, known_checks: Collection[str]) -> list[str]:
    """Notes for a config that disables checks or ignores (nearly) everything."""
    notes: list[str] = []
    if config.source is None:
        return notes
    if config.checks is not None:
        off = sorted(set(known_checks) - set(config.checks))
        if off:
            notes.append(f"{config.source} disables checks: {', '.join(off)}")
    if config.exclude:
        notes.append(f"{config.source} excludes from project walks: {', '.join(config.exclude)}")
    for ignore in config.ignores:
        broad_rule = ignore.rule is None or all(
            fnmatch.fnmatchcase(r, ignore.rule.upper()) for r in _PROBE_RULES
        )
        broad_path = ignore.path is None or ignore.path.strip("/") in ("*", "**", "**/*")
        if broad_rule and broad_path and ignore.package is None and ignore.id is None:
            notes.append(f"{ignore.describe()} ignores every finding")
    return notes


def governs(config: Config, targets: Iterable[Path]) -> bool:
    """Whether every target lies inside the directory of a config found by searching."""
    base = config.base_dir
    if base is None:
        return True
    root = base.resolve()
    return all(_inside(target, root) for target in targets)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True
