"""OSV matching semantics for PyPI, as pure functions over parsed records.

One place decides whether a pinned version is affected by an OSV record, so the
offline database and the online API give the same answers. Real data is dirty
(`2.6.0-NA`, `2.6.0-cu124`, dates as versions): what can be read is read, what
is approximated or cannot be evaluated at all becomes a note, never a crash and
never a silent drop.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import cvss  # type: ignore[import-untyped]
from cvss.exceptions import CVSSError  # type: ignore[import-untyped]
from packaging.version import Version

from scanner.infra.versions import parse_version as parse_version
from scanner.infra.versions import version_key as version_key
from scanner.models import Severity, canonical

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")

# Summaries of records that announce malware (PYSEC copies of MAL records, the
# ultralytics, ctx, num2words and litellm compromises). Matched on the summary only:
# "details" talk of "a malicious user" in thousands of ordinary vulnerabilities. Checked
# against every PYSEC summary of the 2026-07 PyPA snapshot: no vulnerability matches.
_MALWARE_SUMMARY = re.compile(
    r"^\s*malicious code in\b"
    r"|(?<![-\w])malware\b(?!\s+analy)"  # not "Anti-Malware", not "malware analysis"
    r"|\bcontain(?:s|ed|ing)?\s+(?:\w+\s+){0,3}?"
    r"(?:malicious\s+(?:\w+\s+){0,3}?(?:code|software|payload)|credential[- ]harvesting)"
    r"|\breplaced\s+with\s+a\s+malicious\b",
    re.IGNORECASE,
)
_MALWARE_KEYS = ("malicious-packages-origins", "malicious", "malware")


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a range: `introduced`, `fixed`, `last_affected` or `limit`."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Range:
    """One `ranges[]` entry. Only ECOSYSTEM (and SEMVER) ranges take part in matching."""

    type: str
    events: tuple[Event, ...]


class JoinedKeys(Collection[str]):
    """Version keys kept as one separator-joined string, as the database stores them.

    Membership is a substring search in C: no set of hundreds of strings is built
    for each of the 427 tensorflow records a lookup loads.
    """

    __slots__ = ("_sep", "_text")

    def __init__(self, joined: str, sep: str) -> None:
        self._sep = sep
        self._text = f"{sep}{joined}{sep}" if joined else ""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and f"{self._sep}{key}{self._sep}" in self._text

    def __iter__(self) -> Iterator[str]:
        return iter(self._text[1:-1].split(self._sep) if self._text else ())

    def __len__(self) -> int:
        return self._text.count(self._sep) - 1 if self._text else 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JoinedKeys | frozenset | set):
            return set(self) == set(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        return f"JoinedKeys({sorted(self)!r})"


@dataclass(frozen=True, slots=True)
class Affected:
    """One `affected[]` entry, for one package."""

    name: str
    """PEP 503 canonical name."""
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    """The enumerated versions exactly as the record writes them (left empty by the
    database reader, which loads only `version_keys`: matching needs nothing else)."""
    version_keys: Collection[str] = frozenset()
    """`versions` normalised with `version_key` (precomputed: the database stores them)."""
    malware_marker: bool = False
    """`affected[].database_specific` marks this entry as malware."""


@dataclass(frozen=True, slots=True)
class Advisory:
    """An OSV record reduced to what matching, severity and reporting need."""

    id: str
    modified: str
    published: str | None = None
    withdrawn: str | None = None
    aliases: tuple[str, ...] = ()
    summary: str = ""
    """Summary, or the first line of details where the record has no summary."""
    severity: tuple[tuple[str, str], ...] = ()
    """(type, score) pairs: ("CVSS_V3", "CVSS:3.1/AV:N/...")."""
    affected: tuple[Affected, ...] = ()
    references: tuple[str, ...] = ()
    """Reference URLs, advisory pages first."""
    malware_marker: bool = False
    """The record's own database_specific marks it as malware (OSSF origins)."""


