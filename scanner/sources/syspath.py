"""What an interpreter will put on `sys.path`, computed without running it.

A scanned environment's interpreter is never started, not even as `python -I -S`:
its `pyvenv.cfg` can point `home` at a directory holding an attacker's `os.py` or
`encodings`, which every start of that interpreter loads before any flag matters.
Instead this module reads the same files CPython's `getpath` and `site` read:

- `pyvenv.cfg` next to the executable or one directory up (`site.venv`): the venv
  prefix, `home`, `include-system-site-packages`, `version` / `version_info`;
- without one, the prefix is found as `getpath` does, walking up from the real
  executable (symlinks resolved) to the first `lib/pythonX.Y/os.py` landmark;
  `PYTHONHOME` overrides it;
- the site directories of the prefix (`lib/pythonX.Y/site-packages`, `lib64`, Debian's
  `dist-packages`), the base installation's too when a venv includes system
  site-packages, and the user site (`PYTHONUSERBASE` or `~/.local`), unless a venv or
  `PYTHONNOUSERSITE` excludes it;
- `PYTHONPATH` entries (the job inherits our environment);
- the directories `.pth` files in those site directories add (path lines only: an
  `import` line is code, judged by the heuristics, never followed), and the
  development directories `*.egg-link` files name.

Where the version is ambiguous, every candidate directory is taken: scanning one
directory too many is safe, one too few is not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import SourceError

_MAX_CFG_BYTES = 64 << 10
_MAX_PTH_BYTES = 32 << 20  # as heuristics.MAX_STARTUP: a larger .pth is itself a finding
_VERSION_DIR = re.compile(r"^python(\d+\.\d+)t?$")
_VERSION_NAME = re.compile(r"^(?:python|pypy)(\d+\.\d+)t?$")
_INTERPRETER_NAME = re.compile(r"^(?:python|pypy)", re.IGNORECASE)
"""What an interpreter's file name starts with (python3.12, pypy3, python.exe): `--python
/bin/ls` is a mistake to name, not a system to scan."""


@dataclass(frozen=True, slots=True)
class PathEntry:
    """One directory the interpreter will import from, and why."""

    path: Path
    why: str
    """"site-packages", "user site", "PYTHONPATH", ".pth line of X", "egg-link X" ..."""
    site_dir: bool
    """A site directory: `site` processes the `.pth` files in it."""


@dataclass(frozen=True, slots=True)
class SysPath:
    """The outcome: the directories to scan and the interpreter's version (X.Y or X.Y.Z)."""

    entries: tuple[PathEntry, ...]
    version: str | None
    prefix: Path
    venv: bool


def read_small(path: Path, limit: int) -> str | None:
    """A small text file read without blocking, following no FIFO; None if absent/unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise SourceError(f"larger than {limit} bytes", path=str(path))
    return data.decode("utf-8", errors="replace")


def parse_pyvenv_cfg(text: str) -> dict[str, str]:
    """`key = value` lines, as `site.venv` reads them (keys lower-cased)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def _versions_in(prefix: Path) -> list[str]:
    """X.Y of every `lib*/pythonX.Y` directory under a prefix."""
    found: set[str] = set()
    for lib in ("lib", "lib64"):
        try:
            names = os.listdir(prefix / lib)
        except OSError:
            continue
        for name in names:
            if (m := _VERSION_DIR.match(name)) is not None:
                found.add(m.group(1))
    return sorted(found)


def _landmark_prefix(start: Path, versions: Iterable[str]) -> tuple[Path, list[str]] | None:
    """Walk up from `start` to the first directory holding `lib/pythonX.Y/os.py`."""
    wanted = list(versions)
    for directory in (start, *start.parents):
        have = _versions_in(directory)
        candidates = [v for v in have if not wanted or v in wanted]
        for lib in ("lib", "lib64"):
            real = [v for v in candidates if (directory / lib / f"python{v}" / "os.py").is_file()]
            if real:
                return directory, real
    return None


def _prefix_site_dirs(prefix: Path, versions: Iterable[str], debian: bool) -> list[Path]:
    out = [
        prefix / lib / f"python{v}" / "site-packages" for v in versions for lib in ("lib", "lib64")
    ]
    if debian:  # Debian's site.py (not in a venv)
        for v in versions:
            out += [
                prefix / "local" / "lib" / f"python{v}" / "dist-packages",
                prefix / "lib" / f"python{v}" / "dist-packages",
            ]
        out.append(prefix / "lib" / "python3" / "dist-packages")
    return out


def _site_entries(prefix: Path, versions: Iterable[str], debian: bool, why: str) -> list[PathEntry]:
    return [PathEntry(d, why, True) for d in _prefix_site_dirs(prefix, versions, debian)]


def _version_from_cfg(cfg: Mapping[str, str]) -> str | None:
    for key in ("version", "version_info"):
        value = cfg.get(key, "")
        if re.fullmatch(r"\d+\.\d+(\.\d+)?([a-z]+\d*)?", value):
            return value
    return None


def _xy(version: str) -> str:
    return ".".join(version.split(".")[:2])


def resolve_sys_path(python: Path, environ: Mapping[str, str] | None = None) -> SysPath:
    """Every directory `python` will import from, learnt from files alone.

    Raises SourceError if `python` does not exist or no installation can be found for it.
    """
    environ = os.environ if environ is None else environ
    # Absolute but not resolved: a venv's bin/python is a symlink to the base interpreter,
    # and site.venv finds pyvenv.cfg through the path the interpreter was started as.
    exe = Path(os.path.abspath(python))
    if not exe.is_file():
        raise SourceError("interpreter not found", path=str(python))
    real_name = os.path.basename(os.path.realpath(exe))
    if not (_INTERPRETER_NAME.match(exe.name) or _INTERPRETER_NAME.match(real_name)):
        raise SourceError(
            "not a Python interpreter (its name does not start with python or pypy)",
            path=str(python),
            hint="name the interpreter (.venv/bin/python) or its environment with --env",
        )
    name_version = m.group(1) if (m := _VERSION_NAME.match(exe.name)) else None
    exe_dir = exe.parent
    venv_prefix = exe_dir.parent
    cfg_text = None
    for candidate in (exe_dir / "pyvenv.cfg", venv_prefix / "pyvenv.cfg"):
        cfg_text = read_small(candidate, _MAX_CFG_BYTES)
        if cfg_text is not None:
            break
    entries: list[PathEntry] = []
    user_site = not environ.get("PYTHONNOUSERSITE")
    versions: list[str]
    if cfg_text is not None:
        cfg = parse_pyvenv_cfg(cfg_text)
        version = _version_from_cfg(cfg)
        prefix = venv_prefix
        versions = sorted(
            {*_versions_in(prefix), *([_xy(version)] if version else [])}
            | ({name_version} if name_version else set())
        )
        entries += _site_entries(prefix, versions, False, "site-packages of the virtualenv")
        if cfg.get("include-system-site-packages", "").lower() == "true":
            home = cfg.get("home")
            base = _landmark_prefix(Path(home), versions) if home else None
            if base is not None:
                entries += _site_entries(*base, True, "system site-packages (pyvenv.cfg home)")
        else:
            user_site = False
        venv = True
    else:
        home_env = environ.get("PYTHONHOME")
        if home_env:
            prefix = Path(home_env.split(os.pathsep)[0])
            versions = [name_version] if name_version else _versions_in(prefix)
        else:
            try:
                real = exe.resolve(strict=True)
            except (OSError, RuntimeError) as err:
                raise SourceError(f"cannot resolve: {err}", path=str(python)) from err
            real_version = m.group(1) if (m := _VERSION_NAME.match(real.name)) else None
            want = [v for v in (name_version, real_version) if v]
            found = _landmark_prefix(real.parent, want)
            if found is None:
                raise SourceError(
                    "no pyvenv.cfg and no Python installation (lib/pythonX.Y/os.py) "
                    "above this interpreter",
                    path=str(python),
                    hint="name its environment with --env",
                )
            prefix, versions = found
        version = versions[0] if len(versions) == 1 else name_version
        entries += _site_entries(prefix, versions, True, "site-packages")
        venv = False
    if user_site:
        user_base = environ.get("PYTHONUSERBASE") or os.path.join(
            environ.get("HOME", "~"), ".local"
        )
        user_base = os.path.expanduser(user_base)
        entries += [
            PathEntry(Path(user_base, "lib", f"python{v}", "site-packages"), "user site", True)
            for v in versions
        ]
    entries += [
        PathEntry(Path(os.path.abspath(raw)), "PYTHONPATH", False)
        for raw in environ.get("PYTHONPATH", "").split(os.pathsep)
        if raw
    ]
    return SysPath(
        entries=tuple(_with_pth_dirs(_existing(entries))),
        version=version,
        prefix=prefix,
        venv=venv,
    )


def _existing(entries: Iterable[PathEntry]) -> list[PathEntry]:
    """Directories that exist, each once (by real path), first reason kept."""
    out: list[PathEntry] = []
    seen: set[Path] = set()
    for entry in entries:
        try:
            real = entry.path.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if real.is_dir() and real not in seen:
            seen.add(real)
            out.append(PathEntry(real, entry.why, entry.site_dir))
    return out


def pth_directories(site_dir: Path) -> list[PathEntry]:
    """Directories the `.pth` path lines and `*.egg-link` files of one site directory add."""
    try:
        names = sorted(os.listdir(site_dir))
    except OSError:
        return []
    out: list[PathEntry] = []
    for name in names:
        if name.startswith("."):
            continue
        if name.endswith(".pth"):
            try:
                text = read_small(site_dir / name, _MAX_PTH_BYTES)
            except SourceError:
                continue  # too large to read: the heuristics report the file itself
            for line in (text or "").splitlines():
                if not line.strip() or line.startswith("#"):
                    continue
                if line.startswith(("import ", "import\t")):
                    continue  # code: the heuristics judge it; it adds no directory we can know
                if "\x00" in line:
                    continue
                added = Path(os.path.abspath(os.path.join(site_dir, line.rstrip())))
                out.append(PathEntry(added, f".pth line in {site_dir / name}", False))
        elif name.endswith(".egg-link"):
            text = read_small(site_dir / name, _MAX_CFG_BYTES)
            first = (text or "").splitlines()[:1]
            if first and first[0].strip() and "\x00" not in first[0]:
                added = Path(os.path.abspath(os.path.join(site_dir, first[0].strip())))
                out.append(PathEntry(added, f"egg-link {site_dir / name}", False))
    return out


def _with_pth_dirs(entries: list[PathEntry]) -> list[PathEntry]:
    extra: list[PathEntry] = []
    for entry in entries:
        if entry.site_dir:
            extra.extend(pth_directories(entry.path))
    return _existing([*entries, *extra])
