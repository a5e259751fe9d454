"""The heuristics check: the rules in `rules/` over package files, never run.

Where it looks: wheels (every member, `.pth` files, `.data/` scripts), sdists
(`setup.py` with its cmdclass hooks, `setup.cfg`, `pyproject.toml`, every module),
installed distributions (the files their RECORD lists) and loose files in
site-packages. Archives are read through `scanner.infra.archive.SafeArchive` only; nothing
is imported, built or executed.

A distribution is first turned into a `DistView` (its files' bytes, whether the wheel
is pure Python, its entry points); each rule's matcher then judges the view.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import json
import posixpath
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from scanner.checks.heuristics.launchers import catalogue, launcher_place, script_launcher
from scanner.checks.heuristics.npm_scripts import INSTALL_HOOKS, hook_reason
from scanner.checks.heuristics.pyast import Analysis, Hit, analyse, may_have_capability
from scanner.checks.heuristics.rules import (
    BinaryMatcher,
    FileLayoutMatcher,
    MetadataMatcher,
    PythonAstMatcher,
    RegexMatcher,
    Rule,
    default_rules,
)
from scanner.checks.heuristics.wiring import Wiring, wire
from scanner.infra.archive import SafeArchive
from scanner.infra.files import open_regular
from scanner.models import (
    EntryPoint,
    Environment,
    Finding,
    InstalledDistribution,
)
from scanner.verdicts import ContentFinding

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_DETACH_TOKENS = (b"fork", b"setsid", b"setpgrp", b"Daemon")
"""Substrings without which no `detach` signal can be seen (skips a second analysis)."""

TEXT_SUFFIXES = (
    ".py",
    ".pyw",
    ".pth",
    ".cfg",
    ".toml",
    ".sh",
    ".bat",
    ".cmd",
    ".ps1",
    ".vbs",
    ".js",
    ".mjs",
    ".cjs",
)
"""Files read whole; data files (.json, .txt, .yml: vocabularies, datasets) only get the
head that binary detection needs, which keeps large ML wheels cheap to scan."""
TEXT_NAMES = (
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "package.json",
    "entry_points.txt",
    "WHEEL",
    "METADATA",
    "PKG-INFO",
    "Makefile",
)
MAX_TEXT = 4 << 20
"""Text files larger than this are read only up to this size."""
MAX_STARTUP = 32 << 20
"""A top-level `.pth` is read whole (site executes every line of it) up to this size; a
larger one is itself a finding (WS-PTH-001: it cannot be told not to run code)."""
HEAD = 64
"""Bytes read from other files to recognise native executables."""
INSTALL_FILES = ("setup.py", "hatch_build.py", "pdm_build.py")
MAX_FINDINGS_PER_RULE = 5


@dataclass(frozen=True, slots=True)
class DistFile:
    """One file of a distribution: its path inside the distribution and its bytes."""

    path: str
    """POSIX path: for wheels and installed trees relative to site-packages; for sdists
    relative to the project root (the top `name-version/` folder removed)."""
    data: bytes
    size: int
    complete: bool
    """False when only the head of the file was read."""


@dataclass(slots=True)
class DistView:
    """What the rules see of one distribution (or a set of loose files)."""

    kind: str
    """wheel | sdist | installed | loose"""
    label: str
    """Where it is, for findings: the archive path or the dist-info directory."""
    files: list[DistFile]
    name: str | None = None
    version: str | None = None
    pure: bool = False
    """A pure-Python wheel (`Root-Is-Purelib: true`, tag `none-any`)."""
    entry_points: tuple[EntryPoint, ...] = ()
    _analyses: dict[str, Analysis] = field(default_factory=dict)
    _install_helpers: dict[str, frozenset[str]] | None = None
    _wiring: Wiring | None = None
    _scripts: dict[str, frozenset[str]] | None = None

    def wiring(self) -> Wiring:
        """Which functions of which modules the package's `__init__.py` files call on
        import (see `wiring.py`); computed once."""
        if self._wiring is None:
            self._wiring = Wiring({}, {})  # while the __init__ files themselves are analysed
            calls: dict[str, frozenset[str]] = {}
            for f in self.files:
                if (
                    posixpath.basename(f.path) == "__init__.py"
                    and f.complete
                    and not is_test_or_doc(f.path)
                ):
                    # a small __init__ that imports from its own package is read even
                    # without a capability token: it may only wire its modules together
                    small_wirer = len(f.data) < 16_384 and b"from ." in f.data
                    found = self._analyse(f, force=small_wirer).imported_calls
                    if found:
                        calls[f.path] = found
            paths = [f.path for f in self.files if is_python(f.path) and f.complete]
            self._wiring = wire(paths, calls)
        return self._wiring

    def install_helpers(self) -> dict[str, frozenset[str]]:
        """Shipped modules that setup.py imports, by path, with the names it imports from
        them: their module-level code, and those functions, run at install time too."""
        if self._install_helpers is None:
            helpers: dict[str, set[str]] = {}
            paths = {f.path for f in self.files}
            for f in self.files:
                if not is_install_file(f.path) or not f.complete:
                    continue
                base = posixpath.dirname(f.path)
                text = self.text(f)
                for script in _interpreter_scripts(text):
                    path = posixpath.normpath(posixpath.join(base, script)) if base else script
                    if path in paths and not is_install_file(path):
                        # run by a child interpreter as a script: its `__main__` block too
                        helpers.setdefault(path, set()).add("__main__")
                for module, names in _local_imports(text):
                    rel = module.replace(".", "/")
                    for cand in (f"{rel}.py", f"src/{rel}.py", f"{rel}/__init__.py"):
                        path = posixpath.join(base, cand) if base else cand
                        if path in paths and not is_install_file(path):
                            helpers.setdefault(path, set()).update(names)
                            break
            self._install_helpers = {k: frozenset(v) for k, v in helpers.items()}
        return self._install_helpers

    def is_install(self, f: DistFile) -> bool:
        """Whether the file's code runs when the distribution is built or installed."""
        return is_install_file(f.path) or (
            self.kind == "sdist" and f.path in self.install_helpers()
        )

    def analysis(self, f: DistFile) -> Analysis:
        """The AST analysis of a Python file (cached)."""
        return self._analyse(f, force=False)

    def _analyse(self, f: DistFile, *, force: bool) -> Analysis:
        cached = self._analyses.get(f.path)
        if cached is None:
            wired = self.wiring().entry_names.get(f.path, frozenset())
            # install-time files are always analysed: they are small and run on install;
            # so are modules whose functions an __init__ calls on import
            if force or wired or self.is_install(f) or may_have_capability(f.data):
                helpers = (
                    self.install_helpers().get(f.path, frozenset())
                    if self.kind == "sdist"
                    else frozenset()
                )
                cached = analyse(
                    f.data,
                    setup_like=is_install_file(f.path),
                    entry_names=helpers | wired,
                )
                cached = self._as_script(f, cached, helpers | wired)
            else:
                cached = Analysis(error="skipped")
            self._analyses[f.path] = cached
        return cached

    def script_functions(self) -> dict[str, frozenset[str]]:
        """Functions that console and GUI scripts run, by the path of their module (a
        `pkg.cli:main` entry point names `main` in `pkg/cli.py`); computed once."""
        if self._scripts is None:
            paths = {f.path for f in self.files if is_python(f.path)}
            found: dict[str, set[str]] = {}
            for ep in self.entry_points:
                if ep.group not in ("console_scripts", "gui_scripts"):
                    continue
                module, _, attr = ep.value.partition(":")
                attr = attr.split("[", 1)[0].strip()
                module = module.strip()
                if not module or not attr:
                    continue
                for base in ("", "src/"):
                    rel = base + module.replace(".", "/")
                    hit = next((c for c in (f"{rel}.py", f"{rel}/__init__.py") if c in paths), None)
                    if hit is not None:
                        found.setdefault(hit, set()).add(attr)
                        break
            self._scripts = {k: frozenset(v) for k, v in found.items()}
        return self._scripts

    def _as_script(self, f: DistFile, plain: Analysis, entry: frozenset[str]) -> Analysis:
        """A console script's function that forks or leaves the session (`detach`) keeps
        running after the command returns, unseen: that function (and what it calls)
        counts as running like import-time code. Other script functions run only when the
        user asks for them and stay ordinary functions."""
        scripts = self.script_functions().get(f.path)
        if not scripts or not plain.parsed or not any(t in f.data for t in _DETACH_TOKENS):
            return plain
        if not any(h.signal == "detach" for h in plain.hits):
            return plain
        run = analyse(f.data, setup_like=is_install_file(f.path), entry_names=entry | scripts)
        detached = any(h.signal == "detach" for h in run.select(import_time=True))
        return run if detached else plain

    def parsed(self, f: DistFile) -> bool:
        """Whether a Python file parses (cheaply: without the full analysis)."""
        # a file the capability pre-filter skipped mentions no exec / process / network
        # token, so no text rule about them can match it either: counting it as parsed
        # loses nothing and avoids a second parse
        return self.analysis(f).parsed

    def text(self, f: DistFile) -> str:
        """The file's text (UTF-8, errors replaced)."""
        return f.data.decode("utf-8", "replace")