@dataclass(frozen=True, slots=True)
class Match:
    """A record that affects a pinned version, and what the record says about fixes."""

    advisory: Advisory
    fixed: tuple[str, ...]
    """Fixed versions named by the record for this package, ascending."""
    how: str
    """How it matched: "range", "versions" or "range+versions"."""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Every record affecting one (package, version), plus what could not be judged."""

    matches: tuple[Match, ...]
    notes: tuple[str, ...]
    """Human-readable notes on approximated or unevaluable data (for --verbose)."""


# -- parsing records ---------------------------------------------------------------


def parse_record(data: Mapping[str, object]) -> Advisory:
    """Reduce one OSV JSON record to an Advisory. Raises ValueError if it is no OSV record."""
    rid = data.get("id")
    modified = data.get("modified")
    if not isinstance(rid, str) or not rid:
        raise ValueError("record has no string 'id'")
    if not isinstance(modified, str):
        raise ValueError(f"{rid}: record has no string 'modified'")
    affected_raw = data.get("affected") or []
    if not isinstance(affected_raw, list):
        raise ValueError(f"{rid}: 'affected' is not a list")
    affected = tuple(_parse_affected(rid, a) for a in affected_raw if _is_pypi(a))
    return Advisory(
        id=rid,
        modified=modified,
        published=_opt_str(data.get("published")),
        withdrawn=_opt_str(data.get("withdrawn")),
        aliases=tuple(a for a in _list(data.get("aliases")) if isinstance(a, str)),
        summary=_summary(data),
        severity=tuple(
            (str(s.get("type", "")), str(s.get("score", "")))
            for s in _list(data.get("severity"))
            if isinstance(s, Mapping)
        ),
        affected=affected,
        references=_references(data),
        malware_marker=_marks_malware(data.get("database_specific")),
    )


def _is_pypi(entry: object) -> bool:
    if not isinstance(entry, Mapping):
        return False
    pkg = entry.get("package")
    if not isinstance(pkg, Mapping) or not isinstance(pkg.get("name"), str):
        return False
    eco = pkg.get("ecosystem")
    return isinstance(eco, str) and eco.split(":", 1)[0] == "PyPI"


def _parse_affected(rid: str, entry: Mapping[str, object]) -> Affected:
    pkg = entry["package"]
    assert isinstance(pkg, Mapping)
    ranges: list[Range] = []
    for r in _list(entry.get("ranges")):
        if not isinstance(r, Mapping):
            raise ValueError(f"{rid}: a range is not an object")
        events = tuple(
            Event(kind, str(value))
            for e in _list(r.get("events"))
            if isinstance(e, Mapping)
            for kind, value in e.items()
            if kind in EVENT_KINDS
        )
        ranges.append(Range(type=str(r.get("type", "")), events=events))
    versions = tuple(str(v) for v in _list(entry.get("versions")))
    return Affected(
        name=canonical(str(pkg["name"])),
        ranges=tuple(ranges),
        versions=versions,
        version_keys=frozenset(version_key(v) for v in versions),
        malware_marker=_marks_malware(entry.get("database_specific")),
    )


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _summary(data: Mapping[str, object]) -> str:
    summary = data.get("summary")
    if isinstance(summary, str) and summary.strip():
        return " ".join(summary.split())
    details = data.get("details")
    if isinstance(details, str):
        for line in details.splitlines():
            if line.strip() and not line.startswith(("---", "_-=")):
                # One sentence: the first one, cut at a word if it runs long.
                text = re.split(r"(?<=[a-z0-9)])\.\s", " ".join(line.split()), maxsplit=1)[0]
                if len(text) > 200:
                    text = text[:200].rsplit(" ", 1)[0] + "..."
                return text
    return ""


def _references(data: Mapping[str, object]) -> tuple[str, ...]:
    refs = [r for r in _list(data.get("references")) if isinstance(r, Mapping)]
    # Advisory pages first: they are what a human wants to open.
    refs.sort(key=lambda r: 0 if r.get("type") == "ADVISORY" else 1)
    seen: dict[str, None] = {}
    for r in refs:
        url = r.get("url")
        if isinstance(url, str) and url:
            seen.setdefault(url)
    return tuple(seen)


def _marks_malware(db_specific: object) -> bool:
    """database_specific marks malware: OSSF origins, a malware/malicious key or type."""
    if not isinstance(db_specific, Mapping):
        return False
    for key, value in db_specific.items():
        if str(key).lower() in _MALWARE_KEYS and value:
            return True
        if (
            str(key).lower() in ("type", "category", "classification")
            and isinstance(value, str)
            and value.lower() in ("malware", "malicious")
        ):
            return True
    return False


# -- malware and severity ------------------------------------------------------------


def is_malicious(advisory: Advisory) -> bool:
    """A MAL- record, or one whose summary or database_specific marks malware."""
    return (
        advisory.id.startswith("MAL-")
        or advisory.malware_marker
        or any(a.malware_marker for a in advisory.affected)
        or bool(_MALWARE_SUMMARY.search(advisory.summary))
    )


@lru_cache(maxsize=8192)
def cvss_score(kind: str, vector: str) -> float | None:
    """Base score of a CVSS v2/v3/v4 vector with the `cvss` library; None if unreadable."""
    # The cvss package is a maintained calculator for all three versions: its
    # arithmetic (v4's lookup tables especially) is not something to re-derive here.
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            return float(cvss.CVSS4(vector).base_score)
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            return float(cvss.CVSS3(vector).scores()[0])
        if kind == "CVSS_V2":
            return float(cvss.CVSS2(vector).scores()[0])
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    return None


def severity_from_score(score: float) -> Severity:
    """CVSS qualitative rating: critical >= 9, high >= 7, medium >= 4, low > 0."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def severity_of(advisory: Advisory) -> tuple[Severity, float | None]:
    """(severity, best CVSS score). Malware is critical; unscored records are high.

    Where a record carries several vectors (v3 and v4), the highest score counts:
    the gate fails closed rather than picking the kinder calculator.
    """
    if is_malicious(advisory):
        return Severity.CRITICAL, None
    scores = [s for kind, vec in advisory.severity if (s := cvss_score(kind, vec)) is not None]
    if not scores:
        return Severity.HIGH, None
    best = max(scores)
    return severity_from_score(best), best


