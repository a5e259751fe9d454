"""Judgements on package names and where they come from, not on their bytes.

Rule ids (rules/typosquat/, rules/confusion/ hold their metadata):
- WS-TYPO-001       a name one or two keystrokes (or a separator, or a look-alike
                    character) away from a popular ML or infrastructure package, and
                    not itself among PyPI's most downloaded projects (high)
- WS-CONFUSION-001  a lock that mixes indexes and leaves a name without a hash pin, so any
                    index may serve it (high)
- WS-CONFUSION-002  hash-pinned names not bound to one of several indexes (medium, one
                    finding per lock file)
- WS-CONFUSION-003  uv's unsafe index strategies with several indexes (medium)
- WS-CONFUSION-004  online: a name taken from a private index that public PyPI serves at a
                    higher version it never published privately (critical: torchtriton)
- WS-SDIST-001      a pin that only allows an sdist while the lock has wheels for others:
                    installing it runs its build backend (low)
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from scanner.checks.interface import CheckContext, CheckResult
from scanner.errors import RuleError
from scanner.infra.http import response_cache_dir
from scanner.infra.pypi import PyPIJson, is_pypi, pypi_client
from scanner.infra.resources import rules_dir
from scanner.models import Finding, Inventory, LockedPackage, Lockfile, PinKind, Severity, canonical
from scanner.options import ScanOptions

TYPO_RULE = "WS-TYPO-001"
CONFUSION_UNHASHED_RULE = "WS-CONFUSION-001"
CONFUSION_UNBOUND_RULE = "WS-CONFUSION-002"
CONFUSION_STRATEGY_RULE = "WS-CONFUSION-003"
CONFUSION_PUBLIC_RULE = "WS-CONFUSION-004"
SDIST_RULE = "WS-SDIST-001"

POPULAR_NAMES_FILE = Path("typosquat") / "popular-names.txt"
ESTABLISHED_NAMES_FILE = Path("typosquat") / "established-names.txt"
"""PyPI's most downloaded projects (scripts/gen_established_names.py): never typosquats."""
TORCHTRITON_REF = "https://pytorch.org/blog/compromised-nightly-dependency/"
PIP_MERGE_REF = "https://github.com/pypa/pip/issues/8606"
_HTTP_TIMEOUT = 15.0
_UNSAFE_STRATEGIES = frozenset({"unsafe-best-match", "unsafe-any-match", "unsafe-first-match"})
# Entries whose name decides what an index serves; the others point at a URL, path or repo.
_INDEX_KINDS = frozenset({PinKind.PINNED, PinKind.UNPINNED})

# Characters that read like others in a name (after NFKC): digits for letters, Cyrillic
# and Greek homoglyphs. Multi-letter look-alikes are replaced first.
_LOOKALIKE_PAIRS = (("rn", "m"), ("vv", "w"))
_LOOKALIKE_CHARS = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "|": "l",
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
        "\u0443": "y",
        "\u0456": "i",
        "\u0458": "j",
        "\u03bf": "o",
        "\u03b1": "a",
        "\u03bd": "v",
        "\u03c5": "u",
    }
)


# ---------------------------------------------------------------------------------------
# Typosquats