_LOCAL_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import[ \t]+\(?([\w \t,]+)"
    r"|import[ \t]+([A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*))",
    re.MULTILINE,
)


_INTERPRETER = re.compile(r"sys\.executable|[\"'](?:python|py)(?:\d[\d.]*)?(?:\.exe)?[\"' ]")
_SCRIPT_LITERAL = re.compile(r"[\"']((?:\./)?[\w.-]+(?:/[\w.-]+)*\.pyw?)[\"']")
_INLINE_CODE = re.compile(r"[\"']-c[\"']\s*,\s*(?:r|f|rf|fr)?([\"'])(.+?)\1")


def _interpreter_scripts(text: str) -> Iterator[str]:
    """Shipped scripts that an install file hands to a child interpreter
    (`subprocess.call([sys.executable, "hello.py"])`, `python bypass.py`): the child
    runs them, `__main__` block included, while pip installs. Found by text: the file
    names a Python interpreter and a `.py` file in a string literal."""
    if _INTERPRETER.search(text) is None:
        return
    for m in _SCRIPT_LITERAL.finditer(text):
        name = m.group(1).removeprefix("./")
        if posixpath.basename(name) not in INSTALL_FILES:
            yield name


def _inline_imports(text: str) -> Iterator[tuple[str, set[str]]]:
    """The imports and calls of `python -c "import pkg.post; pkg.post.run()"` in an
    install file: what the child interpreter imports runs at install too."""
    for m in _INLINE_CODE.finditer(text):
        code = m.group(2).replace(";", "\n")
        called = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", code))
        for module, names in _local_imports(code):
            yield module, names | called