# -- matching --------------------------------------------------------------------------


_ZERO = Version("0")


def _sort_key(item: tuple[Event, Version | None]) -> tuple[int, Version, int]:
    # "introduced: 0" comes first; at equal versions an introduced precedes the others,
    # as OSV's reference evaluator does.
    event, parsed = item
    if parsed is None:
        return (0, _ZERO, 0)
    return (1, parsed, 0 if event.kind == "introduced" else 1)


def range_affects(rng: Range, version: Version, advisory_id: str, notes: list[str]) -> bool | None:
    """Whether an ECOSYSTEM range covers `version`; None if the range cannot be evaluated."""
    parsed: list[tuple[Event, Version | None]] = []
    for event in rng.events:
        if event.kind == "introduced" and event.value == "0":
            parsed.append((event, None))
            continue
        value, approximated = parse_version(event.value)
        if value is None:
            notes.append(
                f"{advisory_id}: {event.kind} {event.value!r} is not a version; range not evaluated"
            )
            return None
        if approximated:
            notes.append(f"{advisory_id}: {event.kind} {event.value!r} read as {value}")
        parsed.append((event, value))
    limits = [v for e, v in parsed if e.kind == "limit" and v is not None]
    ordered = sorted(((e, v) for e, v in parsed if e.kind != "limit"), key=_sort_key)
    affected = False
    for event, value in ordered:
        if event.kind == "introduced":
            if value is None or version >= value:
                affected = True
        elif event.kind == "fixed":
            if value is not None and version >= value:
                affected = False
        elif event.kind == "last_affected" and value is not None and version > value:
            affected = False
    if affected and limits and not any(version < lim for lim in limits):
        affected = False
    return affected


def affected_entry_matches(
    entry: Affected, version_text: str, advisory_id: str, notes: list[str]
) -> str | None:
    """How `entry` covers the pinned version ("range", "versions", both), or None."""
    version, approximated = parse_version(version_text)
    how: list[str] = []
    if version is not None:
        for rng in entry.ranges:
            if rng.type not in ("ECOSYSTEM", "SEMVER"):
                continue  # GIT ranges name commits, not releases
            if range_affects(rng, version, advisory_id, notes):
                how.append("range")
                break
    elif any(r.type in ("ECOSYSTEM", "SEMVER") for r in entry.ranges):
        notes.append(
            f"{advisory_id}: pinned version {version_text!r} is not PEP 440; "
            "ranges not evaluated, only the versions list"
        )
    keys = entry.version_keys
    if keys and (version_text.strip() in keys or version_key(version_text) in keys):
        how.append("versions")
    if approximated:
        notes.append(f"{advisory_id}: pinned version {version_text!r} read as {version}")
    return "+".join(how) or None