def load_name_list(path: Path) -> frozenset[str]:
    """A list of package names, one a line, canonicalised; `#` starts a comment."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RuleError(f"cannot read a name list: {err.strerror or err}", path=str(path)) from err
    names = {canonical(line.split("#", 1)[0].strip()) for line in text.splitlines()}
    names.discard("")
    if not names:
        raise RuleError("the name list is empty", path=str(path))
    return frozenset(names)


def skeleton(name: str) -> str:
    """The name as a reader sees it: no separators or spaces, look-alikes folded."""
    text = unicodedata.normalize("NFKC", name).lower()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.translate(_LOOKALIKE_CHARS)
    text = "".join(c for c in text if c.isalnum())
    for seen, meant in _LOOKALIKE_PAIRS:
        text = text.replace(seen, meant)
    return text


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment); `limit + 1` once above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, prev2[j - 2] + 1)
            cur[j] = best
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[len(b)]


def allowed_edits(popular: str) -> int:
    """How many edits still read as `popular`: none for names of four letters or fewer
    (one edit makes another word: six / sip), one up to eight letters, two beyond."""
    letters = len(skeleton(popular))
    if letters <= 4:
        return 0
    return 1 if letters <= 8 else 2


# QWERTY neighbours: a slipped finger substitutes one of these for the intended key.
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, frozenset[str]]:
    near: dict[str, set[str]] = {}
    for r, row in enumerate(_KEYBOARD_ROWS):
        for c, key in enumerate(row):
            for dr in (-1, 0, 1):
                if not 0 <= r + dr < len(_KEYBOARD_ROWS):
                    continue
                other_row = _KEYBOARD_ROWS[r + dr]
                for dc in (-1, 0, 1):
                    if (dr or dc) and 0 <= c + dc < len(other_row):
                        near.setdefault(key, set()).add(other_row[c + dc])
    return {k: frozenset(v) for k, v in near.items()}


_NEAR_KEYS = _keyboard_neighbours()


def _slip_of_finger(candidate: str, popular: str) -> bool:
    """For five-letter names one edit is accepted only as a typing slip: a doubled or added
    letter, two letters swapped, or a neighbouring key. A dropped letter or a far
    substitution makes too many real words (tomli / tombi, typer / type)."""
    if len(candidate) > len(popular):
        return True
    if len(candidate) < len(popular):
        return False
    diffs = [i for i, (x, y) in enumerate(zip(candidate, popular, strict=True)) if x != y]
    if len(diffs) == 2:  # a transposition
        return True
    return len(diffs) == 1 and candidate[diffs[0]] in _NEAR_KEYS.get(popular[diffs[0]], ())


def _plausible_first_letter(candidate: str, popular: str) -> bool:
    """Readers check the first letter: a squat keeps it, swaps it with the second, drops it,
    or replaces it with a neighbouring key. A new first letter that is none of these
    (gsutil / psutil, bpython / ipython, gpytorch / pytorch) names another project."""
    first, wanted = candidate[0], popular[0]
    if first == wanted:
        return True
    if len(popular) > 1 and first == popular[1]:  # a transposition or a dropped first letter
        return True
    return first in _NEAR_KEYS.get(wanted, ()) or wanted == first.translate(_LOOKALIKE_CHARS)


def _is_sibling(candidate: str, popular: str) -> bool:
    """Names of one family: they differ in a short token or a number (nvidia-cuda-nvcc-cu12 /
    nvidia-cuda-nvrtc-cu12, jax-cuda12-plugin / jax-cuda13-plugin), or one adds a whole token
    to the other (opt-einsum-fx, jsonschema-rs, x-transformers): siblings, not squats."""
    ours, theirs = candidate.split("-"), popular.split("-")
    if len(ours) == len(theirs) + 1 and theirs in (ours[1:], ours[:-1]):
        return True
    if len(candidate) == len(popular):
        diffs = [(x, y) for x, y in zip(candidate, popular, strict=True) if x != y]
        if diffs and all(x.isdigit() and y.isdigit() for x, y in diffs):
            return True
    if len(ours) != len(theirs) or len(ours) < 2:
        return False
    differing = [(x, y) for x, y in zip(ours, theirs, strict=True) if x != y]
    return len(differing) == 1 and len(differing[0][1]) <= 4


def deletions(text: str, depth: int) -> set[str]:
    """Every string left after removing up to `depth` letters (the symmetric-delete trick:
    two names within `depth` edits share one of these, so lookups need no full scan)."""
    found = {text}
    frontier = {text}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@dataclass(frozen=True, slots=True)
class TyposquatMatch:
    """Why a name reads as a popular one."""

    name: str
    popular: str
    distance: int
    """0 when only separators or look-alike characters differ."""

    def explain(self) -> str:
        """A few words on the trick."""
        if self.distance == 0:
            return "differs only in separators or look-alike characters"
        edits = "one edit" if self.distance == 1 else f"{self.distance} edits"
        return f"is {edits} away"


@dataclass(frozen=True, slots=True)
class _Popular:
    name: str
    skeleton: str
    limit: int


class TyposquatIndex:
    """Popular names with their deletion variants, so a lookup touches only near names.

    `established` names are never reported: a typosquat is an obscure package imitating a
    popular one, so a project that is itself among PyPI's most downloaded is established,
    however close its name is to another (the rule GuardDog applies with PyPI's top
    packages). They are exempt only, never targets: squats imitate the popular list."""

    def __init__(self, popular: Iterable[str], established: Iterable[str] = ()) -> None:
        self.popular = frozenset(canonical(p) for p in popular)
        self.established = frozenset(canonical(n) for n in established)
        self._by_skeleton: dict[str, str] = {}
        self._entries: list[_Popular] = []
        self._by_deletion: dict[str, list[int]] = {}
        for name in sorted(self.popular):
            skel = skeleton(name)
            self._by_skeleton.setdefault(skel, name)
            limit = allowed_edits(name)
            if not limit:
                continue
            self._entries.append(_Popular(name, skel, limit))
            for variant in deletions(skel, limit):
                self._by_deletion.setdefault(variant, []).append(len(self._entries) - 1)

    def match(self, name: str) -> TyposquatMatch | None:
        """The popular name `name` imitates, or None (always None for a popular or an
        established name)."""
        name = canonical(name)
        if name in self.popular or name in self.established:
            return None
        skel = skeleton(name)
        if not skel:
            return None
        twin = self._by_skeleton.get(skel)
        if twin is not None:
            return TyposquatMatch(name, twin, 0)
        near = {i for v in deletions(skel, 2) for i in self._by_deletion.get(v, ())}
        best: TyposquatMatch | None = None
        for entry in (self._entries[i] for i in sorted(near)):
            distance = edit_distance(skel, entry.skeleton, entry.limit)
            if distance > entry.limit or _is_sibling(name, entry.name):
                continue
            if len(entry.skeleton) <= 5 and not _slip_of_finger(skel, entry.skeleton):
                continue
            if not _plausible_first_letter(skel, entry.skeleton):
                continue
            if best is None or distance < best.distance:
                best = TyposquatMatch(name, entry.name, distance)
        return best


@functools.lru_cache(maxsize=8)
def load_established_names(directory: Path | None = None) -> frozenset[str]:
    """PyPI's most downloaded projects (`rules/typosquat/established-names.txt`, or the
    same file in another rules dir), read once per directory."""
    return load_name_list((directory or rules_dir()) / ESTABLISHED_NAMES_FILE)


@functools.lru_cache(maxsize=8)
def default_index(directory: Path | None = None) -> TyposquatIndex:
    """The index over the shipped name lists (`rules/typosquat/`, or another rules dir)."""
    base = directory or rules_dir()
    return TyposquatIndex(
        load_name_list(base / POPULAR_NAMES_FILE), load_established_names(directory)
    )


@dataclass(frozen=True, slots=True)
class NamedThing:
    """A name some index decides, with what its scope says of its relations."""

    name: str
    version: str | None
    path: str
    line: int | None
    scope: str
    """Edges count within one scope only: an environment's site-packages or a lock file."""
    requires: tuple[str, ...] = ()
    project_urls: tuple[str, ...] = ()
    people: tuple[str, ...] = ()