def _local_imports(text: str) -> Iterator[tuple[str, set[str]]]:
    """(module, imported names) for each import statement of a file (by its text), and
    of the code an install file passes to `python -c`."""
    yield from _inline_imports(text)
    for m in _LOCAL_IMPORT.finditer(text):
        if m.group(1):
            names = {n.strip().split(" ")[0] for n in m.group(2).split(",") if n.strip()}
            yield m.group(1), names
        else:
            for mod in m.group(3).split(","):
                yield mod.strip(), set()


@lru_cache(maxsize=65536)
def is_install_file(path: str) -> bool:
    """Files that run when the distribution is built or installed from source (a
    `setup.py` under examples/ or tests/ is not the one pip runs)."""
    return posixpath.basename(path) in INSTALL_FILES and not is_test_or_doc(path)


_NOT_SHIPPED_CODE = re.compile(
    # a top-level folder must be named exactly so: `duck_test_pkg/` is a package
    r"^(?:tests?|testing|docs?|examples?|samples?|bench(?:mark)?s?)/"
    r"|/(?:[^/]*[ _-])?(?:tests?|testing|docs?|examples?|samples?|bench(?:mark)?s?)"
    r"(?:[ _-][^/]*)?/"
    r"|(?:^|/)(?:test_[^/]*|[^/]*_test|conftest)\.py$"
    r"|^(?:tools|scripts|build_helpers|ci|dev|\.github|\.circleci)/"
)


@lru_cache(maxsize=65536)
def is_test_or_doc(path: str) -> bool:
    """Test suites, docs, examples and benchmarks: code that installing or importing the
    package does not run (install-time rules still look at them through setup.py)."""
    return _NOT_SHIPPED_CODE.search(path) is not None


@lru_cache(maxsize=65536)
def is_python(path: str) -> bool:
    """Python source by name."""
    return path.endswith((".py", ".pyw"))


def _wants_text(path: str) -> bool:
    base = posixpath.basename(path)
    return (
        base in TEXT_NAMES
        or base.endswith(TEXT_SUFFIXES)
        or ("/" not in path.strip("/") and "." not in base)
        or "/scripts/" in path
        or path.startswith("scripts/")
    )


def _glob_match(path: str, globs: Iterable[str]) -> bool:
    base = posixpath.basename(path)
    return any(
        fnmatch.fnmatchcase(path, g)
        or fnmatch.fnmatchcase(base, g)
        or fnmatch.fnmatchcase("/" + path, "*/" + g)
        for g in globs
    )


# --------------------------------------------------------------------------- building views


def _strip_top_dir(names: list[str]) -> str:
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return next(iter(tops)) + "/"
    return ""


def _wheel_path(name: str) -> str:
    """`pkg-1.0.data/purelib/x.py` -> `x.py`; `.data/scripts/x` -> `bin/x`."""
    parts = name.split("/")
    if len(parts) >= 3 and parts[0].endswith(".data"):
        if parts[1] in ("purelib", "platlib"):
            return "/".join(parts[2:])
        if parts[1] == "scripts":
            return "bin/" + "/".join(parts[2:])
    return name