def fixed_versions(advisory: Advisory, name: str) -> tuple[str, ...]:
    """Fixed versions the record names for `name` (ECOSYSTEM ranges), ascending."""
    found: dict[str, Version | None] = {}
    for entry in advisory.affected:
        if entry.name != name:
            continue
        for rng in entry.ranges:
            if rng.type not in ("ECOSYSTEM", "SEMVER"):
                continue
            for event in rng.events:
                if event.kind == "fixed":
                    found[event.value] = parse_version(event.value)[0]
    return tuple(sorted(found, key=lambda v: (found[v] is None, found[v] or Version("0"), v)))


def match_version(advisories: Iterable[Advisory], name: str, version: str) -> MatchResult:
    """Every non-withdrawn record among `advisories` that affects `name==version`."""
    name = canonical(name)
    matches: list[Match] = []
    notes: list[str] = []
    for adv in advisories:
        if adv.withdrawn:
            continue
        hows = []
        for entry in adv.affected:
            if entry.name != name:
                continue
            how = affected_entry_matches(entry, version, adv.id, notes)
            if how:
                hows.append(how)
        if hows:
            how_all = "+".join(sorted({h for hw in hows for h in hw.split("+")}))
            matches.append(Match(advisory=adv, fixed=fixed_versions(adv, name), how=how_all))
    return MatchResult(matches=tuple(matches), notes=tuple(dict.fromkeys(notes)))


def smallest_clearing_upgrade(
    advisories: Sequence[Advisory], name: str, version: str
) -> str | None:
    """The lowest fixed version above `version` that no record for `name` affects.

    Candidates are the fixed versions the records name; a candidate is accepted
    only if it is affected by none of the (non-withdrawn) records for the
    package. None if no known release clears them all.
    """
    name = canonical(name)
    current, _ = parse_version(version)
    candidates: dict[Version, str] = {}
    for adv in advisories:
        if adv.withdrawn:
            continue
        for text in fixed_versions(adv, name):
            parsed, approximated = parse_version(text)
            if parsed is None or approximated:
                continue
            if current is None or parsed > current:
                candidates.setdefault(parsed, text)
    live = [a for a in advisories if not a.withdrawn]
    for cand in sorted(candidates):
        if not _affects_any(live, name, candidates[cand]):
            return candidates[cand]
    return None


def _affects_any(advisories: Sequence[Advisory], name: str, version: str) -> bool:
    scratch: list[str] = []  # notes about candidates are not the pin's notes
    return any(
        affected_entry_matches(entry, version, adv.id, scratch)
        for adv in advisories
        for entry in adv.affected
        if entry.name == name
    )


# -- aliases ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchGroup:
    """Matches that are one issue known by several ids (PYSEC / GHSA / CVE / MAL)."""

    primary: Match
    others: tuple[Match, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id of the group: the primary record's, the other records', then aliases."""
        out: dict[str, None] = {m.advisory.id: None for m in (self.primary, *self.others)}
        for m in (self.primary, *self.others):
            for alias in m.advisory.aliases:
                out.setdefault(alias)
        return tuple(out)

    @property
    def matches(self) -> tuple[Match, ...]:
        """The primary match and the others."""
        return (self.primary, *self.others)


def _information(match: Match) -> tuple[int, int, int, int, int, str]:
    adv = match.advisory
    # "Most information": malware verdicts and scores first, then fixes, references, text.
    return (
        int(is_malicious(adv)),
        int(bool(adv.severity)),
        len(match.fixed),
        len(adv.references),
        len(adv.summary),
        adv.id,
    )


def collapse_aliases(matches: Sequence[Match]) -> tuple[MatchGroup, ...]:
    """Group matches whose {id} + aliases intersect (transitively); one group per issue."""
    parent = list(range(len(matches)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, m in enumerate(matches):
        for ident in (m.advisory.id, *m.advisory.aliases):
            j = owner.setdefault(ident, i)
            if j != i:
                parent[find(i)] = find(j)
    groups: dict[int, list[Match]] = {}
    for i, m in enumerate(matches):
        groups.setdefault(find(i), []).append(m)
    out = []
    for members in groups.values():
        members.sort(key=_information, reverse=True)
        out.append(MatchGroup(primary=members[0], others=tuple(members[1:])))
    out.sort(key=lambda g: g.primary.advisory.id)
    return tuple(out)