def named_things(inventory: Inventory) -> Iterator[NamedThing]:
    """Every name an index decides: lock pins, installed distributions, distribution
    files, with the dependency edges and metadata their source records."""
    for pkg in inventory.locked_packages:
        if pkg.kind in _INDEX_KINDS:
            yield NamedThing(
                pkg.name,
                pkg.version,
                str(pkg.lockfile),
                pkg.line,
                f"lock:{pkg.lockfile}",
                pkg.dependencies,
            )
    for env in inventory.environments:
        for dist in env.distributions:
            yield NamedThing(
                dist.name,
                dist.version,
                str(dist.metadata_dir),
                None,
                f"env:{env.site_packages}",
                dist.requires,
                dist.project_urls,
                dist.people,
            )
    for dfile in inventory.distribution_files:
        if dfile.name:
            yield NamedThing(dfile.name, dfile.version, str(dfile.path), None, "files")


def _who(thing: NamedThing) -> str:
    return f"{thing.name} {thing.version}" if thing.version else thing.name


def vouched_for(
    things: Iterable[NamedThing], index: TyposquatIndex
) -> dict[tuple[str, str], NamedThing]:
    """(scope, name) -> the distribution that vouches for a near-popular name: an
    established one (PyPI's most downloaded or a popular project, itself no look-alike)
    that declares it as a dependency in the same environment or lock, or a near-popular
    name that is itself vouched for (huggingface-hub -> httpx2 -> httpcore2)."""
    by_scope: dict[str, list[NamedThing]] = {}
    for thing in things:
        by_scope.setdefault(thing.scope, []).append(thing)
    out: dict[tuple[str, str], NamedThing] = {}
    for scope, members in by_scope.items():
        suspects = {m.name for m in members if index.match(m.name) is not None}
        trusted = [
            m
            for m in members
            if m.name not in suspects and (m.name in index.popular or m.name in index.established)
        ]
        frontier = trusted
        while frontier:
            reached: list[NamedThing] = []
            for requirer in frontier:
                for dep in requirer.requires:
                    if dep in suspects and (scope, dep) not in out:
                        out[scope, dep] = requirer
                        reached.extend(m for m in members if m.name == dep)
            frontier = reached
    return out