def view_of_archive(path: Path) -> DistView:
    """Read a wheel or sdist through the safe reader into a DistView."""
    files: list[DistFile] = []
    with SafeArchive(path) as archive:
        members = archive.files()
        names = [m.name for m in members]
        is_wheel = any(re.match(r"^[^/]+\.dist-info/WHEEL$", n) for n in names)
        prefix = "" if is_wheel else _strip_top_dir(names)
        for m in members:
            rel = m.name[len(prefix) :] if prefix and m.name.startswith(prefix) else m.name
            if is_wheel:
                rel = _wheel_path(rel)
            if not rel:
                continue
            if _wants_text(rel) or launcher_place(rel):
                data = archive.read(m.name, _text_limit(rel))
                files.append(DistFile(rel, data, m.size, len(data) >= m.size))
            else:
                data = archive.read(m.name, HEAD)
                files.append(DistFile(rel, data, m.size, m.size <= HEAD))
    view = DistView(kind="wheel" if is_wheel else "sdist", label=str(path), files=files)
    _fill_metadata(view, path.name)
    return view


def _fill_metadata(view: DistView, filename: str) -> None:
    """Name, version, purity and entry points from the files of the view."""
    eps: list[EntryPoint] = []
    for f in view.files:
        base = posixpath.basename(f.path)
        parent = posixpath.basename(posixpath.dirname(f.path))
        if base == "entry_points.txt" and parent.endswith((".dist-info", ".egg-info")):
            eps.extend(parse_entry_points(view.text(f)))
        elif base == "WHEEL" and parent.endswith(".dist-info"):
            text = view.text(f)
            view.pure = wheel_is_pure(text)
        elif f.path == "pyproject.toml":
            eps.extend(_pyproject_scripts(view.text(f)))
        elif f.path == "setup.cfg":
            eps.extend(_setup_cfg_entry_points(view.text(f)))
    if view.kind == "wheel" and filename.endswith(".whl"):
        view.pure = view.pure or filename[:-4].endswith("-none-any")
        parts = filename[:-4].split("-")
        if len(parts) >= 2:
            view.name, view.version = parts[0], parts[1]
    elif view.kind == "sdist":
        m = re.match(
            r"^(.+?)-(\d[^-]*?)(?:\.tar\.gz|\.tgz|\.tar\.bz2|\.tar\.xz|\.zip|\.tar)$", filename
        )
        if m:
            view.name, view.version = m.group(1), m.group(2)
    # first definition of each (group, name) wins, as importlib.metadata reads them
    unique: dict[tuple[str, str], EntryPoint] = {}
    for e in eps:
        unique.setdefault((e.group, e.name), e)
    view.entry_points = tuple(unique.values())


def parse_entry_points(text: str) -> list[EntryPoint]:
    """entry_points.txt (INI-like) -> entry points; tolerant of junk."""
    out: list[EntryPoint] = []
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        if group and "=" in line:
            name, _, value = line.partition("=")
            out.append(EntryPoint(group, name.strip(), value.strip()))
    return out


def _pyproject_scripts(text: str) -> list[EntryPoint]:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):  # `a = [[[[...`
        return []
    project = data.get("project")
    out: list[EntryPoint] = []
    if isinstance(project, dict):
        for group, key in (("console_scripts", "scripts"), ("gui_scripts", "gui-scripts")):
            table = project.get(key)
            if isinstance(table, dict):
                out += [EntryPoint(group, str(k), str(v)) for k, v in table.items()]
        eps = project.get("entry-points")
        if isinstance(eps, dict):
            for group, table in eps.items():
                if isinstance(table, dict):
                    out += [EntryPoint(str(group), str(k), str(v)) for k, v in table.items()]
    return out


def _setup_cfg_entry_points(text: str) -> list[EntryPoint]:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    if not parser.has_section("options.entry_points"):
        return []
    out = []
    for group, value in parser.items("options.entry_points"):
        for line in value.splitlines():
            if "=" in line:
                name, _, target = line.partition("=")
                out.append(EntryPoint(group, name.strip(), target.strip()))
    return out


def _is_startup_pth(rel: str) -> bool:
    return rel.endswith(".pth") and "/" not in rel.strip("/")


def _text_limit(rel: str) -> int:
    return MAX_STARTUP if _is_startup_pth(rel) else MAX_TEXT


def _read_disk(path: Path, rel: str) -> DistFile | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        size = path.stat().st_size
        with open_regular(path) as fh:
            data = fh.read(_text_limit(rel) if _wants_text(rel) or launcher_place(rel) else HEAD)
    except OSError:
        return None
    return DistFile(rel, data, size, len(data) >= size)


def installed_files(dist: InstalledDistribution) -> list[tuple[Path, str]]:
    """(path on disk, path shown) of each file an installed distribution owns: its RECORD,
    else its top-level names."""
    site = dist.site_packages
    rels: list[str] = []
    if dist.record is not None:
        rels = [e.path for e in dist.record]
    else:
        for top in dist.top_level:
            root = site / top
            if root.is_dir():
                rels += [
                    p.relative_to(site).as_posix() for p in sorted(root.rglob("*")) if p.is_file()
                ][:50_000]
            else:
                for cand in (site / f"{top}.py", site / top):
                    if cand.is_file():
                        rels.append(cand.relative_to(site).as_posix())
    out: list[tuple[Path, str]] = []
    for rel in rels:
        clean = posixpath.normpath(rel.replace("\\", "/"))
        if clean.startswith("/") or clean.split("/").count("..") > 4 or ":" in clean[:3]:
            continue  # a RECORD row pointing anywhere on the disk is not the package's file
        shown = clean
        if clean.startswith("../"):
            # scripts live outside site-packages (../../../bin/x)
            shown = "bin/" + posixpath.basename(clean)
        out.append((site / clean, shown))
    return out


def view_of_installed(
    dist: InstalledDistribution, files: list[tuple[Path, str]] | None = None
) -> DistView:
    """The files an installed distribution owns (`installed_files`, or `files` when given),
    read from disk."""
    read = [
        f
        for path, shown in (installed_files(dist) if files is None else files)
        if (f := _read_disk(path, shown)) is not None
    ]
    view = installed_shell(dist)
    view.files = read
    return view


def installed_shell(dist: InstalledDistribution) -> DistView:
    """An installed distribution's view without its files: name, version, purity, entry
    points (what rules read besides the files)."""
    view = DistView(
        kind="installed",
        label=str(dist.metadata_dir),
        files=[],
        name=dist.name,
        version=dist.version,
        entry_points=dist.entry_points,
    )
    wheel = dist.metadata_dir / "WHEEL"
    if wheel.is_file():
        try:
            text = wheel.read_text("utf-8", "replace")
        except OSError:
            text = ""
        view.pure = wheel_is_pure(text)
    return view


def wheel_is_pure(wheel_text: str) -> bool:
    """A WHEEL file of a pure-Python wheel: Root-Is-Purelib true and every tag `-none-any`.
    nvidia-cublas and friends say Root-Is-Purelib: true with a manylinux tag: platform
    wheels whose shared libraries belong there."""
    purelib = re.search(r"^Root-Is-Purelib:\s*true", wheel_text, re.M | re.I) is not None
    tags = re.findall(r"^Tag:\s*(\S+)\s*$", wheel_text, re.M)
    return purelib and all(t.endswith("-none-any") for t in tags)


def view_of_loose(env: Environment) -> DistView | None:
    """Files in site-packages that belong to no distribution."""
    files: list[DistFile] = []
    for path in env.loose_files:
        if path.is_dir() and not path.is_symlink():
            for sub in sorted(path.rglob("*"))[:10_000]:
                f = _read_disk(sub, sub.relative_to(env.site_packages).as_posix())
                if f is not None:
                    files.append(f)
        else:
            try:
                rel = path.relative_to(env.site_packages).as_posix()
            except ValueError:
                rel = path.name
            f = _read_disk(path, rel)
            if f is not None:
                files.append(f)
    if not files:
        return None
    return DistView(kind="installed", label=str(env.site_packages), files=files)


def view_of_files(
    files: Iterable[tuple[str, bytes]],
    *,
    kind: str = "wheel",
    pure: bool = True,
    entry_points: str | None = None,
    label: str = "<example>",
) -> DistView:
    """A view built in memory (rule examples, tests)."""
    view = DistView(
        kind=kind, label=label, files=[DistFile(p, d, len(d), True) for p, d in files], pure=pure
    )
    if entry_points:
        view.entry_points = tuple(parse_entry_points(entry_points))
    else:
        _fill_metadata(view, "")
        view.pure = pure
    return view


# --------------------------------------------------------------------------- matchers


@dataclass(frozen=True, slots=True)
class Match:
    """Where a matcher fired."""

    path: str | None
    line: int | None
    evidence: str


def _dist_ok(dist: tuple[str, ...], view: DistView) -> bool:
    return not dist or view.kind in dist


def match_python(m: PythonAstMatcher, view: DistView) -> Iterator[Match]:
    """Signals that occur together in one file's (or one function's) code."""
    for f in view.files:
        if not is_python(f.path) or not f.complete:
            continue
        if m.path_include and not _glob_match(f.path, m.path_include):
            continue
        if m.path_exclude and _glob_match(f.path, m.path_exclude):
            continue
        install = view.is_install(f)
        if m.when == "install" and not install:
            continue
        if not install and is_test_or_doc(f.path):
            continue
        if m.when == "import" and is_install_file(f.path):
            continue
        a = view.analysis(f)
        if not a.parsed or not a.hits:
            continue
        present = a.signal_set()
        if not all(any(s in present for s in group.split("|")) for group in m.all):
            continue
        groups = a.by_unit(import_time=m.when != "anywhere")
        candidates = (
            list(groups.values())
            if m.together == "unit"
            else [[h for hs in groups.values() for h in hs]]
        )
        for hits in candidates:
            found = _combination(m, hits)
            if found is not None:
                yield Match(f.path, found.line or None, found.evidence)
                break
    if m.when in ("import", "install-or-import") and m.together == "file":
        yield from _match_wired(m, view)