_FORGES = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")


def repository_of(url: str) -> str | None:
    """`github.com/owner/repo` for a forge URL (any page inside the repository), else
    the host and path; None for something that is not an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    path = [p for p in parts.path.split("/") if p]
    if host in _FORGES and len(path) >= 2:
        return f"{host}/{path[0].lower()}/{path[1].lower().removesuffix('.git')}"
    return "/".join([host, *(p.lower() for p in path)])


def _metadata_story(thing: NamedThing, popular: NamedThing | None) -> str:
    """What the suspect's metadata says of its project and people, beside the popular
    project's where that is in the same scope. Reported, never a reason to pass: a
    typosquat copies its victim's metadata as easily as its README."""
    repos = list(dict.fromkeys(r for u in thing.project_urls if (r := repository_of(u))))
    parts = [f"project {', '.join(repos[:2])}" if repos else "no project URL"]
    if thing.people:
        parts.append(f"by {'; '.join(thing.people[:2])}")
    if popular is not None and repos:
        theirs = {r for u in popular.project_urls if (r := repository_of(u))}
        if theirs & set(repos):
            parts.append(f"names {popular.name}'s own repository")
    return ", ".join(parts)


def check_typosquats(inventory: Inventory, options: ScanOptions) -> Iterator[Finding]:
    """WS-TYPO-001 findings for names that imitate popular ones and that nothing
    established in the same environment or lock declares as a dependency."""
    index = default_index(options.metadata.rules_dir)
    things = list(named_things(inventory))
    vouched = vouched_for(things, index)
    for thing in things:
        found = index.match(thing.name)
        if found is None or (thing.scope, found.name) in vouched:
            continue
        requirers = [_who(t) for t in things if t.scope == thing.scope and found.name in t.requires]
        popular = next(
            (t for t in things if t.scope == thing.scope and t.name == found.popular), None
        )
        required = (
            f"required only by {', '.join(requirers[:3])}, none of them established"
            if requirers
            else "nothing here requires it"
        )
        yield Finding(
            rule_id=TYPO_RULE,
            severity=Severity.HIGH,
            package=found.name,
            version=thing.version,
            path=thing.path,
            line=thing.line,
            message=f"{found.name} looks like a typosquat of {found.popular}: the name "
            f"{found.explain()}, and {required}",
            evidence=f"{found.name} ~ {found.popular} (distance {found.distance}); "
            f"{_metadata_story(thing, popular)}",
            fix=f"if you meant {found.popular}, install that; if {found.name} is a package you "
            "trust, ignore this finding in config with a reason",
        )


# ---------------------------------------------------------------------------------------
# Dependency confusion