def _match_wired(m: PythonAstMatcher, view: DistView) -> Iterator[Match]:
    """The rule over what runs together on import: an `__init__.py`'s import-time code
    and the functions of other modules it calls (a payload split across modules)."""
    by_path = {f.path: f for f in view.files}
    for init, members in view.wiring().groups.items():
        if m.path_include and not _glob_match(init, m.path_include):
            continue
        if m.path_exclude and _glob_match(init, m.path_exclude):
            continue
        hits: list[Hit] = []
        for path in (init, *members):
            f = by_path.get(path)
            if f is not None and not is_install_file(path):
                hits.extend(view.analysis(f).select(import_time=True))
        found = _combination(m, hits)
        if found is not None:
            yield Match(init, found.line or None, f"{found.evidence} (modules wired by {init})")


def _combination(m: PythonAstMatcher, hits: list[Hit]) -> Hit | None:
    present: dict[str, Hit] = {}
    for h in hits:
        present.setdefault(h.signal, h)
    evidence: Hit | None = None
    for group in m.all:
        alternatives = [present[s] for s in group.split("|") if s in present]
        if not alternatives:
            return None
        evidence = alternatives[0]
    if m.any:
        found = [present[s] for s in m.any if s in present]
        if len(found) < m.min_any:
            return None
        evidence = evidence or found[0]
    if any(s in present for s in m.none):
        return None
    return evidence


def match_regex(m: RegexMatcher, view: DistView) -> Iterator[Match]:
    """A regular expression over text files selected by path."""
    rx = m.compiled
    needles = tuple(r.lower().encode() if m.ignore_case else r.encode() for r in m.requires)
    for f in view.files:
        if not _glob_match(f.path, m.path_include) or (
            m.path_exclude and _glob_match(f.path, m.path_exclude)
        ):
            continue
        if f.size > m.max_size or not f.data:
            continue
        if needles:
            hay = f.data.lower() if m.ignore_case else f.data
            if not any(n in hay for n in needles):
                continue
        if m.only_unparsed_python and (
            not is_python(f.path) or is_test_or_doc(f.path) or view.parsed(f)
        ):
            continue
        text = view.text(f)
        hit = rx.search(text)
        if hit is not None:
            line = text.count("\n", 0, hit.start()) + 1
            yield Match(f.path, line, hit.group(0)[:200])


_BENIGN_PTH_LINE = re.compile(r"^import\s+[\w.]+(?:\s*;\s*[\w.]+\.install\(\))?\s*;?\s*$")


def _pth_import_lines(view: DistView) -> Iterator[tuple[DistFile, int, str]]:
    for f in view.files:
        if not f.path.endswith(".pth") or "/" in f.path.strip("/"):
            continue
        for i, line in enumerate(view.text(f).splitlines(), start=1):
            if line.startswith(("import ", "import\t")):
                yield f, i, line


def match_layout(m: FileLayoutMatcher, view: DistView) -> Iterator[Match]:
    """Files whose place makes them run."""
    if m.layout == "pth-exec":
        for f in view.files:
            if _is_startup_pth(f.path) and not f.complete:
                yield Match(
                    f.path,
                    None,
                    f"startup file of {f.size} bytes, larger than {MAX_STARTUP >> 20} MiB: "
                    "site runs every line of it and it cannot be read whole",
                )
    if m.layout in ("pth-exec", "pth-import"):
        for f, line_no, line in _pth_import_lines(view):
            if m.layout == "pth-import":
                if not _BENIGN_PTH_LINE.match(line):
                    yield Match(f.path, line_no, line[:200])
                continue
            signals = analyse(line).signals()
            hit = sorted(signals & set(m.any))
            if hit:
                yield Match(f.path, line_no, f"{', '.join(hit)}: {line[:160]}")
    elif m.layout == "startup-module":
        for f in view.files:
            if f.path in ("sitecustomize.py", "usercustomize.py") or (
                view.kind == "sdist" and f.path in ("src/sitecustomize.py", "src/usercustomize.py")
            ):
                yield Match(f.path, None, f"ships {f.path}, which every interpreter start runs")
    elif m.layout == "npm-install-hook":
        for f in view.files:
            if posixpath.basename(f.path) != "package.json" or not f.complete:
                continue
            try:
                data = json.loads(f.data)
            except (ValueError, UnicodeDecodeError):
                continue
            scripts = data.get("scripts") if isinstance(data, dict) else None
            if not isinstance(scripts, dict):
                continue
            for hook in INSTALL_HOOKS:
                command = scripts.get(hook)
                if isinstance(command, str) and (why := hook_reason(command, scripts)):
                    yield Match(f.path, None, f"{hook}: {command[:160]} ({why})")
                    break
    elif m.layout == "js-runtime-wired":
        yield from _js_runtime_wired(view)
    elif m.layout == "install-runs-unshipped-script":
        yield from _unshipped_scripts(view)


_SPAWNERS = frozenset({"call", "run", "Popen", "check_call", "check_output", "system", "popen"})
_PY_INTERPRETER = re.compile(r"^(?:python|py)(?:\d[\d.]*)?(?:\.exe)?(?:\s|$)")
_PY_SCRIPT = re.compile(r"(?:^|[\s\"'/\\])([\w.-]+\.pyw?)(?=$|[\s\"'])")


def _unshipped_scripts(view: DistView) -> Iterator[Match]:
    """An install file that hands a `.py` file to a Python interpreter
    (`subprocess.call([sys.executable, "hello.py"])`, `os.system("python x.py")`) when the
    distribution ships no such file: pip would run code that is not in the package (fetched
    or dropped there first), which no scan of the package can judge."""
    if view.kind != "sdist":
        return
    shipped = {posixpath.basename(f.path) for f in view.files}
    for f in view.files:
        if not is_install_file(f.path) or not f.complete or b".py" not in f.data:
            continue
        try:
            tree = ast.parse(f.data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in _SPAWNERS:
                continue
            parts = [n for a in node.args for n in ast.walk(a)]
            texts = [
                n.value for n in parts if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
            interpreter = any(
                isinstance(n, ast.Attribute) and n.attr == "executable" for n in parts
            ) or any(_PY_INTERPRETER.match(t.strip()) or " python" in f" {t}" for t in texts)
            if not interpreter:
                continue
            for text in texts:
                for script in _PY_SCRIPT.findall(text):
                    if script not in shipped:
                        yield Match(
                            f.path,
                            node.lineno,
                            f"runs {script} with a Python interpreter at install; "
                            "the distribution ships no such file",
                        )
                        return


def _js_runtime_wired(view: DistView) -> Iterator[Match]:
    """A JavaScript file that Python code of the package hands to a child process."""
    scripts = {
        posixpath.basename(f.path) for f in view.files if f.path.endswith((".js", ".mjs", ".cjs"))
    }
    if not scripts:
        return
    for f in view.files:
        if not is_python(f.path) or not f.complete or is_test_or_doc(f.path):
            continue
        text = view.text(f)
        named = [name for name in scripts if name in text]
        if not named:
            continue
        analysis = view.analysis(f)
        # a tool that runs its bundled script when the user calls it (a language-server
        # wrapper's main()) shows the child's output; only a start on import or install,
        # or one hidden from the user, is the package acting on its own
        quiet = {
            h.unit
            for h in analysis.hits
            if h.signal in ("silenced-output", "hidden-window", "daemon-thread", "background")
        }
        for hit in analysis.hits:
            if hit.signal != "spawn-js":
                continue
            if hit.unit not in analysis.import_time_units and hit.unit not in quiet:
                continue
            # the spawned argument names the bundle, or names a variable while the file
            # names the bundle (`script = os.path.join(here, "bundle.js")`)
            shown = [n for n in named if n in hit.evidence] or named
            yield Match(f.path, hit.line, f"runs bundled {shown[0]}")
            return


_ELF = b"\x7fELF"
_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
_NATIVE_EXT = re.compile(
    r"\.(?:so(?:\.[\d.]+)?|pyd|dll|dylib|exe|node|a|o|bin|lib|sys|ocx"
    r"|cubin|fatbin|elf|out|dat)$",
    re.IGNORECASE,
)
_DATA_EXT = re.compile(
    r"\.(?:py|pyw|pyi|pth|txt|md|rst|json|ya?ml|toml|cfg|ini|csv|html?|css|js"
    r"|png|jpe?g|gif|ico|svg|bmp|webp|wav|mp3|pdf|xml|in|typed)$",
    re.IGNORECASE,
)
"""Extensions that promise text, source or media: an executable behind one is disguised."""
_BIN_DIRS = re.compile(
    r"(?:^|/)(?:bin|libs?|\.libs|[\w.-]+\.libs|lib64|_bin|tools|scripts)/", re.IGNORECASE
)


def binary_format(head: bytes) -> str | None:
    """elf | pe | macho for native executables, by magic bytes; None otherwise."""
    if head.startswith(_ELF):
        return "elf"
    if head.startswith(_MACHO):
        return "macho"
    if head.startswith(b"MZ") and len(head) >= 2:
        return "pe"
    return None


def match_binary(m: BinaryMatcher, view: DistView) -> Iterator[Match]:
    """Native executables in a pure wheel, or where nothing native belongs."""
    if m.where == "pure-wheel" and not (view.kind in ("wheel", "installed") and view.pure):
        return
    if m.where == "pure-or-sdist" and not (view.pure or view.kind == "sdist"):
        return
    for f in view.files:
        fmt = binary_format(f.data[:HEAD])
        if fmt is None or fmt not in m.formats:
            continue
        if fmt == "pe" and f.complete and script_launcher(f.path, f.data, catalogue()):
            continue  # a packaging tool's launcher stub, recognised by its bytes and place
        if m.path_exclude and _glob_match(f.path, m.path_exclude):
            continue
        if m.where == "odd-path" and (
            _NATIVE_EXT.search(f.path)
            or _BIN_DIRS.search(f.path)
            or is_test_or_doc(f.path)
            or _DATA_EXT.search(f.path)
        ):
            continue
        if m.where == "disguised" and not _DATA_EXT.search(f.path):
            continue
        yield Match(f.path, None, f"{fmt.upper()} executable ({f.size} bytes)")


def match_metadata(m: MetadataMatcher, view: DistView) -> Iterator[Match]:
    """Console scripts named like system tools; entry points loaded at start-up."""
    own = (view.name or "").lower().replace("_", "-")
    # `hf@huggingface-hub`: the command and the distribution that owns it
    owners = {n.partition("@")[0]: n.partition("@")[2] for n in m.names}
    for ep in view.entry_points:
        if m.check == "console-script-shadow" and ep.group in ("console_scripts", "gui_scripts"):
            base = re.sub(r"[\d.]+$", "", ep.name.lower())
            owner = owners.get(base)
            if owner is None or own == base or own.startswith(base + "-"):
                continue
            target = ep.value.split(":")[0].split(".")[0].strip().lower().replace("_", "-")
            if owner and owner in (own, target):
                continue
            yield Match(None, None, f"{ep.group}: {ep.name} = {ep.value}")
        elif m.check == "startup-entry-point" and ep.group in m.names:
            yield Match(None, None, f"[{ep.group}] {ep.name} = {ep.value}")


def matches(rule: Rule, view: DistView) -> Iterator[Match]:
    """Every place where `rule` fires on `view`."""
    m = rule.matcher
    if not _dist_ok(m.dist, view):
        return iter(())
    if isinstance(m, PythonAstMatcher):
        return match_python(m, view)
    if isinstance(m, RegexMatcher):
        return match_regex(m, view)
    if isinstance(m, FileLayoutMatcher):
        return match_layout(m, view)
    if isinstance(m, BinaryMatcher):
        return match_binary(m, view)
    return match_metadata(m, view)


# --------------------------------------------------------------------------- findings


def content_findings(view: DistView, rules: Iterable[Rule] | None = None) -> list[ContentFinding]:
    """Run rules over one view; at most a few findings per rule and distribution. Places
    are paths inside the view: the verdict on its contents, wherever they lie."""
    out: list[ContentFinding] = []
    for rule in rules if rules is not None else default_rules():
        count = 0
        seen_paths: set[str | None] = set()
        for hit in matches(rule, view):
            if hit.path in seen_paths:
                continue
            seen_paths.add(hit.path)
            out.append(
                ContentFinding(
                    rule_id=rule.id,
                    severity=rule.severity,
                    message=f"{rule.title}.",
                    member=hit.path,
                    line=hit.line,
                    evidence=hit.evidence,
                    references=rule.references,
                )
            )
            count += 1
            if count >= MAX_FINDINGS_PER_RULE:
                break
    return out


def place(view: DistView, found: Iterable[ContentFinding]) -> list[Finding]:
    """Content findings as findings about this view (its location, name and version)."""
    out = []
    for cf in found:
        member = cf.member
        where = (
            f"{view.label}!{member}"
            if member and view.kind != "installed"
            else (str(Path(view.label).parent / member) if member else view.label)
        )
        out.append(cf.to_finding(where, package=view.name, version=view.version))
    return sorted(out, key=Finding.sort_key)


def evaluate(view: DistView, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Run rules over one view; at most a few findings per rule and distribution."""
    return place(view, content_findings(view, rules))


def scan_distribution_file(path: Path, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Run the heuristic rules over one wheel or sdist on disk (raises ArchiveError)."""
    return evaluate(view_of_archive(path), rules)