def normalise_index(url: str) -> str:
    """An index URL compared by scheme, host and path (case of the host, trailing slash,
    credentials and `/simple` vs `/simple/` do not make a second index)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port:
        host += f":{parts.port}"
    if not host:  # a local directory or a bare name (Pipfile source names)
        return url.strip().rstrip("/")
    return f"{parts.scheme.lower()}://{host}{parts.path.rstrip('/')}"


def lock_sources(lockfile: Lockfile) -> tuple[str, ...]:
    """Every distinct place a resolver may take names from: indexes, per-entry indexes,
    find-links pages."""
    seen: dict[str, None] = {}
    for url in (
        *lockfile.indexes,
        *(p.index for p in lockfile.packages if p.index),
        *lockfile.find_links,
    ):
        if url:
            seen.setdefault(normalise_index(url), None)
    return tuple(seen)


def _unsafe_strategy(lockfile: Lockfile) -> str | None:
    for key, value in lockfile.options:
        if key.replace("_", "-") == "index-strategy" and value in _UNSAFE_STRATEGIES:
            return value
    return None


def _bound(pkg: LockedPackage, lockfile: Lockfile) -> bool:
    """Whether the installer takes this entry from the one index the lock names for it.
    pip merges every index of a requirements file whatever the file says (pip#8606)."""
    return pkg.index is not None and lockfile.format != "requirements"


def check_confusion_offline(inventory: Inventory) -> Iterator[Finding]:
    """WS-META-CONFUSION findings a lock file shows by itself."""
    for lockfile in inventory.lockfiles:
        sources = lock_sources(lockfile)
        if len(sources) < 2:
            continue
        listed = ", ".join(sources)
        strategy = _unsafe_strategy(lockfile)
        if strategy is not None:
            yield Finding(
                rule_id=CONFUSION_STRATEGY_RULE,
                severity=Severity.MEDIUM,
                path=str(lockfile.path),
                message=f"index-strategy {strategy} lets the next lock take any name from "
                "whichever index offers the highest version",
                evidence=f"index-strategy = {strategy}; indexes: {listed}",
                references=(TORCHTRITON_REF,),
                fix="use uv's default first-index strategy and mark vendor indexes explicit",
            )
        hashed_unbound: list[str] = []
        for pkg in lockfile.packages:
            if pkg.kind not in _INDEX_KINDS:
                continue
            hashed = pkg.kind is PinKind.PINNED and bool(pkg.hashes)
            if not hashed:
                yield Finding(
                    rule_id=CONFUSION_UNHASHED_RULE,
                    severity=Severity.HIGH,
                    package=pkg.name,
                    version=pkg.version,
                    path=str(lockfile.path),
                    line=pkg.line,
                    message=f"{pkg.name} is resolved across {len(sources)} indexes without a "
                    "hash pin, so any of them (a public one too) can serve it",
                    evidence=f"indexes: {listed}",
                    references=(TORCHTRITON_REF, PIP_MERGE_REF),
                    fix="pin it with == and --hash, and bind vendor packages to their index "
                    "(uv [tool.uv.sources], poetry source priority explicit)",
                )
            elif not _bound(pkg, lockfile):
                hashed_unbound.append(pkg.name)
        if hashed_unbound:
            shown = ", ".join(hashed_unbound[:10])
            more = f" and {len(hashed_unbound) - 10} more" if len(hashed_unbound) > 10 else ""
            yield Finding(
                rule_id=CONFUSION_UNBOUND_RULE,
                severity=Severity.MEDIUM,
                path=str(lockfile.path),
                message=f"{len(hashed_unbound)} hash-pinned entries are not bound to one of "
                f"the {len(sources)} indexes: the hashes protect the bytes, not which "
                "index a re-lock takes a name from",
                evidence=f"{shown}{more}; indexes: {listed}",
                references=(TORCHTRITON_REF, PIP_MERGE_REF),
                fix="bind vendor packages to their index, or split vendor and public "
                "requirements into separate files",
            )


@dataclass(frozen=True, slots=True)
class PublicRelease:
    """What public PyPI says about a name."""

    name: str
    versions: tuple[Version, ...]
    """Releases that still have a file that is not yanked."""

    @property
    def latest(self) -> Version | None:
        """The highest non-yanked release."""
        return max(self.versions, default=None)


def fetch_public_release(name: str, client: PyPIJson) -> PublicRelease | None:
    """The name's releases on public PyPI (JSON API), or None where PyPI has no such project."""
    project = client.project(canonical(name))
    if project is None:
        return None
    versions: list[Version] = []
    for text, files in project.listed.items():
        if not files or all(f.yanked for f in files):
            continue
        try:
            versions.append(Version(text))
        except InvalidVersion:
            continue
    return PublicRelease(canonical(name), tuple(sorted(versions)))


def _private_source(pkg: LockedPackage) -> str | None:
    """The non-PyPI place the lock takes this entry from, where the lock says."""
    if pkg.index and not is_pypi(pkg.index):
        return pkg.index
    urls = [a.url for a in pkg.artifacts if a.url]
    if urls and not any(is_pypi(u) for u in urls):
        return urls[0]
    return None


def check_confusion_online(
    inventory: Inventory, options: ScanOptions, client: PyPIJson | None = None
) -> Iterator[Finding]:
    """WS-META-CONFUSION findings that need public PyPI: a name taken from a private index
    that PyPI serves at a higher version, from a project that never published the locked
    version (the torchtriton shape). A vendor that publishes the same release to both
    (torch 2.4.0 on PyPI and 2.4.0+cu121 on its own index) is not flagged."""
    own_client = client is None
    if client is None:
        cache_dir = response_cache_dir(options.cache_dir) if options.use_cache else None
        client = pypi_client(options.metadata.pypi_url, cache_dir=cache_dir, timeout=_HTTP_TIMEOUT)
    cache: dict[str, PublicRelease | None] = {}
    try:
        for pkg in inventory.locked_packages:
            source = _private_source(pkg)
            if source is None or pkg.kind not in _INDEX_KINDS or not pkg.version:
                continue
            try:
                locked = Version(pkg.version)
            except InvalidVersion:
                continue
            if pkg.name not in cache:
                cache[pkg.name] = fetch_public_release(pkg.name, client)
            public = cache[pkg.name]
            if public is None or public.latest is None:
                continue
            mirrored = any(v.public == locked.public for v in public.versions)
            if public.latest <= Version(locked.public) or mirrored:
                continue
            yield Finding(
                rule_id=CONFUSION_PUBLIC_RULE,
                severity=Severity.CRITICAL,
                package=pkg.name,
                version=pkg.version,
                path=str(pkg.lockfile),
                line=pkg.line,
                message=f"{pkg.name} comes from {normalise_index(source)}, but public PyPI "
                f"has {pkg.name} {public.latest} and never published {locked.public}: "
                "a resolver that sees both indexes installs the public one",
                evidence=f"locked {pkg.version} from {source}; PyPI latest {public.latest}",
                references=(TORCHTRITON_REF, PIP_MERGE_REF),
                fix="bind the package to its index with hashes, and register the name on "
                "PyPI for your organisation",
            )
    finally:
        if own_client:
            client.close()


# ---------------------------------------------------------------------------------------
# sdist-only pins


def _is_wheel(filename: str | None) -> bool:
    return bool(filename) and str(filename).lower().endswith(".whl")


def check_sdist_only(inventory: Inventory) -> Iterator[Finding]:
    """WS-META-SDIST findings: a pin whose only artifacts are sdists in a lock with wheels."""
    for lockfile in inventory.lockfiles:
        with_files = [p for p in lockfile.packages if p.kind is PinKind.PINNED and p.artifacts]
        if not any(_is_wheel(a.filename) for p in with_files for a in p.artifacts):
            continue
        for pkg in with_files:
            names = [a.filename for a in pkg.artifacts if a.filename]
            if not names or any(_is_wheel(n) for n in names):
                continue
            yield Finding(
                rule_id=SDIST_RULE,
                severity=Severity.LOW,
                package=pkg.name,
                version=pkg.version,
                path=str(lockfile.path),
                line=pkg.line,
                message=f"{pkg.name} {pkg.version} is locked to an sdist only, so installing "
                "it runs its build backend on this machine",
                evidence=", ".join(str(n) for n in names[:3]),
                fix="prefer a release that ships wheels, or build the wheel once in a "
                "sandbox and lock that",
            )


# ---------------------------------------------------------------------------------------


def check_metadata(inventory: Inventory, context: CheckContext) -> CheckResult:
    """Every metadata judgement: typosquats, dependency confusion, sdist-only pins."""
    return CheckResult.of(_metadata_findings(inventory, context.options))


def _metadata_findings(inventory: Inventory, options: ScanOptions) -> Iterator[Finding]:
    yield from check_typosquats(inventory, options)
    yield from check_confusion_offline(inventory)
    yield from check_sdist_only(inventory)
    if options.online:
        yield from check_confusion_online(inventory, options)
